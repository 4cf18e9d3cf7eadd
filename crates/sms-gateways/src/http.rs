//! What every gateway shares: the one HTTP client set-up, the round trip of
//! an attempt (transport failures mapped to [`SendError`]), the retry policy,
//! and the reading of an answer as sent, definitely not sent or ambiguous.
//! Each provider keeps its signing and its documented answer codes in its
//! own module.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use verify::{RefusalKind, SendError, SmsMessage};

use crate::config::BuildError;

/// Most bytes of a provider's answer that are read; a success or error body
/// is a few hundred bytes, and a gateway gone wrong must not fill memory.
pub(crate) const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// First wait before a retry; doubled each time up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Most retries a configuration may ask for: each one holds a user's request.
pub(crate) const MAX_RETRIES_LIMIT: u32 = 5;
/// Retries after a connect error for a provider without an idempotency key.
const CONNECT_RETRIES: u32 = 2;

/// A reqwest client with rustls (ring provider, platform verifier), bounded
/// connect and total timeouts and no redirects: a provider that redirects is
/// misconfigured, and following it would send credentials elsewhere.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, BuildError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config()?)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()
        .map_err(|e| BuildError::Client(e.without_url().to_string()))
}

/// A provider's base URL and its client, from the `endpoint` and
/// `timeout_ms` keys of its `section` (`sms.aliyun`), checked in that order.
pub(crate) fn provider_client(
    section: &str,
    endpoint_url: &str,
    timeout_ms: u64,
) -> Result<(reqwest::Url, reqwest::Client), BuildError> {
    let url = endpoint(endpoint_url, &format!("{section}.endpoint"))?;
    let timeout = timeout(timeout_ms, &format!("{section}.timeout_ms"))?;
    Ok((url, client(timeout)?))
}

/// rustls with the ring provider and the platform's roots, given to reqwest
/// ready-made: no process-wide default provider is installed, so a host
/// application stays free to install its own.
fn tls_config() -> Result<rustls::ClientConfig, BuildError> {
    let client_error = |e: rustls::Error| BuildError::Client(e.to_string());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new(Arc::clone(&provider)).map_err(client_error)?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(client_error)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// Checks a gateway's `endpoint`: `https://host[:port]` with nothing after
/// the authority; plain `http://` only for a loopback host (tests, or a local
/// relay), since credentials and codes would otherwise cross the network in
/// clear.
pub(crate) fn endpoint(raw: &str, key: &str) -> Result<reqwest::Url, BuildError> {
    let url = reqwest::Url::parse(raw).map_err(|_| BuildError::invalid(key, "not a URL"))?;
    let Some(host) = url.host_str() else {
        return Err(BuildError::invalid(key, "must have a host"));
    };
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(BuildError::invalid(
                key,
                "must be https:// (http:// only for a loopback host)",
            ));
        }
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(BuildError::invalid(
            key,
            "must be a base URL, scheme://host[:port], without path, query or credentials",
        ));
    }
    Ok(url)
}

/// The `Host` header reqwest sends for `url`: the port only when it is not
/// the scheme's default. Signers sign this exact value.
pub(crate) fn host_header(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The `timeout_ms` of a gateway: 1..=60000.
pub(crate) fn timeout(ms: u64, key: &str) -> Result<Duration, BuildError> {
    if !(1..=60_000).contains(&ms) {
        return Err(BuildError::invalid(key, "must be 1..=60000"));
    }
    Ok(Duration::from_millis(ms))
}

/// A provider's answer: status and (bounded) body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Vec<u8>,
}

