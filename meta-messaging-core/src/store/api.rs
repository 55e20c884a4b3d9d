//! The [`MessageStore`] trait and the types its calls take and return.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

use super::account::{Account, AccountStatus, NewAccount};
use super::backfill::BackfillProgress;
use super::changes::{ChangeNotice, ChangePage};
use super::conversation::{Conversation, ParticipantProfile};
use super::deliveries::DeliveryTally;
use super::error::StoreError;
use super::handler_queue::{HandlerLease, LeaseRequest, QueuedEvent};
use super::idempotency::{
    IdempotencyClaim, IdempotencyClaimRequest, IdempotencyKey, IdempotentAnswer,
};
use super::media::{MediaRecord, NewMedia, StoredMediaId};
use super::model::{StoredAttachment, StoredMessage, StoredReplyTo};
use super::owner::ThreadOwner;
use super::query::{ConversationQuery, MessageQuery, StorePage};
use super::unrouted::{UnroutedEvent, UnroutedTally};
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
    /// Whether a message it brings in is stored already read: history that a backfill imports
    /// neither counts as unread nor unarchives its conversation. `false` for deliveries.
    pub already_read: bool,
}

impl TenantEvent {
    /// Pairs an event with its tenant.
    pub fn new(tenant_id: impl Into<TenantId>, event: Event) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            event,
            already_read: false,
        }
    }

    /// The same event, its inbound message stored already read (see
    /// [`already_read`](Self::already_read)).
    #[must_use]
    pub fn read(mut self) -> Self {
        self.already_read = true;
        self
    }
}

/// What one [`MessageStore::apply`] call changed. Applying the same events again reports all
/// zeros but `duplicates`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct ApplyReport {
    /// Messages stored for the first time (inbound messages, echoes of messages the store
    /// did not have, and new comments).
    pub inserted: u64,
    /// Existing messages changed: an echo merged into an outbound row, a reaction, an edit, a
    /// delete, a read or delivery receipt (counted per message). Also each event that arrived
    /// before its message and was applied when this call stored the message, if it changed
    /// the message (its arrival was counted in `raw_kept`).
    pub updated: u64,
    /// Events kept in the raw-events table: kinds the store does not model (postbacks,
    /// referrals, opt-ins, handovers, mentions, unknown events) and events that refer to a
    /// message the store does not have yet (a reaction, edit, unsend, receipt, or a comment's
    /// edit, removal or hiding, also kept to be applied when the message arrives).
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
    /// Why it was kept raw, when it was not simply a kind the store does not model; for an
    /// unrouted event, why no tenant received it ([`UnroutedReason`](super::UnroutedReason)).
    pub reason: Option<String>,
    /// The event's time, in ms since the epoch.
    pub timestamp_ms: i64,
    /// When the store received it.
    pub received_at_ms: i64,
    /// The event's JSON as Meta sent it (NUL characters replaced, as everywhere in the store).
    pub raw: serde_json::Value,
}

impl RawEvent {
    /// The event again, read from its kept JSON as Meta sent it (wrapped in a delivery of its
    /// platform and account; a `changes[]` item is recognized by its `field`). An event kept
    /// from `standby[]` comes back as a `messaging[]` one.
    ///
    /// # Errors
    /// [`WebhookError`](crate::webhook::WebhookError) when the kept JSON is not an event.
    pub fn to_events(&self) -> Result<Vec<Event>, crate::webhook::WebhookError> {
        let list = if self.raw.get("field").is_some() {
            "changes"
        } else {
            "messaging"
        };
        let delivery = serde_json::json!({
            "object": self.platform.webhook_object(),
            "entry": [{
                "id": self.account_id,
                "time": self.timestamp_ms,
                list: [&self.raw],
            }],
        });
        crate::webhook::parse(delivery.to_string().as_bytes())
    }
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
/// Every backend replaces the NUL character (which PostgreSQL refuses in text) with U+FFFD in
/// every string and id it keeps, and in every id a call looks up, so that all of them keep,
/// find and return the same values.
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

