//! actix-web integration for [meta-messaging](https://docs.rs/meta-messaging-core): Facebook
//! Messenger and Instagram Direct in your actix-web server.
//!
//! [`configure`] mounts the inbox routes (webhook, conversations, messages, accounts, status,
//! live events, sign-in) for `App::configure`, typically inside a `web::scope` of your choice,
//! behind an [`Access`](meta_messaging_core::contract::Access) decision; every behaviour, status code
//! and JSON body comes from [`meta_messaging_core::contract`], so this crate and
//! `meta-messaging-axum` answer identically: the contract follows below.
//!
//! ```
//! use std::sync::Arc;
//! use actix_web::{App, web};
//! use meta_messaging_core::contract::{Access, ApiToken, ApiTokens};
//! use meta_messaging_core::ids::TenantId;
//! use meta_messaging_core::inbox::{Inbox, Tenancy};
//! use meta_messaging_core::secret::{AppSecret, VerifyToken};
//! use meta_messaging_core::store::InMemoryStore;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let inbox = Inbox::builder()
//!     .app_secret(AppSecret::new("app-secret"))
//!     .verify_token(VerifyToken::new("verify-token"))
//!     .store(InMemoryStore::new())
//!     .tenancy(Tenancy::Single(TenantId::new("default")))
//!     .build()?;
//! let tokens = ApiTokens::new().token(ApiToken::new("a-long-random-api-token"), TenantId::new("default"));
//! let access = Access::api_tokens(tokens);
//! let app = App::new().service(web::scope("/api/meta").configure(meta_messaging_actix::configure(inbox, access)));
//! # Ok(()) }
//! ```
//!
//! To use your app's own authentication, pass your mapping from a request to a tenant with
//! [`configure_with_tenants`]; hosts that want their own webhook handler use the
//! [`VerifiedDelivery`] extractor.
//!
#![doc = include_str!("../ADAPTERS.md")]

mod extract;
mod routes;

pub use extract::{ErrorResponse, VerifiedDelivery};
pub use meta_messaging_core as core;
pub use routes::{TenantRejection, configure, configure_with_tenants};
