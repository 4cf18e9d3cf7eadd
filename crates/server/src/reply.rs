//! The contract's JSON answers, `{"errno": "...", "errmsg": "..."}`: their
//! HTTP status, headers and the language of `errmsg`.
//!
//! A [`Reply`] carries both languages (its [`Answer`]: errno, status and
//! texts all come from `verify::errno`). Handlers and errors answer in the
//! default form; the request middleware ([`crate::observe`]) renders it again
//! when the client prefers English or `compat.errors_as_200` is on, since an
//! error's `error_response` cannot see the request.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use verify::{Answer, Errno, Lang, VerifyError};

/// One JSON answer of the contract, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// The case, which fixes errno, status and texts.
    pub(crate) answer: Answer,
    retry_after: Option<Duration>,
    extra_header: Option<(header::HeaderName, &'static str)>,
}

impl Reply {
    /// The answer for `answer`, with no extra header.
    pub(crate) fn new(answer: Answer) -> Self {
        Self {
            answer,
            retry_after: None,
            extra_header: None,
        }
    }

    /// The answer for an error of the rules.
    pub(crate) fn from_verify(e: &VerifyError) -> Self {
        Self {
            retry_after: e.retry_after(),
            ..Self::new(e.answer())
        }
    }

    /// 4201 with 405: the route exists, the method does not; `allow` lists
    /// the methods that do.
    pub(crate) fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            extra_header: Some((header::ALLOW, allow)),
            ..Self::new(Answer::MethodNotAllowed)
        }
    }

    /// 4201 with 429 and `Retry-After: 1`: the connection is over its cap
    /// (see `crate::connections`).
    pub(crate) fn connection_refused() -> Self {
        Self {
            retry_after: Some(Duration::from_secs(1)),
            ..Self::new(Answer::RateLimited)
        }
    }

    /// 4101: the bearer key is missing or wrong.
    pub(crate) fn unauthorized() -> Self {
        Self {
            extra_header: Some((header::WWW_AUTHENTICATE, "Bearer")),
            ..Self::new(Answer::Unauthorized)
        }
    }

    /// The HTTP status (before `compat.errors_as_200`).
    pub(crate) fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.answer.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The errno.
    pub(crate) fn errno(&self) -> Errno {
        self.answer.errno()
    }

    /// The HTTP answer. With `errors_as_200` an error still answers 200 (its
    /// errno in the body, `Retry-After` kept), as the seed does.
    pub(crate) fn to_response(&self, lang: Lang, errors_as_200: bool) -> HttpResponse {
        let status = if errors_as_200 {
            StatusCode::OK
        } else {
            self.status()
        };
        let body = ReplyBody {
            errno: self.errno().code(),
            errmsg: self.answer.text(lang),
        };
        let mut builder = HttpResponse::build(status);
        if let Some(after) = self.retry_after {
            // The rules already round up to whole seconds, at least one.
            builder.insert_header((header::RETRY_AFTER, after.as_secs().max(1)));
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

/// The wire form of every JSON answer, errno first as in the seed (the
/// `Reply` schema of the OpenAPI document).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = Reply)]
pub(crate) struct ReplyBody {
    /// The contract's code: `"0"` for success, else the class of the error.
    #[schema(schema_with = errno_schema)]
    errno: &'static str,
    /// A message for the user, in the client's language (`Accept-Language`,
    /// Chinese or English).
    errmsg: &'static str,
}

/// `errno` as a document describes it: a string, one of [`Errno::ALL`].
fn errno_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Errno::ALL.iter().map(|e| e.code())))
        .description(Some(
            "0 success, 4001 store down, 4002 expired or used, 4004 wrong value, \
             4101 bearer key, 4103 bad parameter, 4201 rate limit or routing, \
             4301 SMS sender, 4500 unexpected",
        ))
        .build()
}

/// Why a request got no success answer: the one error type of every route.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// The rules refused (bad parameter, wrong captcha, limit, store, sender).
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The query string is not what the route takes (4103).
    #[error("bad query: {0}")]
    Query(String),
    /// The bearer key is missing or wrong (4101).
    #[error("bearer key missing or wrong")]
    Unauthorized,
    /// Refused before a handler ran (bad body, unknown route, wrong method);
    /// `cause` goes to the log only, and never holds the request's content.
    #[error("{cause}")]
    Refused {
        /// The answer.
        reply: Reply,
        /// Why, for the log.
        cause: &'static str,
    },
}

impl ApiError {
    /// Refuses with `reply`; `cause` goes to the log only.
    pub(crate) fn refused(reply: Reply, cause: &'static str) -> Self {
        Self::Refused { reply, cause }
    }

    fn reply(&self) -> Reply {
        match self {
            Self::Verify(e) => Reply::from_verify(e),
            Self::Query(_) => Reply::new(Answer::Param),
            Self::Unauthorized => Reply::unauthorized(),
            Self::Refused { reply, .. } => reply.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.reply().status()
    }
    fn error_response(&self) -> HttpResponse {
        self.reply().to_response(Lang::Zh, false)
    }
}

/// The language the client prefers among Chinese and English, by
/// `Accept-Language` weights; `default` when it names neither.
pub(crate) fn negotiate(headers: &HeaderMap, default: Lang) -> Lang {
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
            retry_after: Duration::from_secs(2),
        };
        let r = Reply::from_verify(&limited);
        assert_eq!(
            (r.errno(), r.status()),
            (Errno::ReqErr, StatusCode::TOO_MANY_REQUESTS)
        );
        let resp = r.to_response(Lang::Zh, false);
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "2");
        let resp = r.to_response(Lang::En, true);
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "2");
        assert_eq!(
            Reply::from_verify(&VerifyError::CaptchaWrong).status(),
            StatusCode::BAD_REQUEST
        );
    }
}
