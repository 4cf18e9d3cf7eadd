//! [`Secret`] and the `*_file` keys that hold secrets.

use std::fmt;

use serde::Deserialize;

use super::ConfigError;

/// A secret string (bearer key, webhook secret, Redis URL with password):
/// its `Debug` form never shows it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether it is unset.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(<empty>)"
        } else {
            "Secret(<redacted>)"
        })
    }
}

/// Reads the secret in the file at `path` (empty: none), trailing newline
/// dropped. `key` names the `*_file` key for the error.
pub(crate) fn read_secret_file(path: &str, key: &str) -> Result<Option<String>, ConfigError> {
    if path.is_empty() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(key, format!("cannot read the file ({})", e.kind())))?;
    Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()))
}

/// `value` from the file at `path` when set; both set is an error, since
/// which one wins would be a guess.
pub(crate) fn secret_or_file(value: &mut Secret, path: &str, key: &str) -> Result<(), ConfigError> {
    if !value.is_empty() && !path.is_empty() {
        return Err(ConfigError::new(
            key,
            "set either the value or the file, not both",
        ));
    }
    if let Some(s) = read_secret_file(path, key)? {
        *value = Secret(s);
    }
    Ok(())
}
