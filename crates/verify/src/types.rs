//! Parsed input: every value is checked here, at the edge, before any store call.

use std::net::IpAddr;

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
    /// Parses a UUID of at most 36 characters.
    pub fn parse(_raw: &str) -> Result<Self, ParseError> {
        unimplemented!()
    }
    /// The normalised id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A mobile number that matched a [`MobileRule`] (`+86` stripped).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mobile(String);

impl Mobile {
    /// The number as stored in keys (`SMS_<mobile>`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The number with its middle digits hidden (`138****5678`), for logs.
    pub fn masked(&self) -> String {
        unimplemented!()
    }
}

/// The pattern a mobile number must match (default: mainland China).
#[derive(Debug, Clone)]
pub struct MobileRule {
    _pattern: String,
}

impl MobileRule {
    /// The default pattern, `^1[3-9]\d{9}$` (ASCII digits only).
    pub const DEFAULT_PATTERN: &'static str = r"^1[3-9]\d{9}$";

    /// Builds a rule from a regular expression over ASCII digits.
    pub fn new(_pattern: &str) -> Result<Self, ParseError> {
        unimplemented!()
    }
    /// Parses a mobile number (an optional `+86` prefix is accepted and stripped).
    pub fn parse(&self, _raw: &str) -> Result<Mobile, ParseError> {
        unimplemented!()
    }
}

impl Default for MobileRule {
    fn default() -> Self {
        Self {
            _pattern: Self::DEFAULT_PATTERN.to_owned(),
        }
    }
}

/// An SMS code: exactly 6 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsCode(String);

impl SmsCode {
    /// Parses exactly 6 ASCII digits.
    pub fn parse(_raw: &str) -> Result<Self, ParseError> {
        unimplemented!()
    }
    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The client's address, as the rate limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The part of the address a per-IP limit counts: the whole IPv4
    /// address, an IPv6 address's /64.
    pub fn limit_key(&self) -> String {
        unimplemented!()
    }
}
