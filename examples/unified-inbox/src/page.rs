//! The web page: one HTML file, its script and stylesheet, compiled into the binary so the app
//! runs from anywhere, offline.

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName};
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");

/// Scripts and styles come only from this app; pictures and media may come from Meta's CDN (and,
/// in the demo, from this app), so those allow any http(s) origin but nothing inline.
const CSP: &str = "default-src 'self'; img-src 'self' http: https: data:; \
    media-src 'self' http: https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// `GET /`, `GET /assets/app.js`, `GET /assets/style.css`.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/assets/app.js",
            // A module script is refused by browsers unless served as JavaScript.
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/assets/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, content_type),
            // The files change with the binary; a stale cached script would not match the API.
            (CACHE_CONTROL, "no-cache"),
            (HeaderName::from_static("content-security-policy"), CSP),
            (HeaderName::from_static("x-content-type-options"), "nosniff"),
        ],
        body,
    )
}
