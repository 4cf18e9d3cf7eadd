//! [`Secret`]: a configured credential that never shows in a log line, an
//! error or a `Debug`.

use serde::Deserialize;

use crate::config::BuildError;

/// A credential from the config. Empty means unset, as `config/default.toml`
/// writes every optional key as `""`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential itself, for the one place that signs with it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is unset.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(<empty>)"
        } else {
            "Secret(<redacted>)"
        })
    }
}

/// A provider's credential under `key`: [`resolve`] with exactly one of
/// the value and the file set.
pub(crate) fn resolve_required(
    value: &Secret,
    file: &str,
    key: &str,
) -> Result<Secret, BuildError> {
    Ok(resolve(value, file, key, true)?.unwrap_or_default())
}

/// The secret under `key`, given inline or in the file named by
/// `<key>_file` (its content trimmed of surrounding white space, so a
/// trailing newline from an editor or `echo` does not become part of it).
/// Exactly one of the two must be set when `required`.
pub(crate) fn resolve(
    value: &Secret,
    file: &str,
    key: &str,
    required: bool,
) -> Result<Option<Secret>, BuildError> {
    let file_key = format!("{key}_file");
    match (value.is_empty(), file.is_empty()) {
        (false, false) => Err(BuildError::invalid(
            &file_key,
            "set either the value or the file, not both",
        )),
        (false, true) => Ok(Some(value.clone())),
        (true, false) => {
            let text = std::fs::read_to_string(file).map_err(|e| {
                // The error kind only: the path may be fine to show, the
                // content never is, and io errors do not carry it anyway.
                BuildError::invalid(&file_key, &format!("cannot read the file ({})", e.kind()))
            })?;
            let text = text.trim();
            if text.is_empty() {
                return Err(BuildError::invalid(&file_key, "the file is empty"));
            }
            Ok(Some(Secret::new(text)))
        }
        (true, true) if required => Err(BuildError::invalid(
            key,
            &format!("required: set `{key}` or `{file_key}`"),
        )),
        (true, true) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        assert_eq!(format!("{:?}", Secret::new("s3cret")), "Secret(<redacted>)");
        assert_eq!(format!("{:?}", Secret::default()), "Secret(<empty>)");
    }

    #[test]
    fn value_or_file_exactly_one() {
        let dir = std::env::temp_dir().join(format!("sms-gw-secret-{}", std::process::id()));
        std::fs::write(&dir, "  from-file\n").unwrap();
        let path = dir.to_str().unwrap();
        let got = resolve(&Secret::default(), path, "sms.x.key", true).unwrap();
        assert_eq!(got.unwrap().expose(), "from-file");
        let both = resolve(&Secret::new("v"), path, "sms.x.key", true).unwrap_err();
        assert!(both.to_string().contains("sms.x.key_file"), "{both}");
        let none = resolve(&Secret::default(), "", "sms.x.key", true).unwrap_err();
        assert!(none.to_string().contains("`sms.x.key`"), "{none}");
        assert!(
            resolve(&Secret::default(), "", "k", false)
                .unwrap()
                .is_none()
        );
        let missing = resolve(&Secret::default(), "/nonexistent/x", "k", true).unwrap_err();
        assert!(missing.to_string().contains("k_file"));
        std::fs::remove_file(&dir).unwrap();
    }
}
