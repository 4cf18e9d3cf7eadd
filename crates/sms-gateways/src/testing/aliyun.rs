//! The stand-in Aliyun (`SendSms`, ACS3-HMAC-SHA256).

use super::{Reply, Request, Sent};

/// Aliyun `SendSms` (ACS3-HMAC-SHA256), holding `config`'s true AccessKey.
pub fn aliyun(config: &crate::aliyun::AliyunConfig) -> impl Fn(&Request) -> Reply + use<> {
    let config = config.clone();
    move |request| {
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((&request.target, ""));
        let pairs: Vec<(&str, String)> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k, percent_decoded(v)))
            .collect();
        if !aliyun_signed(&config, request, query, &pairs) {
            // The OpenAPI error answer's fields (RequestId, Message,
            // Recommend, HostId, Code) with the code and text of a failed
            // signature from the V3 signature page
            // <https://help.aliyun.com/document_detail/2593177.html>; the
            // stored copies at hand show no complete error body, so this
            // one is assembled from those fields, not copied.
            return Reply::Json(
                400,
                r#"{"RequestId":"A7E1C0B4-3C5B-5B7E-8F0A-1E2D3C4B5A69","Message":"Specified signature is not matched with our calculation.","Recommend":"https://api.aliyun.com/troubleshoot","HostId":"dysmsapi.aliyuncs.com","Code":"SignatureDoesNotMatch"}"#.to_owned(),
            );
        }
        aliyun_send(&config, request, path, &pairs)
    }
}

/// Whether `request` carries the ACS3 signature `config`'s secret makes of
/// it, over the query exactly as it was signed.
fn aliyun_signed(
    config: &crate::aliyun::AliyunConfig,
    request: &Request,
    query: &str,
    pairs: &[(&str, String)],
) -> bool {
    use crate::aliyun::{Acs3Request, acs3_sign};
    let h = |n: &str| request.header(n);
    let expected = acs3_sign(&Acs3Request {
        access_key_id: &config.access_key_id,
        access_key_secret: config.access_key_secret.expose(),
        method: &request.method,
        host: &h("host"),
        action: &h("x-acs-action"),
        version: &h("x-acs-version"),
        date: &h("x-acs-date"),
        nonce: &h("x-acs-signature-nonce"),
        query: pairs,
        payload: &request.body,
    });
    h("authorization") == expected.authorization && query == expected.canonical_query
}

/// Aliyun's answer to a signed `SendSms`: accepted when its fields are the
/// configured ones and its template parameter holds the code.
fn aliyun_send(
    config: &crate::aliyun::AliyunConfig,
    request: &Request,
    path: &str,
    pairs: &[(&str, String)],
) -> Reply {
    let h = |n: &str| request.header(n);
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let param: serde_json::Value =
        serde_json::from_str(&field("TemplateParam")).unwrap_or_default();
    let fields_ok = (request.method.as_str(), path) == ("POST", "/")
        && h("x-acs-action") == "SendSms"
        && h("x-acs-version") == "2017-05-25"
        && field("SignName") == config.sign_name
        && field("TemplateCode") == config.template_code;
    let code = param[config.template_param_name.as_str()]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !fields_ok || code.is_empty() {
        // `isv.INVALID_PARAMETERS` of the SendSms error code list.
        return Reply::Json(
                200,
                r#"{"Message":"参数异常","RequestId":"2C3D6E2A-92A1-5E4B-9D6A-0C1F2B3A4D5E","Code":"isv.INVALID_PARAMETERS"}"#.to_owned(),
            );
    }
    // The success example of the SendSms reference, "SendSms - 发送短信",
    // <https://help.aliyun.com/document_detail/55284.htm>: Code, Message,
    // BizId, RequestId (the page masks the end of its BizId).
    Reply::Accepted(
            200,
            r#"{"Code":"OK","Message":"OK","BizId":"9006197469364984400","RequestId":"F655A8D5-B967-440B-8683-DAD6FF8DE990"}"#.to_owned(),
            Sent {
                to: field("PhoneNumbers"),
                code,
            },
        )
}

fn percent_decoded(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}
