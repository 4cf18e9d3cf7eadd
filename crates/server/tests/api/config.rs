//! The built binary: configuration errors stop it with one line naming the
//! key; a good configuration serves, answers `healthcheck`, and stops on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_passport-server");

/// The binary, run from an empty directory, with no PASSPORT variables but `vars`.
fn passport(vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("PASSPORT") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(std::env::temp_dir());
    cmd.envs(vars.iter().copied());
    cmd.stdin(Stdio::null());
    cmd
}

#[test]
fn a_bad_value_exits_non_zero_naming_the_key() {
    for (var, value, key) in [
        ("PASSPORT__CAPTCHA__WIDTH", "5000", "captcha.width"),
        ("PASSPORT__SERVER__PORT", "http", "server.port"),
        ("PASSPORT__STORE__BACKEND", "mongodb", "store.backend"),
        ("PASSPORT__SMS__SENDER", "carrier-pigeon", "sms.sender"),
        (
            "PASSPORT__LIMITS__SMS_PER_IP_PER_HOUR",
            "-1",
            "limits.sms_per_ip_per_hour",
        ),
        (
            "PASSPORT__SERVER__METRICS_ADDR",
            "everywhere",
            "server.metrics_addr",
        ),
        ("PASSPORT__CAPTCHA__WIDHT", "100", "widht"),
    ] {
        let out = passport(&[(var, value)]).output().unwrap();
        assert!(!out.status.success(), "{var}={value} started");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("config error: "), "{stderr}");
        assert!(stderr.contains(key), "{var}={value}: {stderr}");
    }
}

#[test]
fn secrets_are_not_printed() {
    let out = passport(&[
        ("PASSPORT__VERIFY_API__KEY", "hunter2 secret"),
        ("PASSPORT__STORE__BACKEND", "redis"),
        ("PASSPORT__STORE__REDIS__URL", "http://user:pa55word@host"),
    ])
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("store.redis.url") || stderr.contains("verify_api.key"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hunter2") && !stderr.contains("pa55word"),
        "{stderr}"
    );
}

#[test]
fn serves_from_any_directory_answers_healthcheck_and_stops_on_sigterm() {
    let port = passport_testkit::free_port().to_string();
    let vars = [
        ("PASSPORT__SERVER__PORT", port.as_str()),
        ("PASSPORT__SERVER__METRICS_ADDR", ""),
    ];
    // Nothing is listening yet.
    assert!(
        !passport(&vars)
            .arg("healthcheck")
            .status()
            .unwrap()
            .success()
    );

    let mut server = passport(&vars)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let up = passport(&vars)
            .arg("healthcheck")
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        if up {
            break;
        }
        assert!(Instant::now() < deadline, "no healthy server within 20 s");
        assert!(server.try_wait().unwrap().is_none(), "the server exited");
        // Polling for readiness, each turn re-checks.
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.wait().unwrap();
    assert!(exit.success(), "SIGTERM ends it cleanly: {exit:?}");
}

#[test]
fn config_dir_and_env_file_layer_under_the_environment() {
    let dir = std::env::temp_dir().join(format!("passport-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("default.toml"), "[captcha]\nwidth = 2000\n").unwrap();
    let out = passport(&[]).arg("--config").arg(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("captcha.width"),
        "{stderr}"
    );
    // The environment file, then the variables, override it; healthcheck
    // only loads the configuration, so it fails on "connection refused".
    std::fs::write(dir.join("prod.toml"), "[captcha]\nwidth = 300\n").unwrap();
    let port = passport_testkit::free_port().to_string();
    let out = passport(&[("PASSPORT_ENV", "prod"), ("PASSPORT__SERVER__PORT", &port)])
        .arg("--config")
        .arg(&dir)
        .arg("healthcheck")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("config error"), "{stderr}");
    let out = passport(&[("PASSPORT_CONFIG_DIR", dir.to_str().unwrap())])
        .arg("healthcheck")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("captcha.width"));
    std::fs::remove_dir_all(&dir).unwrap();
}
