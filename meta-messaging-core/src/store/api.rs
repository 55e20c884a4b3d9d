//! The [`MessageStore`] trait and the types its calls take and return.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

use super::account::{Account, AccountStatus, NewAccount};
use super::conversation::{Conversation, ParticipantProfile};
use super::error::StoreError;
use super::model::{StoredAttachment, StoredMessage, StoredReplyTo};
use super::query::{ConversationQuery, MessageQuery, StorePage};
use crate::ids::{AccountId, MessageId, TenantId, UserId};
use crate::ids::{ConversationId, StoredMessageId};
use crate::platform::Platform;
use crate::webhook::Event;

/// A webhook event and the tenant it was routed to: what [`MessageStore::apply`] takes.
///
/// One Page or Instagram account can be connected by several tenants; the inbox resolves them
/// with [`MessageStore::tenants_for_account`] and passes one `TenantEvent` per tenant.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TenantEvent {
    /// The tenant the event is stored for.
    pub tenant_id: TenantId,
    /// The event.
    pub event: Event,
}

impl TenantEvent {
    /// Pairs an event with its tenant.
    pub fn new(tenant_id: impl Into<TenantId>, event: Event) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            event,
        }
    }
}

/// What one [`MessageStore::apply`] call changed. Applying the same events again reports all
/// zeros but `duplicates`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ApplyReport {
    /// Messages stored for the first time (inbound messages and echoes of messages the store
    /// did not have).
    pub inserted: u64,
    /// Existing messages changed: an echo merged into an outbound row, a reaction, an edit, a
    /// delete, a read or delivery receipt (counted per message). Also each event that arrived
    /// before its message and was applied when this call stored the message, if it changed
    /// the message (its arrival was counted in `raw_kept`).
    pub updated: u64,
    /// Events kept in the raw-events table: kinds the store does not model (postbacks,
    /// referrals, opt-ins, handovers, comments, mentions, unknown events) and events that
    /// refer to a message the store does not have yet (a reaction, edit, unsend or receipt,
    /// also kept to be applied when the message arrives).
    pub raw_kept: u64,
    /// Events that changed nothing (already applied).
    pub duplicates: u64,
}

/// A message the account sent through the Send API, for [`MessageStore::record_outbound`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OutboundMessage {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The sending Page or Instagram account.
    pub account_id: AccountId,
    /// The user it was sent to.
    pub recipient_id: UserId,
    /// The `message_id` Meta answered with: the later echo webhook carries the same id.
    pub message_id: MessageId,
    /// The text.
    pub text: Option<String>,
    /// Attachments.
    pub attachments: Vec<StoredAttachment>,
    /// What it replies to.
    pub reply_to: Option<StoredReplyTo>,
    /// The `metadata` sent with it.
    pub metadata: Option<String>,
    /// When it was sent, in ms since the epoch.
    pub timestamp_ms: i64,
}

impl OutboundMessage {
    /// An outbound message with no text or attachments; set them with the `with_*` methods.
    pub fn new(
        platform: Platform,
        account_id: impl Into<AccountId>,
        recipient_id: impl Into<UserId>,
        message_id: impl Into<MessageId>,
        timestamp_ms: i64,
    ) -> Self {
        Self {
            platform,
            account_id: account_id.into(),
            recipient_id: recipient_id.into(),
            message_id: message_id.into(),
            text: None,
            attachments: Vec::new(),
            reply_to: None,
            metadata: None,
            timestamp_ms,
        }
    }

    /// Sets the text.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Adds an attachment.
    #[must_use]
    pub fn with_attachment(mut self, attachment: StoredAttachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Sets what it replies to.
    #[must_use]
    pub fn with_reply_to(mut self, reply_to: StoredReplyTo) -> Self {
        self.reply_to = Some(reply_to);
        self
    }

    /// Sets the metadata string.
    #[must_use]
    pub fn with_metadata(mut self, metadata: impl Into<String>) -> Self {
        self.metadata = Some(metadata.into());
        self
    }
}

/// An event kept whole in the raw-events table (see [`ApplyReport::raw_kept`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RawEvent {
    /// The store's id (ascending in arrival order).
    #[serde(serialize_with = "id_as_string")]
    pub id: i64,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The receiving account.
    pub account_id: AccountId,
    /// The event kind (`postback`, `unknown`, `reaction`, ...).
    pub kind: String,
    /// Why it was kept raw, when it was not simply a kind the store does not model.
    pub reason: Option<String>,
    /// The event's time, in ms since the epoch.
    pub timestamp_ms: i64,
    /// When the store received it.
    pub received_at_ms: i64,
    /// The event's JSON as Meta sent it.
    pub raw: serde_json::Value,
}

fn id_as_string<S: serde::Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// One stored message store: messages, conversations and accounts of many tenants.
///
/// Every call that reads or changes tenant data takes the [`TenantId`] and sees only that
/// tenant's rows. Use it as `Arc<dyn MessageStore>`; backends are [`InMemoryStore`](super::InMemoryStore),
/// `SqliteStore` (feature `sqlite`) and `PostgresStore` (feature `postgres`).
///
/// # Errors
/// Every method returns [`StoreError`]: database failures, invalid cursors or input, and
/// [`StoreError::NotFound`] where a method names a row that must exist.
#[async_trait]
pub trait MessageStore: Send + Sync + fmt::Debug {
    /// Applies a batch of routed webhook events (typically one delivery's) in one transaction,
    /// and returns once the write is durable.
    ///
    /// Idempotent: a redelivered message is stored once, an echo merges with the outbound row
    /// of [`record_outbound`](Self::record_outbound), and applying the same events twice
    /// changes nothing. Order does not matter either: a reaction, edit, unsend or receipt that
    /// names a message the store does not have yet is kept, and applied when the message
    /// arrives (through `apply` or `record_outbound`). Either every event is applied or none is.
    async fn apply(&self, events: &[TenantEvent]) -> Result<ApplyReport, StoreError>;

