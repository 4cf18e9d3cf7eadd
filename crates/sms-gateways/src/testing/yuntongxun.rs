//! The stand-in Yuntongxun / 容联云 (`TemplateSMS`).

use super::{Reply, Request, Sent};

/// Yuntongxun / 容联云 `TemplateSMS`, holding `config`'s true auth token.
pub fn yuntongxun(
    config: &crate::yuntongxun::YuntongxunConfig,
) -> impl Fn(&Request) -> Reply + use<> {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

    use crate::yuntongxun::credentials;
    let config = config.clone();
    move |request| {
        // Authorization is base64(sid:timestamp); the sig is re-derived from
        // that timestamp and the true token.
        let auth = BASE64
            .decode(request.header("authorization"))
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let (sid, timestamp) = auth.split_once(':').unwrap_or_default();
        let expected = credentials(&config.account_sid, config.auth_token.expose(), timestamp);
        let target = format!(
            "/2013-12-26/Accounts/{}/SMS/TemplateSMS?sig={}",
            config.account_sid, expected.sig
        );
        if sid != config.account_sid || timestamp.len() != 14 || request.target != target {
            // Status code 111109 of the REST error code list, with the
            // `statusCode`/`statusMsg` fields of the TemplateSMS answer
            // (<https://doc.yuntongxun.com/p/5a533de33b8496dd00dce07c>).
            return Reply::Json(
                200,
                r#"{"statusCode":"111109","statusMsg":"请求地址Sig校验失败"}"#.to_owned(),
            );
        }
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let fields_ok = request.method == "POST"
            && body["appId"] == config.app_id.as_str()
            && body["templateId"] == config.template_id.as_str();
        let code = body["datas"][0].as_str().unwrap_or_default().to_owned();
        if !fields_ok || code.is_empty() {
            // 112300 of the same list: a parameter is wrong.
            return Reply::Json(
                200,
                r#"{"statusCode":"112300","statusMsg":"参数错误"}"#.to_owned(),
            );
        }
        // The TemplateSMS success answer of the same page: statusCode
        // "000000" and templateSMS with smsMessageSid and dateCreated.
        Reply::Accepted(
            200,
            r#"{"statusCode":"000000","templateSMS":{"smsMessageSid":"ff8080813c373cab013c94b0f0512345","dateCreated":"20130201155306"}}"#.to_owned(),
            Sent {
                to: body["to"].as_str().unwrap_or_default().to_owned(),
                code,
            },
        )
    }
}
