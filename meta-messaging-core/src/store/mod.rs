//! The message store: the unified inbox of Messenger and Instagram messages, for many tenants.
//!
//! [`MessageStore`] is one async trait, used as `Arc<dyn MessageStore>`, with three backends:
//!
//! | backend | feature | for |
//! |---|---|---|
//! | [`InMemoryStore`] | always | tests, demos; the reference semantics |
//! | `SqliteStore` | `sqlite` | one instance, one file (WAL, migrations, group commit) |
//! | `PostgresStore` | `postgres` | several instances sharing one database |
//!
//! Every account, conversation and message belongs to a [`TenantId`](crate::ids::TenantId), and
//! every call names the tenant it reads or writes. Webhook events are applied with
//! [`MessageStore::apply`], one transaction per call, idempotently; see `docs/store.md` for the
//! guide, the semantics of each event kind and how to choose a backend.
//!
//! ```
//! use std::sync::Arc;
//! use meta_messaging_core::ids::TenantId;
//! use meta_messaging_core::store::{InMemoryStore, MessageQuery, MessageStore, TenantEvent};
//! use meta_messaging_core::webhook;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store: Arc<dyn MessageStore> = Arc::new(InMemoryStore::new());
//! let body = br#"{"object":"page","entry":[{"id":"104417552380421","time":1700000000000,
//!   "messaging":[{"sender":{"id":"6758492015643287"},"recipient":{"id":"104417552380421"},
//!   "timestamp":1700000000000,"message":{"mid":"m_abc","text":"Hello"}}]}]}"#;
//! let tenant = TenantId::new("acme");
//! let events: Vec<TenantEvent> = webhook::parse(body)?
//!     .into_iter()
//!     .map(|event| TenantEvent::new(tenant.clone(), event))
//!     .collect();
//!
//! let report = store.apply(&events).await?;
//! assert_eq!(report.inserted, 1);
//! assert_eq!(store.apply(&events).await?.inserted, 0); // redelivery: stored once
//!
//! let page = store.list_messages(&tenant, &MessageQuery::new()).await?;
//! assert_eq!(page.data[0].text.as_deref(), Some("Hello"));
//! # Ok(())
//! # }
//! ```
//!
//! # The write path
//!
//! How a call to [`MessageStore::apply`] (or `record_outbound`) reaches the disk, file by file:
//!
//! 1. `api.rs`: the trait; each backend checks the tenant ids first.
//! 2. `plan.rs`: [`TenantEvent`]s become a `Plan`, the same for every backend: message rows
//!    to insert, ops on stored messages (reactions, edits, deletes, receipts), events to keep
//!    raw, accounts to touch. What each event kind means is decided here, once; NUL
//!    characters are replaced here too (`nul.rs`), in every string the plan holds; `pending.rs`
//!    decides what an op whose message has not arrived yet becomes, and in which order such
//!    ops apply when it does.
//! 3. In memory: `memory/apply.rs` executes the plan under one lock, undoing it on failure
//!    (`memory/state.rs`); `memory/pending.rs` keeps the ops whose message is missing and
//!    applies them when it arrives.
//! 4. In SQL: `batch.rs` queues the plan; a writer task takes every plan waiting (up to
//!    `max_batch`) and hands them to the engine together (group commit). A batch that fails
//!    is halved until the failing plans are alone; only they get the error.
//! 5. `sql/engine/write.rs` runs the batch in one transaction: conversations, then messages
//!    (inbound in multi-row inserts, outbound merged one by one), then conversation bumps,
//!    ops (`sql/engine/ops.rs`) and raw events (`sql/engine/raw_events.rs`), then the ops that
//!    waited for the messages just stored (`sql/engine/pending.rs`: one look-up per batch),
//!    then the window openings (postbacks, referrals, reactions: `last_inbound_at_ms`), then
//!    account touches; and commits.
//! 6. `sql/dialect/`: the multi-row statements of step 5, per database (`VALUES` lists on
//!    SQLite, `UNNEST` arrays on PostgreSQL).
//!
//! Reads go from the store type straight to `sql/engine/messages.rs`,
//! `sql/engine/conversations.rs`, `sql/engine/accounts.rs` (or `memory/mod.rs`).

mod account;
mod api;
mod backfill;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod batch;
mod changes;
#[cfg(any(test, feature = "test-util"))]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod conformance;
mod conversation;
mod cursor;
mod deliveries;
mod error;
mod failpoint;
mod handler_queue;
pub mod idempotency;
mod keyring;
mod media;
mod memory;
mod model;
mod nul;
mod owner;
mod pending;
mod plan;
#[cfg(feature = "postgres")]
mod postgres;
mod query;
mod reaction;
mod redact;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
mod stored_token;
mod unrouted;
mod window;

pub use crate::ids::{ConversationId, StoredMessageId};
pub use account::{
    Account, AccountStatus, AccountToken, NewAccount, PLAIN_SCHEME, PlaintextTokens, TokenSealer,
    UnknownTokenScheme,
};
pub use api::{
    ApplyReport, IntoMessageStore, MessageStore, OutboundMessage, RawEvent, TenantEvent,
};
pub use backfill::{BackfillProgress, BackfillState};
pub use changes::{
    Change, ChangeKind, ChangeNotice, ChangePage, ChangeSubject, DEFAULT_CHANGE_RETENTION,
    MAX_CHANGES_PAGE,
};
pub use conversation::{
    Conversation, ConversationKind, ParticipantProfile, UnknownConversationKind,
};
pub use cursor::Cursor;
pub(crate) use deliveries::DeliveryTallies;
pub use deliveries::{DeliveryTally, MAX_UNKNOWN_REASONS, Tallied};
pub use error::StoreError;
#[cfg(any(test, feature = "test-util"))]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub use failpoint::FailPoint;
pub use handler_queue::{HandlerLease, LeaseRequest, MAX_HANDLER_EVENTS_PAGE, QueuedEvent};
pub use idempotency::{
    IdempotencyClaim, IdempotencyClaimRequest, IdempotencyKey, IdempotentAnswer,
    InvalidIdempotencyKey, MAX_IDEMPOTENCY_KEY_LEN, RequestFingerprint,
};
pub use keyring::{SEALED_SCHEME, TOKEN_KEY_VAR, TokenKeyError, TokenKeyring, TokenSealError};
pub use media::{MediaRecord, NewMedia, StoredMediaId};
pub use memory::InMemoryStore;
pub use model::{Direction, MessageReaction, StoredAttachment, StoredMessage, StoredReplyTo};
pub use owner::ThreadOwner;
pub(crate) use plan::now_ms;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
pub use query::{
    ConversationQuery, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MessageQuery, Order, StorePage,
};
pub use redact::redacted_url;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub use sql::engine::SqlStore;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore};
pub use stored_token::StoredToken;
pub use unrouted::{UnroutedEvent, UnroutedReason, UnroutedTally};
pub use window::{HUMAN_AGENT_WINDOW_MS, MessagingWindow, STANDARD_WINDOW_MS, WindowState};
