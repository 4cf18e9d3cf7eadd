//! Entry points for the fuzz targets (`fuzz/`) and the property tests
//! (`tests/parsers.rs`): each parser of the server that takes outside input,
//! called exactly as a request calls it. Behind the `fuzzing` feature; not
//! part of the crate's API.

use std::collections::HashMap;
use std::net::IpAddr;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use verify::{ImageCodeId, Mobile, MobileRule, ParseError, SmsCode};

use crate::client_ip::{IpNet, TrustedProxies};
use crate::configuration::{ConfigError, Settings};
use crate::routes::sms_code::{SmsCodeBody, SmsCodeRequest};
use crate::routes::verify_sms_code::{CheckBody, CheckRequest};

/// What a parser refused, as the answer would name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The bytes are not a JSON object (the extractor's 4103).
    NotAnObject,
    /// A field or parameter was refused (4103, or 4004 for the mobile).
    Field(ParseError),
    /// The query string is not what the route takes (4103).
    Query,
}

/// The query string of `GET /passport/image_code` (and `audio_code`).
pub fn code_id_query(query: &str) -> Result<ImageCodeId, Refused> {
    crate::routes::image_code::parse_code_id(query).map_err(|_| Refused::Query)
}

/// The body of `POST /passport/sms_code` through the handler's parsing, on
/// the default mobile rule: the parsed mobile, the trimmed typed captcha and
/// the id.
pub fn sms_code_body(bytes: &[u8]) -> Result<(Mobile, String, ImageCodeId), Refused> {
    let body: SmsCodeBody = serde_json::from_slice(bytes).map_err(|_| Refused::NotAnObject)?;
    let fields = SmsCodeRequest::read(&body).map_err(Refused::Field)?;
    let id = ImageCodeId::parse(fields.image_code_id).map_err(Refused::Field)?;
    let mobile = MobileRule::default()
        .parse(fields.mobile)
        .map_err(Refused::Field)?;
    let typed = verify::check_typed(fields.image_code).map_err(Refused::Field)?;
    Ok((mobile, typed.to_owned(), id))
}

/// The body of `POST /passport/sms_code/verify`, on the default mobile rule.
pub fn check_body(bytes: &[u8]) -> Result<(Mobile, SmsCode), Refused> {
    let body: CheckBody = serde_json::from_slice(bytes).map_err(|_| Refused::NotAnObject)?;
    let fields = CheckRequest::read(&body).map_err(Refused::Field)?;
    let code = SmsCode::parse(fields.sms_code).map_err(Refused::Field)?;
    let mobile = MobileRule::default()
        .parse(fields.mobile)
        .map_err(Refused::Field)?;
    Ok((mobile, code))
}

/// The client a request from `peer` with these `X-Forwarded-For` values
/// counts as, when `trusted` (IPs or CIDRs; unparsable ones are skipped) are
/// the trusted proxies.
pub fn forwarded_for(trusted: &[&str], peer: IpAddr, values: &[&[u8]]) -> IpAddr {
    let nets: Vec<IpNet> = trusted.iter().filter_map(|t| t.parse().ok()).collect();
    let mut headers = HeaderMap::new();
    for value in values {
        // Bytes no header may hold never reach the server: the HTTP parser
        // refuses them first.
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(HeaderName::from_static("x-forwarded-for"), value);
        }
    }
    TrustedProxies::new(nets).client_of(peer, &headers)
}

/// The key of an `Authorization` header value, if it is a bearer key.
pub fn authorization(value: &str) -> Option<&str> {
    crate::routes::verify_sms_code::bearer_key(value)
}

/// The configuration loader: the defaults, `toml` as a config file, then the
/// `PASSPORT__` variables of `env`.
pub fn config(toml: &str, env: &HashMap<String, String>) -> Result<Settings, ConfigError> {
    Settings::load_toml(toml, env)
}
