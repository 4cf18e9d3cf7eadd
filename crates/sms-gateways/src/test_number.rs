//! [`TestNumber`]: a number that gets a fixed code and never an SMS
//! (`sms.test_numbers`), and the two forms it is written in.

use serde::Deserialize;

/// One entry of `sms.test_numbers`: in a file a table
/// `{ mobile = "...", code = "..." }` (or the string `"mobile:code"`); from
/// the environment one string of `mobile:code` pairs, comma-separated
/// (`PASSPORT__SMS__TEST_NUMBERS=13800000000:246810,+447700900123:135790`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestNumber {
    /// The number, in any spelling the mobile rule accepts.
    pub mobile: String,
    /// Its fixed code: six digits.
    pub code: String,
}

// The code would let anyone sign in as the number: never shown.
impl std::fmt::Debug for TestNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestNumber")
            .field("mobile", &self.mobile)
            .field("code", &"******")
            .finish()
    }
}

impl std::str::FromStr for TestNumber {
    type Err = String;

    /// `mobile:code`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (mobile, code) = s
            .rsplit_once(':')
            .ok_or_else(|| "a test number is `mobile:code`".to_owned())?;
        Ok(Self {
            mobile: mobile.trim().to_owned(),
            code: code.trim().to_owned(),
        })
    }
}

/// A list of tables or `mobile:code` strings, or one comma-separated
/// string of them (the environment's form).
pub(crate) fn test_numbers<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<TestNumber>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Table(TestNumber),
        Pair(String),
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Many(Vec<Entry>),
        One(String),
    }
    let pairs = |s: &str| -> Result<Vec<TestNumber>, D::Error> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().map_err(serde::de::Error::custom))
            .collect()
    };
    match List::deserialize(d)? {
        List::One(s) => pairs(&s),
        List::Many(entries) => {
            let mut out = Vec::new();
            for entry in entries {
                match entry {
                    Entry::Table(t) => out.push(t),
                    Entry::Pair(s) => out.extend(pairs(&s)?),
                }
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GatewaysConfig;

    #[test]
    fn test_numbers_come_as_tables_or_pairs() {
        let c: GatewaysConfig = serde_json::from_str(
            r#"{"sender": "log", "test_numbers": [
                {"mobile": "13800000000", "code": "246810"}, "+447700900123:135790"]}"#,
        )
        .unwrap();
        let want = [
            TestNumber {
                mobile: "13800000000".to_owned(),
                code: "246810".to_owned(),
            },
            TestNumber {
                mobile: "+447700900123".to_owned(),
                code: "135790".to_owned(),
            },
        ];
        assert_eq!(c.test_numbers, want);
        let c: GatewaysConfig = serde_json::from_str(
            r#"{"sender": "log", "test_numbers": "13800000000:246810, +447700900123:135790"}"#,
        )
        .unwrap();
        assert_eq!(c.test_numbers, want);
        assert!(!format!("{c:?}").contains("246810"));
        let none: GatewaysConfig = serde_json::from_str(r#"{"sender": "log"}"#).unwrap();
        assert!(none.test_numbers.is_empty());
        assert!(
            serde_json::from_str::<GatewaysConfig>(r#"{"sender": "log", "test_numbers": "138"}"#)
                .is_err()
        );
    }
}
