//! [`SqlDialect`]: where SQLite and PostgreSQL differ. The engine runs the same statements on
//! both, except for a few constants and the statements that write many rows at once, which the
//! two databases spell differently: SQLite takes one multi-row `VALUES` list (one prepared
//! statement per row count), PostgreSQL one array per column through `UNNEST` (one prepared
//! statement, and one generic plan, for every batch size).

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::future::Future;

use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use crate::store::changes::PendingChange;
use crate::store::conversation::ConversationKind;
use crate::store::plan::{ConversationKey, MessageRow, Target};

/// A conversation to create unless it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewConversation {
    /// Its key.
    pub(crate) key: ConversationKey,
    /// Direct messages or a comment thread.
    pub(crate) kind: ConversationKind,
    /// The time of the first message that names it.
    pub(crate) first_message_at_ms: i64,
}

/// A message to insert.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewMessage<'a> {
    /// The message.
    pub(crate) row: &'a MessageRow,
    /// Its conversation's row id.
    pub(crate) conversation_id: i64,
}

/// A conversation that got messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bump<'a> {
    /// Its row id.
    pub(crate) conversation_id: i64,
    /// The newest of its new messages.
    pub(crate) newest: &'a MessageRow,
    /// How many of its new messages came in unread (history a backfill imported arrives read).
    pub(crate) unread: i64,
    /// The time of the newest of its new inbound messages (the messaging window's start).
    pub(crate) inbound_at: Option<i64>,
}

/// An advisory lock of the pending-op protocol (`engine/pending.rs`): a class and an id, taken
/// shared or exclusive until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LockKey {
    /// What kind of lock (one message, or all of them).
    pub(crate) class: i32,
    /// Which one of its kind.
    pub(crate) id: i32,
    /// Exclusive, or shared.
    pub(crate) exclusive: bool,
}

/// An account that got events. Ordered by key first: that is the order rows are locked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Touch<'a> {
    /// The tenant.
    pub(crate) tenant_id: &'a TenantId,
    /// Messenger or Instagram.
    pub(crate) platform: Platform,
    /// The account.
    pub(crate) account_id: &'a AccountId,
    /// Its newest event's time.
    pub(crate) at_ms: i64,
}

/// What the SQL engine needs of a database beyond the statements both accept: a few constants
/// and the multi-row writes of a group commit. Row order is kept: callers sort rows so that
/// concurrent writers take row locks in one order.
pub(crate) trait SqlDialect: sqlx::Database {
    /// The public name of the store type (its `Debug` output).
    const STORE_NAME: &'static str;
    /// The statement that opens a write transaction.
    const BEGIN_WRITE: &'static str;
    /// Appended to a SELECT whose row is then updated (row lock where the database has them).
    const FOR_UPDATE: &'static str;
    /// Appended to the SELECT that picks a handler cursor `c` to lease: rows another
    /// instance is leasing right now are passed over rather than waited for.
    const SKIP_LOCKED: &'static str;
    /// Whether the database lets one writer in at a time: background writes (kept media) then
    /// take the group commit's connection in turn rather than wait for the database's lock.
    const ONE_WRITER: bool;

    /// Rows a statement changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;

