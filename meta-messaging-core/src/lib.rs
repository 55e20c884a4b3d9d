//! The framework-free core of **meta-messaging**: receive and send Facebook Messenger and
//! Instagram Direct messages from your own Rust server.
//!
//! This crate holds everything that does not depend on a web framework. Mount it into a server
//! with [`meta-messaging-axum`](https://docs.rs/meta-messaging-axum) or
//! [`meta-messaging-actix`](https://docs.rs/meta-messaging-actix); the `meta-messaging` command
//! line tool (crate `meta-messaging-cli`) inspects, signs and simulates deliveries.
//!
//! # Quickstart: an inbox
//!
//! The [`Inbox`] is the main entry point: it checks and stores Meta's webhook deliveries, sends
//! replies through the Graph API, answers queries and streams live events. Mount it with an
//! adapter crate, or call it from your own handlers:
//!
//! ```
//! use meta_messaging_core::ids::TenantId;
//! use meta_messaging_core::inbox::Tenancy;
//! use meta_messaging_core::store::ConversationQuery;
//! use meta_messaging_core::{AppSecret, InMemoryStore, Inbox, VerifyToken, webhook};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tenant = TenantId::new("default");
//! let inbox = Inbox::builder()
//!     .app_secret(AppSecret::new("your-app-secret"))
//!     .verify_token(VerifyToken::new("your-verify-token"))
//!     .store(InMemoryStore::new())
//!     .tenancy(Tenancy::Single(tenant.clone()))
//!     .build()?;
//!
//! // In your webhook handler: the raw body and the X-Hub-Signature-256 header. Answer Meta
//! // 200 once `receive` returns: the events are stored by then.
//! let body = br#"{"object":"page","entry":[{"id":"104417552380421","time":1700000000000,
//!   "messaging":[{"sender":{"id":"6758492015643287"},"recipient":{"id":"104417552380421"},
//!   "timestamp":1700000000000,"message":{"mid":"m_1","text":"Is this in stock?"}}]}]}"#;
//! let signature = webhook::sign(&AppSecret::new("your-app-secret"), body);
//! inbox.receive(Some(&signature), body).await?;
//!
//! let conversations = inbox.conversations(&tenant, &ConversationQuery::new()).await?;
//! assert_eq!(conversations.data.len(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! With only the webhook part (no store, no inbox), [`webhook::verify_and_parse`] checks a
//! delivery's signature and returns its typed [`Event`]s.
//!
//! # Modules
//!
//! - [`inbox`]: the service that ties the parts together: receive, send, query, live updates.
//! - [`webhook`]: signature verification, the subscription handshake, typed [`Event`]s.
//! - [`graph`]: the Graph API client: send and read messages, OAuth and accounts, errors with fixes.
//! - [`store`]: the [`MessageStore`] trait and its in-memory, SQLite and PostgreSQL backends.
//! - [`contract`]: the framework-free HTTP contract of the inbox routes, shared by the axum and
//!   actix-web adapters.
//! - [`ids`]: typed ids (`PageId`, `InstagramAccountId`, `Psid`, `Igsid`, `MessageId`, ...).
//! - [`secret`]: the app secret, verify token and access tokens, redacted in `Debug`.
//! - [`platform`]: Messenger or Instagram.
//! - [`error`]: [`ErrorChain`], an error with all its causes, for logs.
//! - [`telemetry`]: the metrics the core records (through the `metrics` facade) and their labels.
//!
//! The types most programs name are also at the crate root.
//!
//! # Guides
//!
//! Long-form guides live in the repository's `docs/` directory ([index](https://github.com/meta-messaging/meta-messaging/blob/main/docs/README.md)):
//!
//! - [Getting started](https://github.com/meta-messaging/meta-messaging/blob/main/docs/getting-started.md): from `cargo add` to a webhook, an inbox and replies in an existing axum or actix-web app.
//! - [Setting up the Meta side](https://github.com/meta-messaging/meta-messaging/blob/main/docs/meta-setup.md): the developer dashboard: app, webhooks, permissions, App Review, tokens.
//! - [Multi-tenancy](https://github.com/meta-messaging/meta-messaging/blob/main/docs/multi-tenancy.md): tenants, tenant resolvers, shared and unconnected accounts, isolation.
//! - [Security](https://github.com/meta-messaging/meta-messaging/blob/main/docs/security.md): signatures, secret rotation, secrets and tokens, the OAuth state, a production checklist.
//! - [Webhooks](https://github.com/meta-messaging/meta-messaging/blob/main/docs/webhooks.md): verifying and parsing deliveries.
//! - [The Graph API client](https://github.com/meta-messaging/meta-messaging/blob/main/docs/graph-client.md): sending, reading, OAuth, errors.
//! - [The message store](https://github.com/meta-messaging/meta-messaging/blob/main/docs/store.md): backends, event semantics, queries.
//! - [Several instances on one PostgreSQL](https://github.com/meta-messaging/meta-messaging/blob/main/docs/scaling.md): live events across instances.
//! - [The local Meta emulator](https://github.com/meta-messaging/meta-messaging/blob/main/docs/emulator.md): conversations offline, in tests and during development.
//! - [The command line tool](https://github.com/meta-messaging/meta-messaging/blob/main/docs/cli.md): inspect, sign, simulate, verify-endpoint, doctor, send.
//! - [Troubleshooting Graph API errors](https://github.com/meta-messaging/meta-messaging/blob/main/docs/troubleshooting.md): every error code with its cause and fix.
//! - [Performance](https://github.com/meta-messaging/meta-messaging/blob/main/docs/performance.md): benchmarks and how to reproduce them.
//!
//! # Features
#![doc = document_features::document_features!()]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod contract;
pub mod error;
pub mod graph;
pub mod ids;
pub mod inbox;
pub mod media;
pub mod platform;
pub mod secret;
pub mod store;
pub mod telemetry;
pub mod webhook;

pub use error::ErrorChain;
pub use graph::{GraphClient, GraphError};
pub use inbox::{Inbox, InboxBuilder, InboxError, SendRequest, Tenancy};
pub use platform::Platform;
pub use secret::{AppSecret, InstagramAccessToken, PageAccessToken, VerifyToken};
#[cfg(feature = "postgres")]
pub use store::PostgresStore;
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;
pub use store::{InMemoryStore, MessageStore, StoreError};
pub use webhook::{Event, EventDetails, WebhookError};
