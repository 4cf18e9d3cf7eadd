//! The dev stack's files, read and checked against the server's real
//! configuration (no Docker engine is needed): every `PASSPORT__*` variable in
//! `docker-compose.yml` and the `Dockerfile` must name a real config key, and
//! ports, the health check and the page's directory must match the server's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use config::Source;
use passport_server::Settings;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(name: &str) -> String {
    let path = repo_root().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `PASSPORT__*` assignments in `KEY: value`, `- KEY=value` or `KEY=value`
/// form, quotes removed.
fn passport_vars(text: &str) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    for line in text.lines() {
        let line = line
            .trim()
            .trim_start_matches("- ")
            .trim_start_matches("ENV ");
        for part in line
            .split_whitespace()
            .filter(|p| p.starts_with("PASSPORT"))
        {
            let part = part.trim_end_matches('\\');
            let (key, value) = match part.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => {
                    let Some((k, v)) = line.split_once(':') else {
                        continue;
                    };
                    (k.trim().to_owned(), v.trim().to_owned())
                }
            };
            let value = value.trim_matches('"').trim_matches('\'').to_owned();
            vars.push((key, value));
        }
    }
    vars
}

fn settings_with(vars: &[(String, String)]) -> Settings {
    let env: HashMap<String, String> = vars.iter().cloned().collect();
    // Loading checks every value.
    Settings::load_from(Some(&repo_root().join("config")), &env, false)
        .unwrap_or_else(|e| panic!("the dev stack's environment is not a valid config: {e}"))
}

/// The block of the compose file under `  <service>:` (two-space indent).
fn service_block<'a>(compose: &'a str, service: &str) -> &'a str {
    let header = format!("\n  {service}:\n");
    let start = compose
        .find(&header)
        .unwrap_or_else(|| panic!("service `{service}` missing"))
        + header.len();
    let rest = &compose[start..];
    let end = rest
        .match_indices("\n  ")
        .find(|(i, _)| {
            let next = rest.as_bytes().get(i + 3).copied().unwrap_or(b' ');
            next != b' '
        })
        .map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

#[test]
fn an_unknown_passport_variable_is_refused() {
    // Guards the check below: a misspelt key must not pass silently.
    let env: HashMap<String, String> =
        [("PASSPORT__SERVER__PROT".to_owned(), "8080".to_owned())].into();
    let outcome = Settings::load_from(None, &env, false);
    assert!(outcome.is_err(), "a misspelt key was accepted");
}

#[test]
fn compose_variables_are_real_config_keys_and_agree_with_the_stack() {
    let compose = read("docker-compose.yml");
    let passport = service_block(&compose, "passport");
    let vars = passport_vars(passport);
    assert!(
        vars.len() >= 4,
        "expected PASSPORT__ variables, found {vars:?}"
    );
    for (key, _) in &vars {
        assert!(
            key.starts_with("PASSPORT__"),
            "{key} is not a config variable"
        );
    }
    let settings = settings_with(&vars);

    assert_eq!(
        settings.server.host, "0.0.0.0",
        "the container must listen on all interfaces"
    );
    let published = format!("\"{0}:{0}\"", settings.server.port);
    assert!(
        passport.contains(&published),
        "ports must publish the server's port {}",
        settings.server.port
    );
    assert_eq!(
        settings.store.backend,
        passport_server::configuration::Backend::Redis
    );
    assert!(
        settings.store.redis.url.starts_with("redis://redis:"),
        "the Redis URL must name the compose service `redis`"
    );
    assert!(passport.contains("condition: service_healthy"));

    let redis = service_block(&compose, "redis");
    assert!(redis.contains("redis:7"));
    assert!(
        redis.contains("noeviction"),
        "counters must never be evicted"
    );
    assert!(redis.contains("healthcheck:"));
}

#[test]
fn the_cluster_profile_runs_the_server_on_the_clusters_nodes() {
    let compose = read("docker-compose.yml");
    let server = service_block(&compose, "passport-cluster");
    assert!(server.contains("profiles: [\"cluster\"]"));
    let settings = settings_with(&passport_vars(server));
    assert_eq!(
        settings.store.redis.mode,
        code_store::RedisMode::Cluster,
        "the cluster profile's server must run in cluster mode"
    );
    assert_eq!(settings.store.redis.nodes.len(), 3);
    let init = service_block(&compose, "redis-cluster-init");
    assert!(init.contains("--cluster create") && init.contains("--cluster-yes"));
    for (i, node) in settings.store.redis.nodes.iter().enumerate() {
        let name = format!("redis-node-{}", i + 1);
        assert_eq!(node, &format!("redis://{name}:6379"), "node {i}");
        // Each node is a service of the profile, announced by its name, and
        // joined by the init service.
        assert!(
            compose.contains(&format!("\n  {name}:")),
            "service {name} missing"
        );
        assert!(
            compose.contains(&format!("- --cluster-announce-hostname\n      - {name}\n")),
            "{name} must announce its service name"
        );
        assert!(
            init.contains(&format!("getent hosts {name}")),
            "{name} not joined"
        );
        assert!(init.contains(&format!("{name}:\n        condition: service_healthy")));
    }
    assert!(server.contains("condition: service_completed_successfully"));
    // The default stack stays on one Redis.
    let default = service_block(&compose, "passport");
    assert!(!default.contains("profiles:"));
}

