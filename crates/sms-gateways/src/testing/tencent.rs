//! The stand-in Tencent Cloud (`SendSms` 2021-01-11, TC3-HMAC-SHA256).

use super::{Reply, Request, Sent};

/// Tencent Cloud `SendSms` 2021-01-11 (TC3-HMAC-SHA256), holding
/// `config`'s true SecretKey. Refusals come inside HTTP 200, as Tencent
/// sends them.
pub fn tencent(config: &crate::tencent::TencentConfig) -> impl Fn(&Request) -> Reply + use<> {
    let config = config.clone();
    move |request| {
        if !tencent_signed(&config, request) {
            // The failed-request example of the API 3.0 "Responses" page,
            // <https://www.tencentcloud.com/zh/document/product/382/40469>
            // ("最后更新时间: 2026-02-05" on the stored copy).
            return Reply::Json(
                200,
                r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated. Please check your signature is correct."},"RequestId":"ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"}}"#.to_owned(),
            );
        }
        tencent_send(&config, request)
    }
}

/// Whether `request` carries the TC3 signature `config`'s key makes of it,
/// with the JSON content type that signature covers.
fn tencent_signed(config: &crate::tencent::TencentConfig, request: &Request) -> bool {
    use crate::tencent::{Tc3Request, tc3_sign};
    let h = |n: &str| request.header(n);
    let expected = tc3_sign(&Tc3Request {
        secret_id: &config.secret_id,
        secret_key: config.secret_key.expose(),
        service: "sms",
        host: &h("host"),
        action: &h("x-tc-action"),
        sign_action: true,
        timestamp: h("x-tc-timestamp").parse().unwrap_or_default(),
        payload: &request.body,
    });
    h("authorization") == expected.authorization
        && h("content-type") == "application/json; charset=utf-8"
}

/// Tencent's answer to a signed `SendSms`: accepted when its fields are the
/// configured ones for one number and the code is where the template wants it.
fn tencent_send(config: &crate::tencent::TencentConfig, request: &Request) -> Reply {
    let h = |n: &str| request.header(n);
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let code_at = config.template_params.iter().position(|p| p == "{code}");
    let code = code_at
        .and_then(|i| body["TemplateParamSet"][i].as_str())
        .unwrap_or_default()
        .to_owned();
    let to = body["PhoneNumberSet"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let fields_ok = (request.method.as_str(), request.target.as_str()) == ("POST", "/")
        && h("x-tc-action") == "SendSms"
        && h("x-tc-version") == "2021-01-11"
        && h("x-tc-region") == config.region
        && body["SmsSdkAppId"] == config.sdk_app_id.as_str()
        && body["SignName"] == config.sign_name.as_str()
        && body["TemplateId"] == config.template_id.as_str()
        && body["PhoneNumberSet"].as_array().map(Vec::len) == Some(1);
    if !fields_ok || code.is_empty() {
        // `InvalidParameter`, a common error code of API 3.0.
        return Reply::Json(
                200,
                r#"{"Response":{"Error":{"Code":"InvalidParameter","Message":"parameter error"},"RequestId":"0b5b9f3e-6a6c-4b0d-9d7e-2f4e5a6b7c8d"}}"#.to_owned(),
            );
    }
    // The shape of the SendSms reference's example 1,
    // <https://tencentcloud.com/document/api/382/40536> (SMS API
    // 2021-01-11, "Last updated: 2025-11-13"): one SendStatus per
    // number, with SerialNo,
    // PhoneNumber, Fee, SessionContext, Code "Ok", Message, IsoCode; the
    // fields as the SendStatus data type lists them
    // (<https://tencentcloud.com/document/product/382/40473>, "Last
    // updated: 2024-05-20").
    let answer = serde_json::json!({"Response": {
        "SendStatusSet": [{
            "SerialNo": "5000:1045710669157053657849499619",
            "PhoneNumber": to,
            "Fee": 1,
            "SessionContext": body["SessionContext"],
            "Code": "Ok",
            "Message": "send success",
            "IsoCode": "CN",
        }],
        "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
    }});
    Reply::Accepted(200, answer.to_string(), Sent { to, code })
}
