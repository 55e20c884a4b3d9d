//! actix-web integration for [meta-messaging](https://docs.rs/meta-messaging-core): Facebook
//! Messenger and Instagram Direct in your actix-web server.
//!
//! **Status:** this crate is a placeholder in this release. The next release adds:
//!
//! - `configure(inbox)` for `App::configure`: the webhook, send, list, accounts, status and
//!   live-event routes;
//! - a `FromRequest` extractor for a verified webhook delivery, and a `ResponseError` with the
//!   same status table as the axum adapter.
//!
//! Until then, use [`meta_messaging_core::webhook`] directly in an actix-web handler: take the
//! body as `web::Bytes`, pass it with the `X-Hub-Signature-256` header to
//! [`SignatureVerifier::verify`](meta_messaging_core::webhook::SignatureVerifier::verify), then
//! [`parse`](meta_messaging_core::webhook::parse) it.

pub use meta_messaging_core as core;
