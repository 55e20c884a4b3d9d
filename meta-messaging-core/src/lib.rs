//! The framework-free core of **meta-messaging**: receive and send Facebook Messenger and
//! Instagram Direct messages from your own Rust server.
//!
//! This crate holds everything that does not depend on a web framework. Mount it into a server
//! with [`meta-messaging-axum`](https://docs.rs/meta-messaging-axum) or
//! [`meta-messaging-actix`](https://docs.rs/meta-messaging-actix); the `meta-messaging` command
//! line tool (crate `meta-messaging-cli`) inspects, signs and simulates deliveries.
//!
//! # Quickstart: verify and parse a webhook delivery
//!
//! ```
//! use meta_messaging_core::secret::AppSecret;
//! use meta_messaging_core::webhook::{self, EventDetails, SignatureVerifier};
//!
//! # fn main() -> Result<(), meta_messaging_core::Error> {
//! let verifier = SignatureVerifier::new(AppSecret::new("your-app-secret"));
//!
//! // In your handler: the raw body bytes and the X-Hub-Signature-256 header.
//! let body = br#"{"object":"instagram","entry":[{"id":"17841400000000000","time":1700000000000,
//!   "messaging":[{"sender":{"id":"5000000000000001"},"recipient":{"id":"17841400000000000"},
//!   "timestamp":1700000000000,"message":{"mid":"aWdfZAG1faXRlbT","text":"Hi!"}}]}]}"#;
//! let signature = webhook::sign(&AppSecret::new("your-app-secret"), body);
//!
//! verifier.verify(Some(&signature), body)?;
//! for event in webhook::parse(body)? {
//!     match &event.details {
//!         EventDetails::Message(message) => {
//!             println!("{} on {} says {:?}", event.sender_id.as_ref().unwrap(), event.platform, message.text);
//!         }
//!         EventDetails::Unknown(unknown) => println!("kept an unknown event: {}", unknown.reason),
//!         _ => {}
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Modules
//!
//! - [`webhook`]: signature verification, the subscription handshake, typed [`Event`](webhook::Event)s.
//! - [`ids`]: typed ids (`PageId`, `InstagramAccountId`, `Psid`, `Igsid`, `MessageId`, ...).
//! - [`secret`]: the app secret and verify token, redacted in `Debug`.
//! - [`platform`]: Messenger or Instagram.
//! - [`graph`]: the Graph API client: send and read messages, OAuth and accounts, errors with fixes.
//! - [`store`]: the `MessageStore` trait and its in-memory, SQLite and PostgreSQL backends.
//! - [`inbox`]: the service that ties them together: receive, send, query, live updates.
//! - [`http`]: the framework-free HTTP contract the axum and actix-web adapters share.
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

pub mod error;
pub mod graph;
pub mod http;
pub mod ids;
pub mod inbox;
pub mod platform;
pub mod secret;
pub mod store;
pub mod webhook;

pub use error::{Error, Result};
pub use platform::Platform;
