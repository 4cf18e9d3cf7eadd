//! The contract's JSON answers, `{"errno": "...", "errmsg": "..."}`: their
//! HTTP status, headers and the language of `errmsg`.
//!
//! A [`Reply`] carries both languages. Handlers and errors answer in the
//! default form; the request middleware ([`crate::observe`]) renders it again
//! when the client prefers English or `compat.errors_as_200` is on, since an
//! error's `error_response` cannot see the request.

use std::fmt;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use verify::{Lang, VerifyError};

/// One JSON answer of the contract, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// `"0"` for success, else the seed's errno.
    pub errno: &'static str,
    /// The HTTP status (before `compat.errors_as_200`).
    pub status: StatusCode,
    zh: &'static str,
    en: &'static str,
    retry_after: Option<Duration>,
    extra_header: Option<(header::HeaderName, &'static str)>,
}

impl Reply {
    /// A success, `errno` "0".
    pub fn ok(zh: &'static str, en: &'static str) -> Self {
        Self::new("0", StatusCode::OK, zh, en)
    }

    fn new(errno: &'static str, status: StatusCode, zh: &'static str, en: &'static str) -> Self {
        Self {
            errno,
            status,
            zh,
            en,
            retry_after: None,
            extra_header: None,
        }
    }

    /// The answer for an error of the rules.
    pub fn from_verify(e: &VerifyError) -> Self {
        let errno = e.errno();
        let status = match errno {
            "4001" => StatusCode::SERVICE_UNAVAILABLE,
            "4002" | "4004" | "4103" => StatusCode::BAD_REQUEST,
            "4101" => StatusCode::UNAUTHORIZED,
            "4201" => StatusCode::TOO_MANY_REQUESTS,
            "4301" => StatusCode::BAD_GATEWAY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self {
            retry_after: e.retry_after(),
            ..Self::new(errno, status, e.message(Lang::Zh), e.message(Lang::En))
        }
    }

    /// 4103: a parameter missing or malformed, the body not JSON, too large
    /// (413) or of the wrong type (415).
    pub fn param(status: StatusCode) -> Self {
        Self::new("4103", status, "参数错误", "Invalid parameters")
    }

    /// 4201 with 404: no such route.
    pub fn not_found() -> Self {
        Self::new("4201", StatusCode::NOT_FOUND, "非法请求", "Invalid request")
    }

    /// 4201 with 405: the route exists, the method does not; `allow` lists
    /// the methods that do.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            extra_header: Some((header::ALLOW, allow)),
            ..Self::new(
                "4201",
                StatusCode::METHOD_NOT_ALLOWED,
                "非法请求",
                "Invalid request",
            )
        }
    }

    /// 4101: the bearer key is missing or wrong.
    pub fn unauthorized() -> Self {
        Self {
            extra_header: Some((header::WWW_AUTHENTICATE, "Bearer")),
            ..Self::new(
                "4101",
                StatusCode::UNAUTHORIZED,
                "认证失败",
                "Authentication required",
            )
        }
    }

    /// 4500: anything unexpected.
    pub fn unexpected() -> Self {
        Self::new(
            "4500",
            StatusCode::INTERNAL_SERVER_ERROR,
            "服务器内部错误",
            "Internal server error",
        )
    }

    /// The `errmsg` in `lang`.
    pub fn message(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }

    /// The HTTP answer. With `errors_as_200` an error still answers 200 (its
    /// errno in the body, `Retry-After` kept), as the seed does.
    pub fn to_response(&self, lang: Lang, errors_as_200: bool) -> HttpResponse {
        let status = if errors_as_200 {
            StatusCode::OK
        } else {
            self.status
        };
        let body = Body {
            errno: self.errno,
            errmsg: self.message(lang),
        };
        let mut builder = HttpResponse::build(status);
        if let Some(after) = self.retry_after {
            // Whole seconds, rounded up: "0" would invite an immediate retry.
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            builder.insert_header((header::RETRY_AFTER, secs.max(1)));
        }
        if let Some((name, value)) = &self.extra_header {
            builder.insert_header((name.clone(), HeaderValue::from_static(value)));
        }
        builder.insert_header((header::CACHE_CONTROL, "no-store"));
        let mut response = builder.json(body);
        response.extensions_mut().insert(self.clone());
        response
    }
}

/// The wire form, errno first as in the seed.
#[derive(serde::Serialize)]
struct Body {
    errno: &'static str,
    errmsg: &'static str,
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "errno {}", self.errno)
    }
}

/// A request refused before it reached a handler (bad body, bad query,
/// unknown route): its [`Reply`] and, for the log, why.
#[derive(Debug)]
pub struct Refused {
    reply: Reply,
    cause: String,
}

impl Refused {
    /// Refuses with `reply`; `cause` goes to the log only.
    pub fn new(reply: Reply, cause: impl Into<String>) -> Self {
        Self {
            reply,
            cause: cause.into(),
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cause)
    }
}

impl ResponseError for Refused {
    fn status_code(&self) -> StatusCode {
        self.reply.status
    }
    fn error_response(&self) -> HttpResponse {
        self.reply.to_response(Lang::Zh, false)
    }
}

/// The language the client prefers among Chinese and English, by
/// `Accept-Language` weights; `default` when it names neither.
pub fn negotiate(headers: &HeaderMap, default: Lang) -> Lang {
    let mut best: Option<(f32, Lang)> = None;
    for value in headers.get_all(header::ACCEPT_LANGUAGE) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            let lang = if primary.eq_ignore_ascii_case("en") {
                Lang::En
            } else if primary.eq_ignore_ascii_case("zh") {
                Lang::Zh
            } else {
                continue;
            };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q.is_nan() || q <= 0.0 {
                continue;
            }
            // Equal weights: the first listed wins.
            if best.is_none_or(|(best_q, _)| q > best_q) {
                best = Some((q, lang));
            }
        }
    }
    best.map_or(default, |(_, lang)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderName;

    fn accept(v: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            HeaderName::from_static("accept-language"),
            HeaderValue::from_str(v).unwrap(),
        );
        map
    }

    #[test]
    fn english_only_when_preferred() {
        assert_eq!(negotiate(&accept("en-US,en;q=0.9"), Lang::Zh), Lang::En);
        assert_eq!(
            negotiate(&accept("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh),
            Lang::Zh
        );
        assert_eq!(
            negotiate(&accept("zh;q=0.5, EN-gb;q=0.7"), Lang::Zh),
            Lang::En
        );
        assert_eq!(negotiate(&accept("fr-FR"), Lang::Zh), Lang::Zh);
        assert_eq!(negotiate(&accept("fr-FR"), Lang::En), Lang::En);
        assert_eq!(negotiate(&accept("en;q=0, zh"), Lang::En), Lang::Zh);
        assert_eq!(negotiate(&accept("en;q=abc"), Lang::Zh), Lang::En);
        assert_eq!(negotiate(&HeaderMap::new(), Lang::Zh), Lang::Zh);
    }

    #[test]
    fn statuses_follow_the_errno() {
        let limited = VerifyError::RateLimited {
            limit: verify::Limit::SmsPerIp,
            retry_after: Duration::from_millis(1500),
        };
        let r = Reply::from_verify(&limited);
        assert_eq!((r.errno, r.status), ("4201", StatusCode::TOO_MANY_REQUESTS));
        let resp = r.to_response(Lang::Zh, false);
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "2");
        let resp = r.to_response(Lang::En, true);
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "2");
        assert_eq!(
            Reply::from_verify(&VerifyError::CaptchaWrong).status,
            StatusCode::BAD_REQUEST
        );
    }
}
