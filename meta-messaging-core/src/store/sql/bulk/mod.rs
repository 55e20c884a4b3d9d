//! The statements that write many rows at once, which the two databases spell differently:
//! SQLite takes one multi-row `VALUES` list (one prepared statement per row count), PostgreSQL
//! one array per column through `UNNEST` (one prepared statement, and one generic plan, for
//! every batch size). Everything else the engine runs is the same SQL on both.

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use crate::ids::{AccountId, TenantId, UserId};
use crate::platform::Platform;
use crate::store::plan::MessageRow;

/// A conversation's natural key: (tenant, platform, account, participant).
pub(crate) type ConvKey = (TenantId, Platform, AccountId, UserId);

/// A message to insert, with its conversation's row id.
pub(crate) type NewMessage<'a> = (&'a MessageRow, i64);

/// A conversation that got messages: (row id, its newest new message, how many were inbound).
pub(crate) type Bump<'a> = (i64, &'a MessageRow, i64);

/// An account that got events: (tenant, platform, account, newest event time).
pub(crate) type Touch<'a> = (&'a TenantId, Platform, &'a AccountId, i64);

/// Multi-row writes in this database's dialect. Row order is kept: callers sort rows so that
/// concurrent writers take row locks in one order.
pub(crate) trait BulkWrites: sqlx::Database {
    /// Inserts conversations (key, first message time) that do not exist yet.
    async fn insert_conversations(
        tx: &mut sqlx::Transaction<'static, Self>,
        keys: &[(ConvKey, i64)],
        now: i64,
    ) -> Result<(), sqlx::Error>;

    /// The conversations with these keys: rows of (id, tenant, platform, account, participant).
    async fn find_conversations(
        tx: &mut sqlx::Transaction<'static, Self>,
        keys: &[(ConvKey, i64)],
    ) -> Result<Vec<Self::Row>, sqlx::Error>;

    /// Inserts messages, skipping ids the tenant already has on the platform: rows of
    /// (id, tenant, platform, message id) for those inserted.
    async fn insert_messages(
        tx: &mut sqlx::Transaction<'static, Self>,
        rows: &[NewMessage<'_>],
        now: i64,
    ) -> Result<Vec<Self::Row>, sqlx::Error>;

    /// Moves each conversation to its newest message, adds the inbound ones to its unread
    /// count and unarchives it if any came in.
    async fn bump_conversations(
        tx: &mut sqlx::Transaction<'static, Self>,
        bumps: &[Bump<'_>],
    ) -> Result<(), sqlx::Error>;

    /// Moves each account's last-event time forward (never back).
    async fn touch_accounts(
        tx: &mut sqlx::Transaction<'static, Self>,
        touches: &[Touch<'_>],
    ) -> Result<(), sqlx::Error>;
}

/// The columns a new message row is written with, in the order both dialects bind them.
macro_rules! message_columns {
    () => {
        "tenant_id, platform, account_id, conversation_id, direction, sender_id, recipient_id, \
         message_id, text, attachments, reply_to, quick_reply, app_id, metadata, timestamp_ms, \
         created_at_ms, unsupported, raw_event"
    };
}
use message_columns;

/// What both dialects do with a message id that the tenant already has on the platform, and
/// the columns they return for each row inserted.
macro_rules! on_duplicate_message {
    () => {
        " ON CONFLICT (tenant_id, message_id, platform) DO NOTHING \
         RETURNING id, tenant_id, platform, message_id"
    };
}
use on_duplicate_message;

/// The `SET` list that moves a conversation by a row `v` of (id, inbound, at, message_id,
/// preview, direction): the same in both dialects, which differ only in how `v` is spelled.
macro_rules! bump_set {
    () => {
        "unread_count = unread_count + v.inbound, \
         archived = CASE WHEN v.inbound > 0 THEN FALSE ELSE archived END, \
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
