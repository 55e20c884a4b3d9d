//! What the SQLite and PostgreSQL backends share: the rows they read, how rows become model
//! types, and the column lists. The statements themselves live in [`engine`], generic over the
//! database, because both dialects accept the same SQL for everything the store does except
//! the multi-row writes of a group commit, which [`dialect`] spells for each.

pub(crate) mod dialect;
pub(crate) mod engine;

use std::sync::Arc;

use super::account::{Account, AccountToken, TokenSealer};
use super::api::RawEvent;
use super::conversation::{Conversation, ConversationKind, ParticipantProfile};
use super::error::StoreError;
use super::model::{Direction, StoredMessage};
use super::owner::ThreadOwner;
use super::plan::{ReactionState, visible_reactions};
use super::stored_token::{StoredToken, TokenOwner, TokenWriteBack};
use crate::ids::{AccountId, MessageId, ParticipantId, TenantId, UserId};
use crate::ids::{ConversationId, StoredMessageId};
use crate::platform::Platform;

/// A JSON column's text. The values written (attachments, reply-to) always serialize; `null`
/// would only stand in for one that could not.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// Rows per multi-row INSERT: well under both databases' bound-parameter limits.
pub(crate) const CHUNK_ROWS: usize = 400;

pub(crate) const MESSAGE_COLUMNS: &str = "id, tenant_id, platform, account_id, conversation_id, \
    direction, sender_id, recipient_id, message_id, text, attachments, reply_to, quick_reply, \
    app_id, metadata, timestamp_ms, created_at_ms, delivered_at_ms, read_at_ms, reactions, \
    edit_count, edited_at_ms, deleted, unsupported, hidden, sender_name";

/// The columns of a [`ConversationRecord`], as a literal for `concat!`.
macro_rules! conversation_columns {
    () => {
        "id, tenant_id, platform, account_id, participant_id, participant_name, \
         participant_username, participant_profile_pic_url, last_message_at_ms, last_message_id, \
         last_message_preview, last_message_direction, unread_count, archived, created_at_ms, \
         last_inbound_at_ms, owner, kind"
    };
}
pub(crate) use conversation_columns;

pub(crate) const CONVERSATION_COLUMNS: &str = conversation_columns!();

pub(crate) const ACCOUNT_COLUMNS: &str = "tenant_id, platform, account_id, name, username, \
    linked_page_id, token_kind, token_scheme, token_sealed, token_expires_at_ms, status, \
    last_event_at_ms, created_at_ms, updated_at_ms";

