//! Parsed input: every value is checked here, at the edge, before any store call.

use std::net::IpAddr;
use std::sync::LazyLock;

use regex::bytes::Regex;

/// Why an input value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A required parameter is missing or empty.
    #[error("missing parameter `{0}`")]
    Missing(&'static str),
    /// A parameter is malformed (wrong shape, too long, not ASCII ...).
    #[error("malformed parameter `{0}`")]
    Malformed(&'static str),
    /// The mobile number does not match the configured pattern.
    #[error("mobile number not valid")]
    InvalidMobile,
}

/// A captcha id: a UUID, normalised to lower-case hyphenated form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageCodeId(String);

impl ImageCodeId {
    /// The longest id accepted: a hyphenated UUID.
    pub const MAX_LEN: usize = 36;

    /// Parses a UUID of at most 36 characters (hyphenated or simple form, any
    /// case); the result is lower-case hyphenated.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        if raw.is_empty() {
            return Err(ParseError::Missing("image_code_id"));
        }
        // The length cap also rules out the braced and `urn:uuid:` forms, so
        // one id has one spelling in a key.
        if raw.len() > Self::MAX_LEN {
            return Err(ParseError::Malformed("image_code_id"));
        }
        let uuid =
            uuid::Uuid::try_parse(raw).map_err(|_| ParseError::Malformed("image_code_id"))?;
        Ok(Self(uuid.hyphenated().to_string()))
    }

    /// The normalised id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ImageCodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A mobile number that matched a [`MobileRule`], in its canonical form:
/// the national digits under [`MobileFormat::Cn`] (`13812345678`), `+` and
/// the digits under [`MobileFormat::E164`] (`+447700900123`). Every spelling
/// of one number parses to the same value, so one phone has one key
/// (`SMS_<mobile>`) and one budget; parsing [`Mobile::as_str`] again gives
/// the same `Mobile`.
///
/// Its `Debug` and `Display` forms are masked (`138****5678`) so a number
/// never reaches a log line whole by accident; [`Mobile::as_str`] gives the
/// canonical number itself.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Mobile(String);

impl Mobile {
    /// The canonical number, as stored in keys (`SMS_<mobile>`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with its middle digits hidden (`138****5678`), for logs.
    pub fn masked(&self) -> String {
        let s = &self.0;
        // Only ASCII is ever accepted, so byte slicing is on char boundaries.
        if s.len() >= 8 && s.is_ascii() {
            format!("{}****{}", &s[..3], &s[s.len() - 4..])
        } else {
            "****".to_owned()
        }
    }
}

impl std::fmt::Debug for Mobile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Mobile").field(&self.masked()).finish()
    }
}

// Masked rather than canonical: `%mobile` in a log line must not print a
// number whole. The canonical form is `as_str()`.
impl std::fmt::Display for Mobile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

/// How numbers are written and keyed: the `[mobile]` table's `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MobileFormat {
    /// `"cn"` (the default): mainland China numbers, keyed by their national
    /// digits. A `+86`, `0086` or `86` in front is dropped.
    #[default]
    Cn,
    /// `"e164"`: international numbers, keyed as `+<country code><number>`
    /// (at most 15 digits). The country code may follow `+`, `00` or nothing:
    /// `+447700900123`, `00447700900123` and `447700900123` are one number.
    /// A number without its country code is read as if it had one, so a
    /// mainland user types `86...` or `+86...`.
    E164,
}

/// Which mobile numbers are accepted, and how they are normalised.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(try_from = "MobileTable")]
pub struct MobileRule {
    format: MobileFormat,
    pattern: String,
    regex: Regex,
}

/// The `[mobile]` config table: `format` (`"cn"` or `"e164"`, default
/// `"cn"`) and `pattern`, the regular expression a number's canonical form
/// must match (empty: the format's own, [`MobileRule::DEFAULT_PATTERN`] or
/// [`MobileRule::DEFAULT_E164_PATTERN`]).
#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct MobileTable {
    format: MobileFormat,
    pattern: String,
}

impl TryFrom<MobileTable> for MobileRule {
    type Error = String;

    fn try_from(table: MobileTable) -> Result<Self, Self::Error> {
        MobileRule::with_format(table.format, &table.pattern).map_err(|e| format!("pattern: {e}"))
    }
}

static DEFAULT_RULE: LazyLock<MobileRule> = LazyLock::new(|| {
    MobileRule::new(MobileRule::DEFAULT_PATTERN)
        .unwrap_or_else(|e| unreachable!("the default mobile pattern compiles: {e}"))
});

/// Typed between the digits and dropped: `138 1234 5678`, `+44 7700-900123`.
const SEPARATORS: [char; 2] = [' ', '-'];

impl MobileRule {
    /// The default pattern of [`MobileFormat::Cn`], `^1[3-9]\d{9}$` (ASCII
    /// digits only).
    pub const DEFAULT_PATTERN: &'static str = r"^1[3-9]\d{9}$";

    /// The default pattern of [`MobileFormat::E164`]: `+`, a country code
    /// that does not start with 0, 8 to 15 digits in all.
    pub const DEFAULT_E164_PATTERN: &'static str = r"^\+[1-9]\d{7,14}$";

    /// The longest raw input looked at (separators included); anything
    /// longer is refused before the regex runs.
    pub const MAX_LEN: usize = 32;