    /// Keeps events no tenant received, each with why
    /// ([`UnroutedReason`](super::UnroutedReason)), so nothing is lost; returns how many were
    /// new. An event kept already (a redelivery) keeps its first reason.
    async fn record_unrouted(&self, events: &[UnroutedEvent]) -> Result<u64, StoreError>;

    /// The events kept for an account no tenant had connected, oldest first, with an id above
    /// `after` (0: from the first), at most `limit`: what
    /// [`Inbox::replay_unrouted`](crate::inbox::Inbox::replay_unrouted) applies for a tenant that
    /// connects the account. Their `tenant_id` is empty, and their `reason` the name of their
    /// [`UnroutedReason`](super::UnroutedReason).
    async fn unrouted_events(
        &self,
        platform: Platform,
        account_id: &AccountId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<RawEvent>, StoreError>;

    /// How many unrouted events the store keeps for an account.
    async fn unrouted_count(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<u64, StoreError>;

    /// The unrouted events the store keeps for an account, grouped by reason (sorted): how
    /// many, and when the last one arrived.
    async fn unrouted_tallies(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Vec<UnroutedTally>, StoreError>;

    /// Adds tallies to the delivery log, in one write: for each account, counts add up and the
    /// newest time stays, per event kind and per reason of unknown events; an account keeps at
    /// most [`MAX_UNKNOWN_REASONS`](super::MAX_UNKNOWN_REASONS) reasons (a tally of a reason
    /// beyond them is left out). Every instance sharing the store adds its own, so the log
    /// covers them all. Either every tally is added or none is.
    async fn record_deliveries(&self, tallies: &[DeliveryTally]) -> Result<(), StoreError>;

    /// An account's delivery log: one tally per event kind (by kind), then one per reason of
    /// unknown events (by reason).
    async fn delivery_tallies(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Vec<DeliveryTally>, StoreError>;

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

    /// The conversation of an account with a user, if the store has one (what a send looks up
    /// for its [`MessagingWindow`](super::MessagingWindow)).
    async fn find_conversation(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
        participant_id: &UserId,
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

    /// Sets who answers a conversation (the handover between a bot and a human).
    async fn set_conversation_owner(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        owner: ThreadOwner,
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

    /// Whether any tenant has connected this account, whatever its status now (a
    /// [`Disconnected`](AccountStatus::Disconnected) one included): what tells an account
    /// that every tenant disconnected from one that none ever connected.
    async fn account_registered(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<bool, StoreError>;

    /// Raw events kept for a tenant, newest first: `before` is the smallest id of the previous
    /// page.
    async fn list_raw_events(
        &self,
        tenant: &TenantId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<RawEvent>, StoreError>;

    /// One page of a tenant's change log: its changes with a sequence number above `after`
    /// (0: from the first), oldest first, at most `limit` (1 to
    /// [`MAX_CHANGES_PAGE`](super::MAX_CHANGES_PAGE)), each with what it names as it is now.
    ///
    /// A keyset read: asking again with the last `seq` continues where the page stopped, with
    /// no gap and no repeat, whatever is written meanwhile (a change is visible only once every
    /// change before it is). [`ChangePage::gap`] says when changes after `after` were pruned.
    async fn changes_after(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<ChangePage, StoreError>;

    /// The tenant's newest change sequence number (0 before its first change).
    async fn change_head(&self, tenant: &TenantId) -> Result<u64, StoreError>;

    /// Deletes every tenant's changes written before `before_ms` (ms since the epoch); the
    /// sequences go on from where they were. Returns how many were deleted.
    async fn prune_changes(&self, before_ms: i64) -> Result<u64, StoreError>;

    /// Notices of this process's commits that appended changes: a wake-up for readers of the
    /// log (live events, caches). Each call is a new receiver; one that falls 4096 notices
    /// behind gets `Lagged` and should read every log it follows.
    fn change_notices(&self) -> tokio::sync::broadcast::Receiver<ChangeNotice>;

    /// Told by the inbox when a live follower of this process starts (`true`) and stops
    /// (`false`), counted. A store that can hand a commit's changes over with its notice
    /// ([`ChangeNotice::changes`]) does so only while one runs, as knowing them costs its
    /// writer. The default ignores it.
    fn follow_changes(&self, following: bool) {
        let _ = following;
    }

    /// Claims an idempotency key for a request, atomically: creates the tenant's record of
    /// `claim.key` in flight with the request's fingerprint when there is none (or the one
    /// there expired at or before `claim.now_ms`), else reports the live record. Of two
    /// concurrent claims of one key, exactly one gets [`IdempotencyClaim::Claimed`], across
    /// every instance sharing the database. See [`idempotency`](super::idempotency) for the
    /// lifecycle.
    async fn claim_idempotency_key(
        &self,
        tenant: &TenantId,
        claim: &IdempotencyClaimRequest,
    ) -> Result<IdempotencyClaim, StoreError>;

    /// Stores the answer of the request that holds the key in flight: every later claim with
    /// the same fingerprint gets it back, until the record expires.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the tenant has no record of the key in flight (it was
    /// released, finished or pruned).
    async fn finish_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
        answer: &IdempotentAnswer,
    ) -> Result<(), StoreError>;

    /// Deletes the tenant's record of the key while it is in flight, so the client may retry
    /// with the same key: for requests that certainly had no effect. A finished record is
    /// kept; releasing a key with no record does nothing.
    async fn release_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError>;

    /// Deletes the idempotency records (of every tenant) that expired at or before `now_ms`;
    /// returns how many.
    async fn prune_idempotency_keys(&self, now_ms: i64) -> Result<u64, StoreError>;

    /// Queues, for the event handlers, the events that are not queued yet: each event once
    /// per tenant (a redelivery is recognized by its hash), numbered by the tenant's queue
    /// sequence in the order given. Returns how many were queued.
    async fn queue_handler_events(&self, events: &[TenantEvent]) -> Result<u64, StoreError>;

    /// Registers a handler: every tenant with queued events gets the handler's cursor at its
    /// newest event, unless the handler has one (so a new handler does not run history, and a
    /// known one resumes where it stopped). A tenant without a cursor starts at 0.
    async fn register_handler(&self, handler: &str) -> Result<(), StoreError>;

    /// Leases, for `request.handler`, one tenant with events after the handler's cursor whose
    /// lease is free (never leased, released, or ended at or before `request.now_ms`). Of
    /// concurrent requests, across every instance sharing the database, at most one gets a
    /// given tenant. `None`: no work now.
    async fn lease_handler_work(
        &self,
        request: &LeaseRequest,
    ) -> Result<Option<HandlerLease>, StoreError>;

    /// A tenant's queued events after `after`, oldest first, at most `limit` (1 to
    /// [`MAX_HANDLER_EVENTS_PAGE`](super::MAX_HANDLER_EVENTS_PAGE)).
    async fn handler_events_after(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<QueuedEvent>, StoreError>;

    /// Ends a lease: the handler's cursor for the tenant moves to `cursor` and, when
    /// `retry_at_ms` is `None`, its attempts go back to 0 and the tenant is free now; when it
    /// is `Some`, the event after `cursor` failed: its attempts count one more (or 1 when the
    /// cursor moved) and nobody leases the tenant before `retry_at_ms`. Returns `false` (and
    /// changes nothing) when `owner` no longer holds the lease.
    async fn release_handler_lease(
        &self,
        handler: &str,
        tenant: &TenantId,
        owner: &str,
        cursor: u64,
        retry_at_ms: Option<i64>,
    ) -> Result<bool, StoreError>;

    /// Extends the lease `owner` holds on `handler`'s work for `tenant` until `until_ms`, for a
    /// batch that takes longer than its lease. Returns `false` (and changes nothing) when
    /// `owner` no longer holds it (it was released, or ran out and another owner took it).
    async fn extend_handler_lease(
        &self,
        handler: &str,
        tenant: &TenantId,
        owner: &str,
        until_ms: i64,
    ) -> Result<bool, StoreError>;

    /// The handler's cursor for a tenant and its attempts (`None`: no cursor yet).
    async fn handler_cursor(
        &self,
        handler: &str,
        tenant: &TenantId,
    ) -> Result<Option<HandlerLease>, StoreError>;

    /// Saves the progress of an account's history backfill, replacing the one saved before for
    /// the same tenant, platform and account (NUL characters in its strings replaced).
    async fn save_backfill(
        &self,
        tenant: &TenantId,
        progress: &BackfillProgress,
    ) -> Result<(), StoreError>;

    /// The saved progress of an account's history backfill (`None`: never started).
    async fn backfill_progress(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Option<BackfillProgress>, StoreError>;

    /// Every backfill, of every tenant, saved as running: the runs a stop of the process
    /// interrupted, which an inbox resumes when it starts. Paused and failed backfills wait for
    /// the next run asked for.
    async fn interrupted_backfills(&self) -> Result<Vec<(TenantId, BackfillProgress)>, StoreError>;

    /// Records a downloaded attachment of a message, in one write: its [`MediaRecord`]
    /// (replacing one of the same attachment), the attachment's JSON marked kept (`media_url`,
    /// `mime`, `size`, `sha256`, `stored: true`) and a `message_updated` change. Returns the
    /// message as it is now, or `None` (recording nothing) when the tenant has no such message,
    /// it was deleted, or it has no attachment at that position.
    ///
    /// Provided: [`record_media_batch`](Self::record_media_batch) of one.
    async fn record_media(
        &self,
        tenant: &TenantId,
        media: &NewMedia,
    ) -> Result<Option<StoredMessage>, StoreError> {
        self.record_media_batch(&[(tenant.clone(), media.clone())])
            .await
            .pop()
            .unwrap_or_else(|| Err(super::media::unanswered()))
    }

    /// Records downloaded attachments, each as [`record_media`](Self::record_media) does, in
    /// one write for all of them: one transaction (one durable commit) and one append to the
    /// change log, with a `message_updated` change for each message recorded. Returns each
    /// item's outcome, in order: the message as it is now, `None` where `record_media` would
    /// record nothing (the other items are recorded all the same), or the item's error.
    ///
    /// When the write of all of them fails, each item is written alone, so that an item that
    /// fails fails alone; when the database itself is unavailable, every item gets that error.
    async fn record_media_batch(
        &self,
        items: &[(TenantId, NewMedia)],
    ) -> Vec<Result<Option<StoredMessage>, StoreError>>;

    /// A tenant's kept attachment (`None` for another tenant's).
    async fn get_media(
        &self,
        tenant: &TenantId,
        id: &StoredMediaId,
    ) -> Result<Option<MediaRecord>, StoreError>;

    /// Deletes the media records of a message (its sender unsent it) and returns them, so the
    /// caller can delete the files no other record names ([`media_in_use`](Self::media_in_use)).
    async fn delete_message_media(
        &self,
        tenant: &TenantId,
        message: StoredMessageId,
    ) -> Result<Vec<MediaRecord>, StoreError>;

    /// Deletes the media records (of every tenant) kept before `before_ms` and returns them.
    /// The attachments' JSON keeps its `media_url`, which then answers 404.
    async fn prune_media(&self, before_ms: i64) -> Result<Vec<MediaRecord>, StoreError>;

    /// Whether any media record (of any tenant) names the file of this SHA-256.
    async fn media_in_use(&self, sha256: &str) -> Result<bool, StoreError>;

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

    /// Whether the store can serve requests now: the database answers and its schema has every
    /// migration this version needs. What `GET /health/ready` asks (within a short timeout:
    /// an unreachable database may not answer at all).
    ///
    /// The default implementation, for stores that need no connection (the in-memory one),
    /// is always ready.
    ///
    /// # Errors
    /// The database's error when it cannot be reached; `StoreError::MigrationsPending` when
    /// the schema is behind.
    async fn ready(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Waits until every write submitted before the call (a delivery's `apply`, a sent
    /// message's `record_outbound`) has been committed or failed: what a graceful shutdown
    /// waits for before the process exits, so no write it accepted is left half-way in a
    /// group commit's queue. Writes submitted meanwhile are waited for too.
    ///
    /// The default implementation, for stores that write in the caller's task (the in-memory
    /// one), has nothing to wait for.
    ///
    /// # Errors
    /// None from the backends of this crate; a store of yours may report its own.
    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
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