pub(crate) const RAW_EVENT_COLUMNS: &str =
    "id, tenant_id, platform, account_id, kind, reason, timestamp_ms, received_at_ms, raw";

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MessageRecord {
    id: i64,
    tenant_id: String,
    platform: String,
    account_id: String,
    conversation_id: i64,
    direction: String,
    sender_id: String,
    recipient_id: String,
    message_id: String,
    text: Option<String>,
    attachments: String,
    reply_to: Option<String>,
    quick_reply: Option<String>,
    app_id: Option<String>,
    metadata: Option<String>,
    timestamp_ms: i64,
    created_at_ms: i64,
    delivered_at_ms: Option<i64>,
    read_at_ms: Option<i64>,
    reactions: String,
    edit_count: i64,
    edited_at_ms: Option<i64>,
    deleted: bool,
    unsupported: bool,
    hidden: bool,
    sender_name: Option<String>,
    #[sqlx(default)]
    raw_event: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ConversationRecord {
    id: i64,
    tenant_id: String,
    platform: String,
    account_id: String,
    participant_id: String,
    participant_name: Option<String>,
    participant_username: Option<String>,
    participant_profile_pic_url: Option<String>,
    last_message_at_ms: i64,
    last_message_id: Option<String>,
    last_message_preview: Option<String>,
    last_message_direction: Option<String>,
    unread_count: i64,
    archived: bool,
    created_at_ms: i64,
    last_inbound_at_ms: Option<i64>,
    owner: String,
    kind: String,
}

// No `Debug`: under the plain scheme the sealed value is the access token itself.
#[derive(sqlx::FromRow)]
pub(crate) struct AccountRecord {
    tenant_id: String,
    platform: String,
    account_id: String,
    name: Option<String>,
    username: Option<String>,
    linked_page_id: Option<String>,
    token_kind: Option<String>,
    token_scheme: Option<String>,
    token_sealed: Option<String>,
    token_expires_at_ms: Option<i64>,
    status: String,
    last_event_at_ms: Option<i64>,
    created_at_ms: i64,
    updated_at_ms: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RawEventRecord {
    id: i64,
    tenant_id: String,
    platform: String,
    account_id: String,
    kind: String,
    reason: Option<String>,
    timestamp_ms: i64,
    received_at_ms: i64,
    raw: String,
}

/// Platforms are written by the store only, so an unknown name means a hand-edited row; it is
/// read as Messenger rather than failing every list that contains it.
pub(crate) fn platform(name: &str) -> Platform {
    name.parse().unwrap_or(Platform::Messenger)
}

/// A JSON column's value; `what` names it as `table.column` for [`StoreError::Corrupt`].
pub(crate) fn json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Corrupt { what, source })
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

impl MessageRecord {
    pub(crate) fn into_model(self) -> Result<StoredMessage, StoreError> {
        let states: Vec<ReactionState> = json("messages.reactions", &self.reactions)?;
        Ok(StoredMessage {
            id: StoredMessageId::new(self.id),
            tenant_id: TenantId::new(self.tenant_id),
            platform: platform(&self.platform),
            account_id: AccountId::new(self.account_id),
            conversation_id: ConversationId::new(self.conversation_id),
            direction: Direction::from_db(&self.direction),
            sender_id: ParticipantId::new(self.sender_id),
            recipient_id: ParticipantId::new(self.recipient_id),
            message_id: MessageId::new(self.message_id),
            text: self.text,
            attachments: json("messages.attachments", &self.attachments)?,
            reply_to: self
                .reply_to
                .as_deref()
                .map(|t| json("messages.reply_to", t))
                .transpose()?,
            quick_reply: self.quick_reply,
            app_id: self.app_id.map(Into::into),
            metadata: self.metadata,
            timestamp_ms: self.timestamp_ms,
            created_at_ms: self.created_at_ms,
            delivered_at_ms: self.delivered_at_ms,
            read_at_ms: self.read_at_ms,
            reactions: visible_reactions(&states),
            edit_count: count(self.edit_count),
            edited_at_ms: self.edited_at_ms,
            deleted: self.deleted,
            hidden: self.hidden,
            unsupported: self.unsupported,
            sender_name: self.sender_name,
            raw_event: self
                .raw_event
                .as_deref()
                .map(|t| json("messages.raw_event", t))
                .transpose()?,
        })
    }
}

impl ConversationRecord {
    pub(crate) fn into_model(self) -> Conversation {
        let kind = ConversationKind::from_db(&self.kind);
        let participant_id = UserId::new(self.participant_id);
        Conversation {
            id: ConversationId::new(self.id),
            tenant_id: TenantId::new(self.tenant_id),
            kind,
            post_id: Conversation::post_id_of(kind, &participant_id),
            platform: platform(&self.platform),
            account_id: AccountId::new(self.account_id),
            participant_id,
            participant: ParticipantProfile {
                name: self.participant_name,
                username: self.participant_username,
                profile_pic_url: self.participant_profile_pic_url,
            },
            last_message_at_ms: self.last_message_at_ms,
            last_message_id: self.last_message_id.map(MessageId::new),
            last_message_preview: self.last_message_preview,
            last_message_direction: self
                .last_message_direction
                .as_deref()
                .map(Direction::from_db),
            unread_count: count(self.unread_count),
            archived: self.archived,
            created_at_ms: self.created_at_ms,
            owner: ThreadOwner::from_db(&self.owner),
            last_inbound_at_ms: self.last_inbound_at_ms,
        }
    }
}

impl AccountRecord {
    /// The account, its token left sealed: opening it is [`StoredToken::open`]'s job, so a
    /// missing key does not fail listing accounts.
    pub(crate) fn into_model(
        self,
        sealer: &Arc<dyn TokenSealer>,
        write_back: &Arc<dyn TokenWriteBack>,
    ) -> Account {
        let tenant_id = TenantId::new(self.tenant_id);
        let platform = platform(&self.platform);
        let account_id = AccountId::new(self.account_id);
        let token = match (self.token_kind, self.token_scheme, self.token_sealed) {
            (Some(kind), Some(scheme), Some(sealed)) => Some(StoredToken::sealed(
                kind,
                scheme,
                sealed,
                TokenOwner {
                    tenant_id: tenant_id.clone(),
                    platform,
                    account_id: account_id.clone(),
                },
                Arc::clone(sealer),
                Arc::clone(write_back),
            )),
            _ => None,
        };
        Account {
            tenant_id,
            platform,
            account_id,
            name: self.name,
            username: self.username,
            linked_page_id: self.linked_page_id.map(Into::into),
            token,
            token_expires_at_ms: self.token_expires_at_ms,
            status: self.status.parse().unwrap_or_else(|never| match never {}),
            last_event_at_ms: self.last_event_at_ms,
            created_at_ms: self.created_at_ms,
            updated_at_ms: self.updated_at_ms,
        }
    }
}

/// A row's token as [`reseal_tokens`](super::MessageStore::reseal_tokens) reads it.
// No `Debug`: under the plain scheme the sealed value is the access token itself.
#[derive(sqlx::FromRow)]
pub(crate) struct SealedTokenRecord {
    pub tenant_id: String,
    pub platform: String,
    pub account_id: String,
    pub token_scheme: String,
    pub token_sealed: String,
}

impl SealedTokenRecord {
    pub(crate) fn owner(&self) -> TokenOwner {
        TokenOwner {
            tenant_id: TenantId::new(self.tenant_id.as_str()),
            platform: platform(&self.platform),
            account_id: AccountId::new(self.account_id.as_str()),
        }
    }
}

impl RawEventRecord {
    pub(crate) fn into_model(self) -> Result<RawEvent, StoreError> {
        Ok(RawEvent {
            id: self.id,
            tenant_id: TenantId::new(self.tenant_id),
            platform: platform(&self.platform),
            account_id: AccountId::new(self.account_id),
            kind: self.kind,
            reason: self.reason,
            timestamp_ms: self.timestamp_ms,
            received_at_ms: self.received_at_ms,
            raw: json("raw_events.raw", &self.raw)?,
        })
    }
}

/// The sealed form of an account's token, as its row keeps it.
pub(crate) struct SealedToken {
    /// The token's kind (`page`, `user`, ...).
    pub kind: &'static str,
    /// The sealer's scheme.
    pub scheme: String,
    /// The sealed value.
    pub sealed: String,
}

/// Seals a token with the store's sealer, bound to the account it belongs to.
pub(crate) fn seal_token(
    sealer: &Arc<dyn TokenSealer>,
    owner: &TokenOwner,
    token: &AccountToken,
) -> Result<SealedToken, StoreError> {
    let sealed = sealer
        .seal(token.expose(), &owner.associated_data())
        .map_err(StoreError::Token)?;
    Ok(SealedToken {
        kind: token.kind(),
        scheme: sealer.scheme().to_owned(),
        sealed,
    })
}
