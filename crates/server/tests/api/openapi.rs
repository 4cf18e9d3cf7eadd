//! `GET /openapi.json`: the document and the routes come from one table, so
//! every documented operation is routed, every contract route is
//! documented, and the documented answers are the ones the server gives.

use std::collections::BTreeSet;

use passport_server::configuration::Secret;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, code_id};

const KEY: &str = "openapi-key-0123456789abcdef";

/// Every operation of the contract (SPEC.md), the document's own included.
const CONTRACT: [(&str, &str); 7] = [
    ("get", "/healthz"),
    ("get", "/openapi.json"),
    ("get", "/passport/audio_code"),
    ("get", "/passport/image_code"),
    ("get", "/readyz"),
    ("post", "/passport/sms_code"),
    ("post", "/passport/sms_code/verify"),
];

async fn app_with_key() -> TestApp {
    TestApp::spawn_with(Backend::Memory, |s| s.verify_api.key = Secret::new(KEY)).await
}

async fn document(app: &TestApp) -> Value {
    let r = app.get("/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.json()
}

/// The (method, path) pairs the document lists.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            ops.insert((method.clone(), path.clone()));
        }
    }
    ops
}

fn contract(without: &[&str]) -> BTreeSet<(String, String)> {
    CONTRACT
        .iter()
        .filter(|(_, path)| !without.contains(path))
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect()
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_every_route_documented() {
    let app = app_with_key().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(operations(&doc), contract(&[]));
    for (method, path) in operations(&doc) {
        let method = method.to_uppercase();
        // No parameters and no body: a route answers 400 or 401 or its
        // content, never the fallback's 404.
        let r = app
            .request(&method, &path)
            .header("Authorization", &format!("Bearer {KEY}"))
            .send()
            .await;
        assert_ne!(r.status, 404, "{method} {path}");
        // Any other method is the route's 405, naming the documented one.
        let other = if method == "GET" { "DELETE" } else { "GET" };
        let r = app.request(other, &path).send().await;
        r.assert_error(405, "4201");
        assert_eq!(r.header("allow"), Some(method.as_str()), "{path}");
    }
}

#[tokio::test]
async fn the_verify_route_is_documented_only_with_a_key_and_the_document_can_be_off() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert_eq!(operations(&doc), contract(&["/passport/sms_code/verify"]));
    app.request("POST", "/passport/sms_code/verify")
        .json(&json!({}))
        .send()
        .await
        .assert_error(404, "4201");

    let app = TestApp::spawn_with(Backend::Memory, |s| s.server.openapi = false).await;
    app.get("/openapi.json").await.assert_error(404, "4201");
    assert_eq!(app.get("/healthz").await.status, 200);
}

/// Every `{"$ref": ...}` in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn references_resolve_and_the_schemas_say_what_the_server_takes() {
    let app = app_with_key().await;
    let doc = document(&app).await;
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r} is not a local schema"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} resolves"
        );
    }
    let schemas = &doc["components"]["schemas"];
    let errnos: Vec<&str> = schemas["Reply"]["properties"]["errno"]["enum"]
        .as_array()
        .expect("errno enum")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let all: Vec<&str> = verify::Errno::ALL.iter().map(|e| e.code()).collect();
    assert_eq!(errnos, all);
    assert_eq!(
        schemas["SmsCodeRequest"]["required"],
        json!(["mobile", "image_code", "image_code_id"])
    );
    assert_eq!(
        schemas["CheckRequest"]["required"],
        json!(["mobile", "sms_code"])
    );
    let verify = &doc["paths"]["/passport/sms_code/verify"]["post"];
    assert_eq!(verify["security"], json!([{"bearer": []}]));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(verify["responses"]["401"]["headers"]["WWW-Authenticate"].is_object());
    let sms = &doc["paths"]["/passport/sms_code"]["post"];
    assert!(sms["responses"]["429"]["headers"]["Retry-After"].is_object());
    let param = &doc["paths"]["/passport/image_code"]["get"]["parameters"][0];
    assert_eq!(param["name"], "code_id");
    assert_eq!(param["required"], true);
}

/// The documented example of `status` on `op` named `name`.
fn example<'a>(op: &'a Value, status: &str, name: &str) -> &'a Value {
    let ex = &op["responses"][status]["content"]["application/json"]["examples"][name]["value"];
    assert!(ex.is_object(), "{status} {name} documented");
    ex
}

#[tokio::test]
async fn documented_examples_are_what_the_server_answers() {
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.verify_api.key = Secret::new(KEY);
        s.limits.image_codes_per_ip_per_minute = 1;
    })
    .await;
    let doc = document(&app).await;
    let image = &doc["paths"]["/passport/image_code"]["get"];
    let sms = &doc["paths"]["/passport/sms_code"]["post"];
    let verify = &doc["paths"]["/passport/sms_code/verify"]["post"];

    let r = app.get("/passport/image_code?code_id=junk").await;
    assert_eq!(&r.json(), example(image, "400", "Param"));
    assert_eq!(app.image_code(&code_id(1)).await.status, 200);
    let r = app.image_code(&code_id(2)).await;
    assert_eq!(&r.json(), example(image, "429", "RateLimited"));

    let r = app.sms_code("13800138000", "WXYZ", &code_id(3)).await;
    assert_eq!(&r.json(), example(sms, "400", "CaptchaMissing"));
    let r = app.sms_code("12345", "WXYZ", &code_id(3)).await;
    assert_eq!(&r.json(), example(sms, "400", "InvalidMobile"));
    let r = app
        .request("POST", "/passport/sms_code")
        .body(Some("text/plain"), "{}")
        .send()
        .await;
    assert_eq!(r.status, 415);
    assert_eq!(&r.json(), example(sms, "415", "WrongContentType"));

    let r = app
        .request("POST", "/passport/sms_code/verify")
        .json(&json!({"mobile": "13800138000", "sms_code": "123456"}))
        .send()
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(&r.json(), example(verify, "401", "Unauthorized"));
}
