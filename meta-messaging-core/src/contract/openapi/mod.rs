//! The OpenAPI 3.1 document of the inbox routes, generated from the contract: the schemas are
//! derived (`utoipa::ToSchema`) from the types the routes read and answer, and each route of
//! [`ROUTES`] is described in `operations.rs`, an exhaustive `match` on [`Route`](super::Route), so a new
//! route does not compile until it is documented. Served at `GET {mount}/openapi.json` and
//! committed as `docs/openapi.json`.

mod operations;

use std::sync::OnceLock;

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, Paths, RefOr, ServerBuilder,
};
use utoipa::{PartialSchema, ToSchema};

use super::{ROUTES, SESSION_COOKIE};

/// The name of the bearer-token security scheme in the document.
const API_TOKEN_SCHEME: &str = "api_token";
/// The name of the session-cookie security scheme in the document.
const SESSION_SCHEME: &str = "session_cookie";

/// The OpenAPI 3.1 document of the inbox routes: every route of [`ROUTES`] with its methods,
/// parameters, request body, and responses (status codes, with the
/// [`ErrorBody`](super::ErrorBody) schema for every error), paths relative to the mount point.
///
/// ```
/// let document = meta_messaging_core::contract::openapi();
/// let messages = document.paths.get_path_item("/messages").expect("documented");
/// assert!(messages.get.is_some() && messages.post.is_some());
/// ```
pub fn openapi() -> OpenApi {
    let mut paths = Paths::new();
    for spec in ROUTES {
        let mut item: Option<PathItem> = None;
        for (method, operation) in operations::of(spec.route, spec.path) {
            let next = PathItem::new(method, operation);
            match &mut item {
                Some(item) => item.merge_operations(next),
                None => item = Some(next),
            }
        }
        if let Some(item) = item {
            paths.paths.insert(spec.path.to_owned(), item);
        }
    }
    let mut schemas = Vec::new();
    operations::schemas(&mut schemas);
    let components = schemas
        .into_iter()
        .fold(ComponentsBuilder::new(), |components, (name, schema)| {
            components.schema(name, schema)
        })
        .security_scheme(
            API_TOKEN_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`Authorization: Bearer <API token>`: a token given to \
                         `Access::api_tokens` (META_API_TOKEN in the examples).",
                    ))
                    .build(),
            ),
        )
        .security_scheme(
            SESSION_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie `POST /session` sets; a state change with it must come \
                 from the server's own pages.",
            ))),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("meta-messaging inbox routes")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION))
                .build(),
        )
        .servers(Some([ServerBuilder::new()
            .url(".")
            .description(Some(
                "The mount point: where the host nests the routes (say `/api/meta`), the \
                 folder this document is served from.",
            ))
            .build()]))
        .paths(paths)
        .components(Some(components))
        .build()
}

const DESCRIPTION: &str = "The HTTP routes of the Messenger and Instagram inbox, as the axum \
and actix-web adapters serve them under the host's mount prefix (ADAPTERS.md). Every route but \
the webhook and the OAuth callback needs credentials: an API token (`Authorization: Bearer`), \
the session cookie of a signed-in page, or, when the host mounts the routes with its own tenant \
resolver or behind an authenticating gateway, the host's own authentication (not described \
here). Every error answers `{\"error\": {...}}` (the `ErrorBody` schema).";

/// [`openapi`] as pretty-printed JSON with a final newline: what `GET {mount}/openapi.json`
/// answers and `docs/openapi.json` holds. Built once per process.
pub fn openapi_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        // Every value in the document is a string, a number, a map or a list: serializing
        // cannot fail, and an empty document would fail the freshness test loudly.
        let mut json = openapi().to_pretty_json().unwrap_or_default();
        json.push('\n');
        json
    })
}

/// The schema of a string-valued type with custom serialization (ids, open enums whose
/// unknown names are kept): its description and, when the set of known values is given, those
/// as examples (not as an `enum`: Meta may send others).
pub(crate) fn string_schema(description: &str, known: &[&str]) -> RefOr<Schema> {
    let mut schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description));
    if !known.is_empty() {
        schema = schema.examples(known.iter().copied());
    }
    RefOr::T(schema.into())
}

/// Registers `T` and the schemas it refers to.
fn register<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((T::name().into_owned(), <T as PartialSchema>::schema()));
    T::schemas(schemas);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Route;

    /// Every route of the table is in the document, with every method the contract serves.
    #[test]
    fn every_route_is_documented_with_its_methods() {
        let document: serde_json::Value =
            serde_json::from_str(openapi_json()).expect("the document is JSON");
        assert_eq!(document["openapi"], "3.1.0");
        for spec in ROUTES {
            let item = &document["paths"][spec.path];
            assert!(item.is_object(), "{} is not documented", spec.path);
            for method in operations::methods(spec.route) {
                let operation = &item[method];
                assert!(
                    operation.is_object(),
                    "{method} {} is not documented",
                    spec.path
                );
                assert!(
                    operation["responses"]
                        .as_object()
                        .is_some_and(|r| !r.is_empty()),
                    "{method} {} documents no response",
                    spec.path
                );
            }
        }
        assert_eq!(
            document["paths"].as_object().map(|p| p.len()),
            Some(ROUTES.len()),
            "a path in the document is not a route"
        );
        // Only the routes Meta (or its redirect) calls, the health probes, and signing in and
        // out, go without credentials.
        for spec in ROUTES {
            for method in operations::methods(spec.route) {
                let security = &document["paths"][spec.path][method]["security"];
                let open = matches!(
                    spec.route,
                    Route::Webhook | Route::OAuthCallback | Route::HealthLive | Route::HealthReady
                ) || (spec.route == Route::Session && method != "get");
                assert_eq!(
                    security.is_null(),
                    open,
                    "{method} {}: security {security}",
                    spec.path
                );
            }
        }
    }

    /// `docs/openapi.json` is the generated document; with `UPDATE_OPENAPI=1` this writes it.
    #[test]
    fn the_committed_document_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
        if std::env::var_os("UPDATE_OPENAPI").is_some_and(|v| v == "1") {
            std::fs::write(path, openapi_json()).expect("docs/openapi.json is writable");
            return;
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == openapi_json(),
            "docs/openapi.json is out of date with the routes' types and descriptions: \
             regenerate it with `UPDATE_OPENAPI=1 cargo test -p meta-messaging-core --lib \
             -- openapi` and commit it"
        );
    }

    /// Every `$ref` points at a schema of the document.
    #[test]
    fn every_reference_resolves() {
        fn refs<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                        out.push(target);
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let document: serde_json::Value =
            serde_json::from_str(openapi_json()).expect("the document is JSON");
        let mut found = Vec::new();
        refs(&document, &mut found);
        assert!(found.contains(&"#/components/schemas/ErrorBody"));
        for target in found {
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {target}"));
            assert!(
                document["components"]["schemas"][name].is_object(),
                "{target} does not resolve"
            );
        }
    }
}