#[test]
fn dockerfile_agrees_with_the_server() {
    let dockerfile = read("Dockerfile");
    let vars = passport_vars(&dockerfile);
    let config_vars: Vec<_> = vars
        .iter()
        .filter(|(k, _)| k.starts_with("PASSPORT__"))
        .cloned()
        .collect();
    assert!(!config_vars.is_empty());
    let settings = settings_with(&config_vars);

    assert!(dockerfile.contains(&format!("EXPOSE {}", settings.server.port)));
    assert!(dockerfile.contains("cargo build --release --locked"));
    assert!(
        dockerfile.contains("USER passport"),
        "the runtime runs as a non-root user"
    );
    assert!(dockerfile.contains(r#"CMD ["passport-server", "healthcheck"]"#));

    // The page directory, relative to WORKDIR, is where web/ is copied.
    let workdir = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("WORKDIR "))
        .next_back()
        .expect("a WORKDIR");
    let page_dir = format!("{}/{}/", workdir.trim(), settings.server.static_dir);
    assert!(
        dockerfile.contains(&format!("COPY web/ {page_dir}")),
        "web/ must be copied to {page_dir}"
    );
    // And the config directory it points at is where config/ is copied.
    let (_, config_dir) = vars
        .iter()
        .find(|(k, _)| k == "PASSPORT_CONFIG_DIR")
        .expect("PASSPORT_CONFIG_DIR set");
    assert!(dockerfile.contains(&format!("COPY config/ {config_dir}/")));
}

#[test]
fn the_image_healthcheck_command_tells_up_from_down() {
    let bin = env!("CARGO_BIN_EXE_passport-server");
    let port = passport_testkit::free_port().to_string();
    let env = [
        ("PASSPORT__SERVER__HOST", "127.0.0.1"),
        ("PASSPORT__SERVER__PORT", port.as_str()),
        ("PASSPORT__SERVER__METRICS_ADDR", ""),
        ("PASSPORT__SERVER__STATIC_DIR", ""),
        ("PASSPORT__LOG__LEVEL", "error"),
    ];
    let healthcheck = || {
        std::process::Command::new(bin)
            .arg("healthcheck")
            .envs(env)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run healthcheck")
            .success()
    };
    assert!(!healthcheck(), "nothing listens yet");

    let mut server = std::process::Command::new(bin)
        .envs(env)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the server");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut up = false;
    while std::time::Instant::now() < deadline {
        if healthcheck() {
            up = true;
            break;
        }
        if let Ok(Some(status)) = server.try_wait() {
            panic!("the server exited: {status}");
        }
        // Poll interval; each turn re-checks the real condition.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = server.kill();
    let _ = server.wait();
    assert!(up, "healthcheck never saw the server up");
    assert!(!healthcheck(), "the server is stopped");
}

/// Leaf keys of a config tree, dotted (`store.redis.url`).
fn leaf_keys(prefix: &str, table: &config::Map<String, config::Value>, out: &mut Vec<String>) {
    for (key, value) in table {
        let dotted = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value.clone().into_table() {
            Ok(inner) => leaf_keys(&dotted, &inner, out),
            Err(_) => out.push(dotted),
        }
    }
}

#[test]
fn the_readme_configuration_table_lists_every_key_with_its_environment_name() {
    let defaults = config::Config::builder()
        .add_source(config::File::from_str(
            &read("config/default.toml"),
            config::FileFormat::Toml,
        ))
        .build()
        .expect("config/default.toml parses");
    let table = defaults.collect().expect("config/default.toml is a table");
    let mut keys = Vec::new();
    leaf_keys("", &table, &mut keys);
    assert!(keys.len() > 30, "too few keys found: {keys:?}");

    let readme = read("README.md");
    for key in keys {
        let env = format!("PASSPORT__{}", key.to_uppercase().replace('.', "__"));
        let row = format!("| `{key}` |");
        let line = readme
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("README's configuration table has no row for `{key}`"));
        assert!(
            line.contains(&format!("`{env}`")),
            "row for `{key}` lacks `{env}`"
        );
    }
}
