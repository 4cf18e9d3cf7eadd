//! The layers: the compiled-in defaults, `<dir>/default.toml`,
//! `<dir>/<PASSPORT_ENV>.toml`, then `PASSPORT__<SECTION>__<KEY>` variables.
//! The environment comes in as a map, so tests (and fuzzers) need not touch
//! the process's own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{ConfigError, Settings};

/// The base layer, compiled in so the binary runs from any working directory.
pub const DEFAULT_TOML: &str = include_str!("../../../../config/default.toml");

impl Settings {
    /// Loads the layers using the process environment: `config_dir` (from
    /// `--config`), else `PASSPORT_CONFIG_DIR`, else `./config` when present.
    pub fn load(config_dir: Option<&Path>) -> Result<Self, ConfigError> {
        let mut env = HashMap::new();
        for (key, value) in std::env::vars_os() {
            let Ok(key) = key.into_string() else { continue };
            if !key.starts_with("PASSPORT") {
                continue;
            }
            let value = value
                .into_string()
                .map_err(|_| ConfigError::new(&key, "not valid UTF-8"))?;
            env.insert(key, value);
        }
        Self::load_from(config_dir, &env, true)
    }

    /// Loads the layers with `env` standing in for the process environment;
    /// `look_in_cwd` allows the `./config` fallback.
    pub fn load_from(
        config_dir: Option<&Path>,
        env: &HashMap<String, String>,
        look_in_cwd: bool,
    ) -> Result<Self, ConfigError> {
        use config::{Config, File, FileFormat};

        let dir: Option<PathBuf> = match (config_dir, env.get("PASSPORT_CONFIG_DIR")) {
            (Some(dir), _) => Some(existing_dir(dir, "--config")?),
            (None, Some(dir)) if !dir.is_empty() => {
                Some(existing_dir(Path::new(dir), "PASSPORT_CONFIG_DIR")?)
            }
            _ => Some(PathBuf::from("config")).filter(|d| look_in_cwd && d.is_dir()),
        };

        let mut builder =
            Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
        if let Some(dir) = &dir {
            builder = builder.add_source(
                File::from(dir.join("default.toml"))
                    .format(FileFormat::Toml)
                    .required(false),
            );
            if let Some(name) = env.get("PASSPORT_ENV").filter(|n| !n.is_empty()) {
                let plain = name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !plain {
                    return Err(ConfigError::new(
                        "PASSPORT_ENV",
                        "must be letters, digits, '-' or '_'",
                    ));
                }
                builder = builder.add_source(
                    File::from(dir.join(format!("{name}.toml")))
                        .format(FileFormat::Toml)
                        .required(false),
                );
            }
        }
        finish(builder, env)
    }

    /// Loads the compiled-in defaults, then `toml` as if it were a config
    /// file, then `env` (only its `PASSPORT__` variables): the loader without
    /// a file system, for fuzzing and property tests.
    pub fn load_toml(toml: &str, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        use config::{Config, File, FileFormat};
        let builder = Config::builder()
            .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
            .add_source(File::from_str(toml, FileFormat::Toml));
        finish(builder, env)
    }
}

/// Adds the environment layer, then deserialises, reads secret files and
/// checks.
fn finish(
    mut builder: config::ConfigBuilder<config::builder::DefaultState>,
    env: &HashMap<String, String>,
) -> Result<Settings, ConfigError> {
    use config::Environment;
    let vars: config::Map<String, String> = env
        .iter()
        .filter(|(k, _)| k.starts_with("PASSPORT__"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    builder = builder.add_source(
        Environment::with_prefix("PASSPORT")
            .prefix_separator("__")
            .separator("__")
            .source(Some(vars)),
    );
    let mut settings: Settings = builder
        .build()
        .and_then(|c| c.try_deserialize())
        .map_err(from_config_error)?;
    settings.read_secret_files()?;
    settings.validate()?;
    Ok(settings)
}

fn existing_dir(dir: &Path, key: &str) -> Result<PathBuf, ConfigError> {
    if dir.is_dir() {
        Ok(dir.to_path_buf())
    } else {
        Err(ConfigError::new(key, "not a directory"))
    }
}

// The config crate's messages may quote the value it refused; ours name the
// key and say what was expected, and only quote values of non-secret kinds.
fn from_config_error(e: config::ConfigError) -> ConfigError {
    use config::ConfigError as E;
    match e {
        E::Type { key, expected, .. } => ConfigError::new(
            key.unwrap_or_else(|| "(root)".to_owned()),
            format!("expected {expected}"),
        ),
        E::NotFound(key) => ConfigError::new(key, "missing"),
        E::At { error, key, .. } => {
            let inner = from_config_error(*error);
            let key = match (key, inner.key.as_str()) {
                (Some(k), "" | "(root)") => k,
                (Some(k), inner_key) => format!("{k}.{inner_key}"),
                (None, _) => inner.key,
            };
            ConfigError::new(key, inner.reason)
        }
        E::FileParse { uri, cause } => {
            let first_line = cause.to_string();
            let first_line = first_line.lines().next().unwrap_or("").to_owned();
            ConfigError::new(
                uri.unwrap_or_else(|| "config file".to_owned()),
                format!("not valid TOML ({first_line})"),
            )
        }
        E::Message(m) => {
            // serde's "unknown field `x`, expected ..." is the usual one.
            let reason = m.lines().next().unwrap_or("").to_owned();
            ConfigError::new("(root)", reason)
        }
        other => ConfigError::new("(root)", other.to_string().lines().next().unwrap_or("")),
    }
}
