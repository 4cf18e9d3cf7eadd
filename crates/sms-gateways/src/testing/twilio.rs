//! The stand-in Twilio (Messages API).

use std::collections::HashMap;

use verify::SmsCode;

use super::{Reply, Request, Sent};

/// Twilio Messages API, holding `config`'s true auth token. The code is the
/// first run of six digits in `Body`.
pub fn twilio(config: &crate::twilio::TwilioConfig) -> impl Fn(&Request) -> Reply + use<> {
    use crate::twilio::basic_auth;
    let config = config.clone();
    move |request| {
        let path = format!("/2010-04-01/Accounts/{}/Messages.json", config.account_sid);
        if request.header("authorization")
            != basic_auth(&config.account_sid, config.auth_token.expose())
        {
            // Twilio's error answer (code, message, more_info, status) for
            // 20003, <https://www.twilio.com/docs/errors/20003>.
            return Reply::Json(
                401,
                r#"{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}"#.to_owned(),
            );
        }
        let form: HashMap<String, String> = url_form(&request.body);
        let get = |k: &str| form.get(k).cloned().unwrap_or_default();
        let from_ok = get("From") == config.from || get("MessagingServiceSid") == config.from;
        let code = six_digits(&get("Body"));
        if request.method != "POST"
            || request.target != path
            || request.header("content-type") != "application/x-www-form-urlencoded"
            || !from_ok
            || code.is_empty()
        {
            // 21211, "Invalid 'To' Phone Number", stands in for any bad
            // parameter here.
            return Reply::Json(
                400,
                r#"{"code": 21211, "message": "Invalid 'To' Phone Number", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#.to_owned(),
            );
        }
        Reply::Accepted(
            201,
            twilio_message(&config.account_sid, &get),
            Sent {
                to: get("To"),
                code,
            },
        )
    }
}

/// The Message resource Twilio answers an accepted message with (HTTP 201),
/// its properties as the Message resource page lists them,
/// <https://www.twilio.com/docs/messaging/api/message-resource>; `get`
/// reads the request's form.
fn twilio_message(account_sid: &str, get: &dyn Fn(&str) -> String) -> String {
    serde_json::json!({
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": get("Body"),
            "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
            "date_sent": null,
            "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
            "direction": "outbound-api",
            "error_code": null,
            "error_message": null,
            "from": get("From"),
            "messaging_service_sid": null,
            "num_media": "0",
            "num_segments": "1",
            "price": null,
            "price_unit": null,
            "sid": "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "status": "queued",
            "to": get("To"),
            "uri": format!("/2010-04-01/Accounts/{account_sid}/Messages/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json"),
        })
        .to_string()
}

fn url_form(body: &[u8]) -> HashMap<String, String> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn six_digits(text: &str) -> String {
    text.as_bytes()
        .windows(SmsCode::LEN)
        .enumerate()
        .find(|(i, w)| {
            w.iter().all(u8::is_ascii_digit)
                && !text.as_bytes()[..*i].last().is_some_and(u8::is_ascii_digit)
        })
        .map(|(_, w)| String::from_utf8_lossy(w).into_owned())
        .unwrap_or_default()
}
