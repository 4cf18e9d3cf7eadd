//! `GET /openapi.json`: the contract as an OpenAPI 3.1 document, made from
//! the route table (each handler's `#[utoipa::path]` and the answers it can
//! give) when the server starts.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Components, ComponentsBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::{Tag, TagBuilder};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr,
    ResponseBuilder,
};
use verify::{Answer, Lang};

use crate::reply::ReplyBody;
use crate::routes::Endpoint;
use crate::routes::sms_code::SmsCodeRequest;
use crate::routes::verify_sms_code::CheckRequest;

/// The name of the verify route's security scheme.
pub(crate) const BEARER: &str = "bearer";

/// The document, serialised once at start-up.
#[derive(Debug)]
pub(crate) struct ApiDocument(String);

impl ApiDocument {
    /// The document of `table`, as JSON.
    pub(crate) fn new(table: &[Endpoint]) -> Result<Self, serde_json::Error> {
        document(table).to_json().map(Self)
    }
}

/// The OpenAPI document (this one).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    operation_id = "get_openapi",
    summary = "This API's OpenAPI 3.1 document",
    description = "Off with `server.openapi = false`.",
    responses((status = 200, description = "The document", content(("application/json"))))
)]
pub(crate) async fn get_openapi(doc: web::Data<ApiDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(doc.0.clone())
}

/// The document of every endpoint in `table`.
pub(crate) fn document(table: &[Endpoint]) -> OpenApi {
    let mut paths = Paths::new();
    for endpoint in table {
        let mut operation = endpoint.operation.clone();
        if !endpoint.answers.is_empty() {
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(RefOr::T(accept_language()));
        }
        add_answers(&mut operation, endpoint.answers);
        paths.add_path_operation(&endpoint.path, vec![endpoint.method.clone()], operation);
    }
    OpenApiBuilder::new()
        .info(info())
        .paths(paths)
        .components(Some(components()))
        .tags(Some(tags()))
        .build()
}

/// The request and answer schemas, and the verify endpoint's bearer scheme.
fn components() -> Components {
    ComponentsBuilder::new()
        .schema_from::<ReplyBody>()
        .schema_from::<SmsCodeRequest<'_>>()
        .schema_from::<CheckRequest<'_>>()
        .security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`verify_api.key` (or `verify_api.key_file`)"))
                    .build(),
            ),
        )
        .build()
}

/// The groups the operations are filed under.
fn tags() -> [Tag; 4] {
    [
        (
            "captcha",
            "The challenge: an image or its audio alternative",
        ),
        (
            "sms",
            "The SMS code: sent after a captcha, checked by a backend",
        ),
        ("health", "Probes for orchestrators"),
        ("meta", "This document"),
    ]
    .map(|(name, description)| {
        TagBuilder::new()
            .name(name)
            .description(Some(description))
            .build()
    })
}

/// The title, version, licence and the model in a paragraph.
fn info() -> InfoBuilder {
    InfoBuilder::new()
        .title("Passport")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(DESCRIPTION))
        .license(Some(
            LicenseBuilder::new()
                .name("MIT OR Apache-2.0")
                .identifier(Some("MIT OR Apache-2.0"))
                .build(),
        ))
}

const DESCRIPTION: &str = "Image captcha, then SMS code. Every JSON answer is \
`{\"errno\", \"errmsg\"}` (schema `Reply`); `errmsg` is Chinese unless \
`Accept-Language` prefers English. With `compat.errors_as_200` every error \
answers 200 with its errno in the body, as the original service did; this \
document gives the default statuses. Any other method on a documented path \
answers 405 with `Allow`; an unknown path 404; both errno 4201.";

/// Adds the JSON answers an endpoint can give under their statuses, each
/// with its own example (errno and text from `verify::errno`).
fn add_answers(operation: &mut Operation, answers: &[Answer]) {
    let mut by_status: BTreeMap<u16, Vec<Answer>> = BTreeMap::new();
    for answer in answers {
        by_status.entry(answer.status()).or_default().push(*answer);
    }
    for (status, answers) in by_status {
        let description = answers
            .iter()
            .map(|a| format!("{} ({})", a.text(Lang::En), a.errno().code()))
            .collect::<Vec<_>>()
            .join("; ");
        let examples = answers.iter().map(|a| {
            let value = serde_json::json!({"errno": a.errno().code(), "errmsg": a.text(Lang::Zh)});
            (
                format!("{a:?}"),
                ExampleBuilder::new()
                    .summary(a.text(Lang::En))
                    .value(Some(value))
                    .build(),
            )
        });
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Reply")))
            .examples_from_iter(examples)
            .build();
        let mut response = ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .header(
                "Cache-Control",
                string_header("Always `no-store`: answers are never cached."),
            );
        if status == 429 {
            response = response.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(1))
                            .build(),
                    ))
                    .description(Some("Seconds to wait before trying again."))
                    .build(),
            );
        }
        if status == 401 {
            response = response.header(
                "WWW-Authenticate",
                string_header("`Bearer`: the scheme the route takes."),
            );
        }
        operation
            .responses
            .responses
            .insert(status.to_string(), RefOr::T(response.build()));
    }
}

/// `Accept-Language`, which every JSON answer follows.
fn accept_language() -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::Required;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    ParameterBuilder::new()
        .name("Accept-Language")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "The language of `errmsg`: English when the client prefers it (`en`) over \
             Chinese (`zh`), else `messages.default_lang`. Any value is accepted.",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
        .example(Some(serde_json::json!("en-US,en;q=0.9")))
        .build()
}

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
        .description(Some(description))
        .build()
}
