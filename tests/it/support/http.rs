//! HTTP clients for the tests, with the TLS backend of the core's features: under the default
//! `rustls` feature reqwest has no crypto provider of its own, so `reqwest::Client::new()` and
//! `reqwest::get` would panic.

/// `reqwest::Client::builder()` with the core's TLS backend.
pub(crate) fn builder() -> reqwest::ClientBuilder {
    meta_messaging_core::graph::http_client_builder().unwrap()
}

/// A client with reqwest's defaults and the core's TLS backend.
pub(crate) fn client() -> reqwest::Client {
    builder().build().unwrap()
}

/// `reqwest::get` with the core's TLS backend.
pub(crate) async fn get(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    client().get(url).send().await
}