    /// Inserts the conversations that do not exist yet.
    fn insert_conversations(
        tx: &mut sqlx::Transaction<'static, Self>,
        new: &[NewConversation],
        now: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// The conversations with these keys: rows of (id, tenant, platform, account, participant).
    fn find_conversations(
        tx: &mut sqlx::Transaction<'static, Self>,
        keys: &[NewConversation],
    ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send;

    /// Inserts messages, skipping ids the tenant already has on the platform: rows of
    /// (id, tenant, platform, message id) for those inserted.
    fn insert_messages(
        tx: &mut sqlx::Transaction<'static, Self>,
        rows: &[NewMessage<'_>],
        now: i64,
    ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send;

    /// Moves each conversation to its newest message, adds the inbound ones to its unread
    /// count and unarchives it if any came in; with `returning`, rows of the conversations as
    /// moved ([`CONVERSATION_COLUMNS`](crate::store::sql::CONVERSATION_COLUMNS)), else none.
    fn bump_conversations(
        tx: &mut sqlx::Transaction<'static, Self>,
        bumps: &[Bump<'_>],
        returning: bool,
    ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send;

    /// The ops waiting for these messages and not applied yet, with their raw events: rows of
    /// (id, tenant, platform, message id, op, account id, kind, reason, timestamp, received at,
    /// event hash, raw).
    fn find_pending(
        tx: &mut sqlx::Transaction<'static, Self>,
        targets: &[&Target],
    ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send;

    /// Takes these advisory locks, in this order, until the transaction ends; nothing where
    /// one transaction at a time writes the database (SQLite).
    fn lock(
        tx: &mut sqlx::Transaction<'static, Self>,
        keys: &[LockKey],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Moves each account's last-event time forward (never back).
    fn touch_accounts(
        tx: &mut sqlx::Transaction<'static, Self>,
        touches: &[Touch<'_>],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Appends a tenant's changes to the log, numbered after its head, and moves the head past
    /// them (locking its row until the transaction ends): returns the new head.
    fn append_changes(
        tx: &mut sqlx::Transaction<'static, Self>,
        tenant: &TenantId,
        changes: &[PendingChange],
        now: i64,
    ) -> impl Future<Output = Result<i64, sqlx::Error>> + Send;
}
/// The columns a new message row is written with, in the order both dialects bind them.
macro_rules! message_columns {
    () => {
        "tenant_id, platform, account_id, conversation_id, direction, sender_id, recipient_id, \
         message_id, text, attachments, reply_to, quick_reply, app_id, metadata, timestamp_ms, \
         created_at_ms, unsupported, raw_event, sender_name, read_at_ms"
    };
}
use message_columns;

/// The statement that moves a tenant's head ($1) by a count of changes ($2), returning the new
/// head.
macro_rules! move_change_head {
    () => {
        "INSERT INTO change_heads (tenant_id, seq) VALUES ($1, $2) \
         ON CONFLICT (tenant_id) DO UPDATE SET seq = change_heads.seq + excluded.seq \
         RETURNING seq"
    };
}
use move_change_head;

/// The columns of a change row, in the order both dialects bind them.
macro_rules! change_columns {
    () => {
        "tenant_id, seq, kind, conversation_id, message_id, account_platform, account_id, at_ms"
    };
}
use change_columns;

/// The columns of a pending op (`p`) and its raw event (`r`) that `find_pending` returns.
macro_rules! pending_columns {
    () => {
        "p.id, p.tenant_id, p.platform, p.message_id, p.op, r.account_id, r.kind, r.reason, \
         r.timestamp_ms, r.received_at_ms, r.event_hash, r.raw"
    };
}
use pending_columns;

/// What both dialects do with a message id that the tenant already has on the platform, and
/// the columns they return for each row inserted.
macro_rules! on_duplicate_message {
    () => {
        " ON CONFLICT (tenant_id, message_id, platform) DO NOTHING \
         RETURNING id, tenant_id, platform, message_id"
    };
}
use on_duplicate_message;

/// The `SET` list that moves a conversation by a row `v` of (id, unread, at, message_id,
/// preview, direction, inbound_at): the same in both dialects, which differ only in how `v` is
/// spelled.
macro_rules! bump_set {
    () => {
        "unread_count = unread_count + v.unread, \
         last_inbound_at_ms = CASE WHEN v.inbound_at IS NOT NULL AND (last_inbound_at_ms IS NULL \
            OR v.inbound_at > last_inbound_at_ms) THEN v.inbound_at ELSE last_inbound_at_ms END, \
         archived = CASE WHEN v.unread > 0 THEN FALSE ELSE archived END, \
         last_message_id = CASE WHEN v.at >= last_message_at_ms \
            THEN v.message_id ELSE last_message_id END, \
         last_message_preview = CASE WHEN v.at >= last_message_at_ms \
            THEN v.preview ELSE last_message_preview END, \
         last_message_direction = CASE WHEN v.at >= last_message_at_ms \
            THEN v.direction ELSE last_message_direction END, \
         last_message_at_ms = CASE WHEN v.at >= last_message_at_ms \
            THEN v.at ELSE last_message_at_ms END"
    };
}
use bump_set;
