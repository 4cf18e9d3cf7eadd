//! `GET /passport/audio_code?code_id=<uuid>&lang=zh|en`: the audio
//! alternative to the image (WCAG 2.2 SC 1.1.1), a new answer spoken as WAV.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use verify::captcha_audio::{self, Lang as AudioLang};
use verify::{Errno, Lang};

use crate::reply::{ApiError, negotiate};
use crate::routes::image_code::parse_code_id;
use crate::state::AppState;

/// `code_id` is parsed as for the image; other parameters are ignored.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LangQuery {
    /// The language spoken: `zh` or `en`; when absent, the one
    /// `Accept-Language` prefers, else `messages.default_lang`.
    #[param(value_type = Option<String>, pattern = "^(zh|en)$", example = "en")]
    lang: Option<String>,
}

/// `lang` from the query, else the client's `Accept-Language`, else the
/// configured default; anything but `zh` or `en` is refused.
fn parse_lang(req: &HttpRequest, default: Lang) -> Result<AudioLang, ApiError> {
    let query = web::Query::<LangQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::Query(e.to_string()))?;
    match query.into_inner().lang {
        Some(lang) => AudioLang::parse(&lang).map_err(|_| ApiError::Query("lang".to_owned())),
        None => Ok(match negotiate(req.headers(), default) {
            Lang::Zh => AudioLang::Zh,
            Lang::En => AudioLang::En,
        }),
    }
}

/// Speaks a new answer for `code_id`, stores it, answers the WAV.
#[utoipa::path(
    get,
    path = "/passport/audio_code",
    tag = "captcha",
    operation_id = "get_audio_code",
    summary = "The audio alternative: a new 6-digit answer for an id, spoken",
    description = "Makes a new answer for `code_id` (replacing the image's: the picture \
shown is void from then on) and answers it spoken as WAV (16-bit PCM, mono, 8 kHz, \
4-10 s). The typed digits go to `POST /passport/sms_code` as `image_code`. Same \
per-IP limit as the image.",
    params(crate::routes::image_code::ImageCodeQuery, LangQuery),
    responses((
        status = 200,
        description = "The challenge, spoken",
        content(("audio/wav")),
        headers(("Cache-Control" = String, description = "`no-store`"))
    ))
)]
pub(crate) async fn get_audio_code(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // Both parameters before anything else: bad input never reaches the store.
    let id = parse_code_id(req.query_string())?;
    let lang = parse_lang(&req, state.default_lang)?;
    let ip = state.proxies.client_ip(&req);
    let wav = state.passport.issue_audio_captcha(&id, &ip, lang).await?;
    state.metrics.captcha_issued();
    state.metrics.outcome(Errno::Ok);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, captcha_audio::MIME))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(wav))
}
