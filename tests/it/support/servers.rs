//! Starts an inbox behind either adapter, mounted under `/api/meta`, on 127.0.0.1.

use std::net::TcpListener;

use meta_messaging_core::contract::{Access, ApiToken, ApiTokens};
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{Inbox, Tenancy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Adapter {
    Axum,
    Actix,
}

pub(crate) const PREFIX: &str = "/api/meta";

/// The API token the routes served by [`serve`] accept, for the inbox's single tenant (or
/// tenant `shop` of a multi-tenant inbox).
pub(crate) const API_TOKEN: &str = "test-api-token-0123456789abcdef";

/// An HTTP client that sends [`API_TOKEN`] with every request.
pub(crate) fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {API_TOKEN}")).unwrap(),
    );
    crate::support::http::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// `GET {base}{path}` with [`API_TOKEN`], as JSON.
pub(crate) async fn get_json(base: &str, path: &str) -> serde_json::Value {
    client()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The access of [`serve`]: [`API_TOKEN`] for the inbox's tenant.
pub(crate) fn access(inbox: &Inbox) -> Access {
    let tenant = match inbox.tenancy() {
        Tenancy::Single(tenant) => tenant.clone(),
        _ => TenantId::new("shop"),
    };
    Access::api_tokens(ApiTokens::new().token(ApiToken::new(API_TOKEN), tenant))
}

/// Serves `inbox` and returns the base URL of its routes (`http://127.0.0.1:PORT/api/meta`).
pub(crate) async fn serve(adapter: Adapter, inbox: Inbox) -> String {
    serve_with(adapter, inbox, None, bind()).await
}

/// A free loopback port, bound, and the base URL the routes will have there: for inboxes whose
/// settings (an OAuth redirect URI, an emulator's callback) need their own URL before they
/// are served with [`serve_bound`].
pub(crate) fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}{PREFIX}", listener.local_addr().unwrap());
    (listener, base)
}

/// Serves `inbox` on a listener from [`bind`].
pub(crate) async fn serve_bound(adapter: Adapter, inbox: Inbox, bound: (TcpListener, String)) {
    serve_with(adapter, inbox, None, bound).await;
}

/// Like [`serve`], with a tenant resolver that reads the `X-Tenant` header and refuses requests
/// without it with the host's own 403.
pub(crate) async fn serve_with_header_tenants(adapter: Adapter, inbox: Inbox) -> String {
    serve_with(adapter, inbox, Some(()), bind()).await
}

async fn serve_with(
    adapter: Adapter,
    inbox: Inbox,
    header_tenants: Option<()>,
    (listener, base): (TcpListener, String),
) -> String {
    listener.set_nonblocking(true).unwrap();
    match adapter {
        Adapter::Axum => {
            let routes = match header_tenants {
                None => {
                    let access = access(&inbox);
                    meta_messaging_axum::router(inbox, access)
                }
                Some(()) => meta_messaging_axum::router_with_tenants(
                    inbox,
                    |parts: &axum::http::request::Parts| {
                        tenant_header(parts.headers.get("x-tenant").and_then(|v| v.to_str().ok()))
                            .ok_or_else(|| {
                                meta_messaging_axum::TenantRejection::new((
                                    axum::http::StatusCode::FORBIDDEN,
                                    "host says no",
                                ))
                            })
                    },
                ),
            };
            let app = axum::Router::new().nest(PREFIX, routes);
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await });
        }
        Adapter::Actix => {
            // actix-web runs on its own single-threaded runtime: give it a thread for the test.
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    actix_web::HttpServer::new(move || {
                        let configure = match header_tenants {
                            None => Box::new(meta_messaging_actix::configure(
                                inbox.clone(),
                                access(&inbox),
                            ))
                                as Box<dyn FnOnce(&mut actix_web::web::ServiceConfig)>,
                            Some(()) => Box::new(meta_messaging_actix::configure_with_tenants(
                                inbox.clone(),
                                |req: &actix_web::HttpRequest| {
                                    tenant_header(
                                        req.headers().get("x-tenant").and_then(|v| v.to_str().ok()),
                                    )
                                    .ok_or_else(|| {
                                        meta_messaging_actix::TenantRejection::new(
                                            actix_web::HttpResponse::Forbidden()
                                                .body("host says no"),
                                        )
                                    })
                                },
                            )),
                        };
                        actix_web::App::new()
                            .service(actix_web::web::scope(PREFIX).configure(configure))
                    })
                    .workers(1)
                    .listen(listener)
                    .unwrap()
                    .run()
                    .await
                })
            });
        }
    }
    base
}

fn tenant_header(value: Option<&str>) -> Option<meta_messaging_core::ids::TenantId> {
    value.filter(|v| !v.is_empty()).map(Into::into)
}