    /// Stores a message sent through the Send API (with the id Meta answered), once: its echo
    /// webhook, before or after, merges with it. Returns the stored message.
    async fn record_outbound(
        &self,
        tenant: &TenantId,
        message: &OutboundMessage,
    ) -> Result<StoredMessage, StoreError>;

    /// Keeps events whose account no tenant has connected, so nothing is lost; returns how
    /// many were new.
    async fn record_unrouted(&self, events: &[Event]) -> Result<u64, StoreError>;

    /// How many unrouted events the store keeps for an account.
    async fn unrouted_count(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<u64, StoreError>;

    /// A message by the store's id.
    async fn get_message(
        &self,
        tenant: &TenantId,
        id: StoredMessageId,
    ) -> Result<Option<StoredMessage>, StoreError>;

    /// A message by Meta's id.
    async fn find_message(
        &self,
        tenant: &TenantId,
        platform: Platform,
        message_id: &MessageId,
    ) -> Result<Option<StoredMessage>, StoreError>;

    /// One page of messages.
    async fn list_messages(
        &self,
        tenant: &TenantId,
        query: &MessageQuery,
    ) -> Result<StorePage<StoredMessage>, StoreError>;

    /// How many messages match the query's filters (its order, cursor and limit are ignored).
    async fn count_messages(
        &self,
        tenant: &TenantId,
        query: &MessageQuery,
    ) -> Result<u64, StoreError>;

    /// A conversation by id.
    async fn get_conversation(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError>;

    /// One page of conversations, by last activity.
    async fn list_conversations(
        &self,
        tenant: &TenantId,
        query: &ConversationQuery,
    ) -> Result<StorePage<Conversation>, StoreError>;

    /// Marks every inbound message of a conversation read (now) and zeroes its unread count.
    async fn mark_conversation_read(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Conversation, StoreError>;

    /// Archives or unarchives a conversation.
    async fn set_conversation_archived(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        archived: bool,
    ) -> Result<Conversation, StoreError>;

    /// Replaces the participant profile of a conversation.
    async fn set_participant_profile(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        profile: &ParticipantProfile,
    ) -> Result<Conversation, StoreError>;

    /// Connects an account for a tenant, or updates it (name, token, status, ...).
    async fn upsert_account(
        &self,
        tenant: &TenantId,
        account: &NewAccount,
    ) -> Result<Account, StoreError>;

    /// One account of a tenant.
    async fn get_account(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Option<Account>, StoreError>;

    /// Every account of a tenant, by platform and id.
    async fn list_accounts(&self, tenant: &TenantId) -> Result<Vec<Account>, StoreError>;

    /// Changes an account's status.
    async fn set_account_status(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
        status: &AccountStatus,
    ) -> Result<Account, StoreError>;

    /// The tenants a delivery for this account is routed to: every tenant that connected it
    /// and has not set it [`Disconnected`](AccountStatus::Disconnected), sorted.
    async fn tenants_for_account(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Vec<TenantId>, StoreError>;

    /// Raw events kept for a tenant, newest first: `before` is the smallest id of the previous
    /// page.
    async fn list_raw_events(
        &self,
        tenant: &TenantId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<RawEvent>, StoreError>;

    /// Re-seals every stored account token (of every tenant) that is not sealed under the
    /// store's current [`TokenSealer`](super::TokenSealer) scheme: tokens stored in clear
    /// (`plain`) or under a key that is being rotated out. Returns how many were rewritten.
    ///
    /// All or nothing: when one token does not open (its key is not configured), nothing is
    /// rewritten and the error says which key is missing. The default implementation, for
    /// stores that keep tokens unsealed (the in-memory one), rewrites nothing.
    async fn reseal_tokens(&self) -> Result<usize, StoreError> {
        Ok(0)
    }
}

/// What [`InboxBuilder::store`](crate::inbox::InboxBuilder::store) accepts: a store by value
/// (`InMemoryStore::new()`, an opened `SqliteStore`), or an `Arc` of one you also keep (to share
/// it with other code, or an `Arc<dyn MessageStore>` chosen at run time).
pub trait IntoMessageStore {
    /// The store, shared.
    fn into_message_store(self) -> Arc<dyn MessageStore>;
}

impl<S: MessageStore + 'static> IntoMessageStore for S {
    fn into_message_store(self) -> Arc<dyn MessageStore> {
        Arc::new(self)
    }
}

impl<S: MessageStore + 'static> IntoMessageStore for Arc<S> {
    fn into_message_store(self) -> Arc<dyn MessageStore> {
        self
    }
}

impl IntoMessageStore for Arc<dyn MessageStore> {
    fn into_message_store(self) -> Arc<dyn MessageStore> {
        self
    }
}
