//! axum integration for [meta-messaging](https://docs.rs/meta-messaging-core): Facebook Messenger
//! and Instagram Direct in your axum server.
//!
//! **Status:** this crate is a placeholder in this release. The next release adds:
//!
//! - `router(inbox) -> Router<S>`: the webhook, send, list, accounts, status and live-event
//!   routes, mountable with `Router::nest` / `Router::merge`;
//! - an extractor for a verified webhook delivery, for hosts that write their own handler.
//!
//! Until then, use [`meta_messaging_core::webhook`] directly in an axum handler: read the body as
//! `Bytes`, pass it with the `X-Hub-Signature-256` header to
//! [`SignatureVerifier::verify`](meta_messaging_core::webhook::SignatureVerifier::verify), then
//! [`parse`](meta_messaging_core::webhook::parse) it. The `webhook-receiver` example in the
//! repository does exactly that.

pub use meta_messaging_core as core;