    /// A [`MobileFormat::Cn`] rule from a regular expression over ASCII
    /// digits.
    ///
    /// The pattern must match the whole number: it is anchored at both ends
    /// whether or not it says `^...$` itself. Whatever it allows, a number
    /// only ever holds ASCII digits (and, for E.164 patterns, a leading `+`).
    pub fn new(pattern: &str) -> Result<Self, ParseError> {
        if pattern.is_empty() {
            return Err(ParseError::Missing("mobile_pattern"));
        }
        Self::with_format(MobileFormat::Cn, pattern)
    }

    /// A rule for `format`; an empty `pattern` is the format's default. The
    /// pattern is matched against the canonical form (`+447700900123` under
    /// [`MobileFormat::E164`]).
    pub fn with_format(format: MobileFormat, pattern: &str) -> Result<Self, ParseError> {
        let pattern = match (pattern, format) {
            ("", MobileFormat::Cn) => Self::DEFAULT_PATTERN,
            ("", MobileFormat::E164) => Self::DEFAULT_E164_PATTERN,
            (p, _) => p,
        };
        // Byte-oriented and Unicode off: `\d` and `[0-9]` mean ASCII digits
        // (numbers are checked to be ASCII before matching anyway), and no
        // Unicode tables are needed.
        let regex = regex::bytes::RegexBuilder::new(&format!("^(?:{pattern})$"))
            .unicode(false)
            // A configured pattern is trusted, but keep a typo from building
            // a huge automaton.
            .size_limit(1 << 20)
            .build()
            .map_err(|_| ParseError::Malformed("mobile_pattern"))?;
        Ok(Self {
            format,
            pattern: pattern.to_owned(),
            regex,
        })
    }

    /// The pattern in force (the format's default when none was given).
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The format numbers are read in.
    pub fn format(&self) -> MobileFormat {
        self.format
    }

    /// Parses a mobile number into its canonical form (see [`MobileFormat`]);
    /// spaces and hyphens between the digits are dropped.
    ///
    /// Empty → [`ParseError::Missing`]; anything else that is not a number
    /// the rule allows → [`ParseError::InvalidMobile`].
    pub fn parse(&self, raw: &str) -> Result<Mobile, ParseError> {
        if raw.is_empty() {
            return Err(ParseError::Missing("mobile"));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(ParseError::InvalidMobile);
        }
        let number: String = raw.chars().filter(|c| !SEPARATORS.contains(c)).collect();
        let (plus, digits) = match number.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, number.as_str()),
        };
        // Checked before the regex: `\d` is Unicode-aware by default and
        // would accept full-width or Arabic-Indic digits.
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::InvalidMobile);
        }
        let canonical = match self.format {
            MobileFormat::Cn => self.national(plus, digits),
            MobileFormat::E164 => Self::international(plus, digits),
        }
        .ok_or(ParseError::InvalidMobile)?;
        if !self.regex.is_match(canonical.as_bytes()) {
            return Err(ParseError::InvalidMobile);
        }
        Ok(Mobile(canonical))
    }

    /// The national form: `+86` always dropped (as before), `0086` and `86`
    /// when what follows is a number the pattern allows, so each spelling of
    /// a mainland number is one key. Another `+<cc>` stays as typed, for
    /// patterns that admit it.
    fn national(&self, plus: bool, digits: &str) -> Option<String> {
        if plus {
            return match digits.strip_prefix("86") {
                Some("") => None,
                Some(national) => Some(national.to_owned()),
                None => Some(format!("+{digits}")),
            };
        }
        for prefix in ["0086", "86"] {
            if let Some(national) = digits.strip_prefix(prefix)
                && !national.is_empty()
                && self.regex.is_match(national.as_bytes())
            {
                return Some(national.to_owned());
            }
        }
        Some(digits.to_owned())
    }

    /// `+<country code><number>`: after `+`, after `00`, or the bare digits.
    fn international(plus: bool, digits: &str) -> Option<String> {
        let digits = match digits.strip_prefix("00") {
            Some(rest) if !plus => rest,
            _ => digits,
        };
        // E.164: at most 15 digits, and no country code starts with 0.
        if digits.is_empty() || digits.len() > 15 || digits.starts_with('0') {
            return None;
        }
        Some(format!("+{digits}"))
    }
}

impl Default for MobileRule {
    fn default() -> Self {
        DEFAULT_RULE.clone()
    }
}

/// An SMS code: exactly 6 ASCII digits.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsCode(String);

impl SmsCode {
    /// Digits in a code.
    pub const LEN: usize = 6;

    /// Parses exactly 6 ASCII digits.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        if raw.is_empty() {
            return Err(ParseError::Missing("sms_code"));
        }
        if raw.len() != Self::LEN || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::Malformed("sms_code"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// A code is a secret: keep it out of `{:?}` in logs and panics.
impl std::fmt::Debug for SmsCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmsCode(******)")
    }
}

/// The client's address, as the rate limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The part of the address a per-IP limit counts: the whole IPv4
    /// address, an IPv6 address's /64.
    ///
    /// An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) counts as its IPv4
    /// address, so a dual-stack listener cannot hand one client two budgets.
    pub fn limit_key(&self) -> String {
        match self.0.to_canonical() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                // One end site usually gets a whole /64: counting single
                // addresses would let a client rotate through 2^64 of them.
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

impl From<IpAddr> for ClientIp {
    fn from(ip: IpAddr) -> Self {
        Self(ip)
    }
}

impl SmsCode {
    /// Wraps digits made by Passport itself (already six ASCII digits).
    pub(crate) fn from_digits(digits: String) -> Self {
        debug_assert!(digits.len() == Self::LEN && digits.bytes().all(|b| b.is_ascii_digit()));
        Self(digits)
    }
}