/// Sends `request` and reads the answer, mapping transport failures: no
/// byte written (DNS, connect, TLS) → [`SendError::Connect`]; out of time →
/// [`SendError::Timeout`]; anything else → [`SendError::Other`].
async fn exchange(request: reqwest::RequestBuilder) -> Result<Answer, SendError> {
    let mut response = request.send().await.map_err(transport_error)?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(SendError::Other(format!(
                "answer {status} larger than {MAX_ANSWER_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer { status, body })
}

/// One attempt: sends the signed `request` and reads the answer with `read`,
/// the provider's own reading of its status and body.
pub(crate) async fn round_trip(
    request: reqwest::RequestBuilder,
    read: fn(u16, &[u8]) -> Result<(), SendError>,
) -> Result<(), SendError> {
    let answer = exchange(request).await?;
    read(answer.status, &answer.body)
}

fn transport_error(e: reqwest::Error) -> SendError {
    // Checked in this order: reqwest marks a connect that ran out of time as
    // both, and such a request wrote nothing.
    if e.is_connect() {
        SendError::Connect(e.without_url().to_string())
    } else if e.is_timeout() {
        SendError::Timeout
    } else {
        SendError::Other(e.without_url().to_string())
    }
}

/// Runs `attempt` up to `1 + retries` times. A connect error (no byte of the
/// request written) is always worth another try; anything else only when
/// `retry_ambiguous` says the gateway deduplicates, since a timeout or a 5xx
/// may hide an accepted SMS.
pub(crate) async fn with_retries<F, Fut>(
    retries: u32,
    retry_ambiguous: bool,
    gateway: &'static str,
    mut attempt: F,
) -> Result<(), SendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), SendError>>,
{
    let mut backoff = FIRST_BACKOFF;
    let mut retries_left = retries;
    loop {
        let error = match attempt().await {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        let worth_retrying = match &error {
            SendError::Connect(_) => true,
            SendError::Timeout | SendError::Other(_) => retry_ambiguous,
            SendError::Status(status) => retry_ambiguous && *status >= 500,
            SendError::Refused { .. } | SendError::NotSent(_) => false,
        };
        if !worth_retrying || retries_left == 0 {
            return Err(error);
        }
        tracing::warn!(gateway, %error, retries_left, "sms gateway attempt failed; retrying");
        retries_left -= 1;
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Runs `attempt`, retrying only a connect error (no byte of the request
/// written), for a provider without an idempotency key: a timeout or a 5xx
/// may hide an accepted SMS, and a second one would reach the user too.
pub(crate) async fn with_connect_retries<F, Fut>(
    gateway: &'static str,
    attempt: F,
) -> Result<(), SendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), SendError>>,
{
    with_retries(CONNECT_RETRIES, false, gateway, attempt).await
}

/// An answer read by its status alone: a 2xx is sent; any other status is
/// kept as it is ([`SendError::Status`]: a 4xx was not sent, anything else
/// may have been).
pub(crate) fn by_status(status: u16) -> Result<(), SendError> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(SendError::Status(status))
    }
}

/// A 5xx, whatever its body says: the provider may have accepted the request
/// before it failed.
pub(crate) fn server_error(status: u16) -> Result<(), SendError> {
    if status >= 500 {
        Err(SendError::Status(status))
    } else {
        Ok(())
    }
}

/// The provider's JSON answer, or when the body is not one what the status
/// says alone: from 300 up that status; a 2xx with a body that cannot be read
/// may hide an accepted SMS.
pub(crate) fn json_answer<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, SendError> {
    serde_json::from_slice(body).map_err(|_| {
        if status >= 300 {
            SendError::Status(status)
        } else {
            SendError::Other(format!("unreadable answer (HTTP {status})"))
        }
    })
}

/// One of the provider's documented refusals: not sent.
pub(crate) fn refused(kind: RefusalKind, code: impl Into<String>) -> SendError {
    SendError::Refused {
        kind,
        code: code.into(),
    }
}

/// The code's lifetime in whole minutes, rounded up, for the SMS text.
pub(crate) fn minutes(message: &SmsMessage) -> String {
    message.ttl.as_secs().div_ceil(60).to_string()
}

/// `+86` in front of a national mainland number; an E.164 number as it is.
/// [`verify::Mobile`] holds the canonical form: national digits under
/// `mobile.format = "cn"`, `+<cc>...` under `"e164"` (or a `cn` pattern that
/// admits `+`).
pub(crate) fn e164(mobile: &str) -> String {
    if mobile.starts_with('+') {
        mobile.to_owned()
    } else {
        format!("+86{mobile}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked() {
        assert!(endpoint("https://sms.tencentcloudapi.com", "k").is_ok());
        assert!(endpoint("http://127.0.0.1:9000", "k").is_ok());
        assert!(endpoint("http://[::1]:9000/", "k").is_ok());
        for bad in [
            "http://sms.tencentcloudapi.com",
            "https://h/path",
            "https://h/?q=1",
            "https://u:p@h",
            "ftp://h",
            "nonsense",
        ] {
            let e = endpoint(bad, "sms.x.endpoint").unwrap_err();
            assert!(e.to_string().contains("sms.x.endpoint"), "{bad}: {e}");
        }
    }

    #[test]
    fn host_header_has_the_port_only_when_not_default() {
        let url = |s| reqwest::Url::parse(s).unwrap();
        assert_eq!(host_header(&url("https://a.example:443")), "a.example");
        assert_eq!(
            host_header(&url("https://a.example:8883")),
            "a.example:8883"
        );
        assert_eq!(host_header(&url("http://127.0.0.1:80")), "127.0.0.1");
    }

    #[test]
    fn national_numbers_get_the_mainland_prefix() {
        assert_eq!(e164("13812345678"), "+8613812345678");
        assert_eq!(e164("+447700900123"), "+447700900123");
    }
}
