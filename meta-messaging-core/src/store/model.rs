//! Stored messages: [`StoredMessage`] and the parts it is made of.

use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, AppId, CommentId, MediaId, MessageId, ParticipantId, TenantId};
use crate::ids::{ConversationId, StoredMessageId};
use crate::platform::Platform;
use crate::webhook::{Attachment, AttachmentType, ReplyTo};

/// Who sent a message, seen from the business account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the user to the account.
    Inbound,
    /// From the account (this app, another app, or a person in Meta's inbox) to the user.
    Outbound,
}

impl Direction {
    /// `"inbound"` or `"outbound"`, as in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn from_db(text: &str) -> Self {
        if text == "outbound" {
            Direction::Outbound
        } else {
            Direction::Inbound
        }
    }
}

/// One attachment of a stored message: what Meta sent, in a form the store can read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct StoredAttachment {
    /// Meta's type name (`image`, `video`, `share`, `story_mention`, ...).
    #[serde(rename = "type")]
    pub kind: AttachmentType,
    /// The content URL on Meta's CDN. It expires: download what you must keep.
    pub url: Option<String>,
    /// A title (shares, reels, posts, templates).
    #[serde(default)]
    pub title: Option<String>,
    /// Messenger stickers.
    #[serde(default)]
    pub sticker_id: Option<String>,
    /// The attachment's whole `payload` as Meta sent it (coordinates, template elements, reel
    /// ids, ...); `null` when there was none.
    #[serde(default)]
    pub payload: serde_json::Value,
    /// Once the media is kept (see [`crate::media`]): where the inbox serves it,
    /// `{mount}/media/{id}` (or `media/{id}`, relative to the mount, when the inbox was not
    /// told where it is mounted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    /// Once kept: the media type Meta's CDN answered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// Once kept: its size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Once kept: the SHA-256 of its bytes, in lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Whether the media is kept by the inbox (`false` until its download lands, and for good
    /// when it was refused: too large, or Meta's URL gone).
    #[serde(default)]
    pub stored: bool,
}

impl StoredAttachment {
    /// An attachment of a type and URL.
    pub fn new(kind: AttachmentType, url: Option<String>) -> Self {
        Self {
            kind,
            url,
            title: None,
            sticker_id: None,
            payload: serde_json::Value::Null,
            media_url: None,
            mime: None,
            size: None,
            sha256: None,
            stored: false,
        }
    }
}

impl From<&Attachment> for StoredAttachment {
    fn from(a: &Attachment) -> Self {
        Self {
            kind: a.kind.clone(),
            url: a.url.clone(),
            title: a.title.clone(),
            sticker_id: a.sticker_id.clone(),
            payload: a.payload.clone(),
            media_url: None,
            mime: None,
            size: None,
            sha256: None,
            stored: false,
        }
    }
}

/// What a stored message replies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StoredReplyTo {
    /// An earlier message.
    Message {
        /// Its Meta id.
        mid: MessageId,
    },
    /// An Instagram story of the account.
    Story {
        /// The story's media id.
        id: Option<MediaId>,
        /// The story's CDN URL (expires).
        url: Option<String>,
    },
    /// A comment: the message is a private reply to it, the first message of a direct
    /// conversation that the comment opened.
    Comment {
        /// Meta's comment id (the `message_id` of the comment in its thread).
        id: CommentId,
    },
}

impl StoredReplyTo {
    /// A reply to an earlier message.
    pub fn message(mid: impl Into<MessageId>) -> Self {
        StoredReplyTo::Message { mid: mid.into() }
    }

    pub(crate) fn from_webhook(reply: &ReplyTo) -> Option<Self> {
        // `ReplyTo` may grow; a kind this version does not know is left out, not guessed.
        #[allow(unreachable_patterns)]
        match reply {
            ReplyTo::Message { mid } => Some(StoredReplyTo::Message { mid: mid.clone() }),
            ReplyTo::Story { id, url } => Some(StoredReplyTo::Story {
                id: id.clone(),
                url: url.clone(),
            }),
            _ => None,
        }
    }
}

/// A reaction someone has on a message now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct MessageReaction {
    /// Who reacted (the user, or the account itself).
    pub actor_id: ParticipantId,
    /// Meta's name of the reaction (`love`, `like`, `other`, ...).
    pub reaction: Option<String>,
    /// The emoji, when Meta sent it.
    pub emoji: Option<String>,
    /// When the reaction was made, in ms since the epoch.
    pub timestamp_ms: i64,
}

/// A message as the store keeps it, inbound or outbound, of either platform.
///
/// # JSON form
/// Serializes with `id`, `tenant_id`, `platform`, `account_id`, `conversation_id`, `direction`,
/// `sender_id`, `recipient_id`, `message_id`, `text`, `attachments`, `reply_to`, `quick_reply`,
/// `app_id`, `metadata`, `timestamp_ms`, `created_at_ms`, the state (`delivered_at_ms`,
/// `read_at_ms`, `read`, `reactions`, `edited`, `edit_count`, `edited_at_ms`, `deleted`,
/// `hidden`, `unsupported`), `sender_name` and, only when loaded, `raw_event`. Row ids are
/// strings.
///
/// In a comment thread ([`ConversationKind::Comments`](super::ConversationKind)) each
/// comment is a message: `message_id` is Meta's comment id, `reply_to` names the comment it
/// answers, and the account's public replies are outbound.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct StoredMessage {
    /// The store's id of the message.
    pub id: StoredMessageId,
    /// The tenant that owns it.
    pub tenant_id: TenantId,
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The business account of the conversation.
    pub account_id: AccountId,
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// Inbound or outbound.
    pub direction: Direction,
    /// Who sent it (the user for inbound messages, the account for outbound ones).
    pub sender_id: ParticipantId,
    /// Who received it.
    pub recipient_id: ParticipantId,
    /// Meta's message id (`mid`), unique per tenant and platform.
    pub message_id: MessageId,
    /// The current text (after edits); `None` for attachment-only and deleted messages.
    pub text: Option<String>,
    /// Attachments, in Meta's order.
    pub attachments: Vec<StoredAttachment>,
    /// What it replies to.
    pub reply_to: Option<StoredReplyTo>,
    /// The payload of the quick reply the user tapped.
    pub quick_reply: Option<String>,
    /// Echoes: the app that sent it.
    pub app_id: Option<AppId>,
    /// Echoes and outbound messages: the sender's `metadata` string.
    pub metadata: Option<String>,
    /// When Meta says it was sent, in ms since the epoch: the sort key of message lists.
    pub timestamp_ms: i64,
    /// When the store first saw it, in ms since the epoch.
    pub created_at_ms: i64,
    /// Outbound: when Meta reported it delivered.
    pub delivered_at_ms: Option<i64>,
    /// Outbound: when the user read it; inbound: when the business marked it read.
    /// (The JSON form adds `read`: whether this is set.)
    #[serde(flatten, serialize_with = "flags::read")]
    #[schema(value_type = flags::ReadState)]
    pub read_at_ms: Option<i64>,
    /// Reactions on it now, one per actor.
    pub reactions: Vec<MessageReaction>,
    /// How many times it was edited (0 = never). (The JSON form adds `edited`.)
    #[serde(flatten, serialize_with = "flags::edited")]
    #[schema(value_type = flags::EditState)]
    pub edit_count: u32,
    /// When it was last edited.
    pub edited_at_ms: Option<i64>,
    /// The sender deleted (unsent) it, or a comment was removed: its text, attachments and
    /// raw event are erased.
    pub deleted: bool,
    /// Comments: the account hid it (only its author still sees it on Meta's side).
    pub hidden: bool,
    /// Instagram: the message has content Meta cannot show through the API.
    pub unsupported: bool,
    /// Comments: the author's Instagram username or Facebook name, as the webhook named them.
    pub sender_name: Option<String>,
    /// The webhook event JSON as Meta sent it (inbound messages and echoes), when the query
    /// asked for it ([`MessageQuery::include_raw`](super::MessageQuery::include_raw)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_event: Option<serde_json::Value>,
}

impl StoredMessage {
    /// True once read (see [`read_at_ms`](Self::read_at_ms)).
    pub fn is_read(&self) -> bool {
        self.read_at_ms.is_some()
    }

    /// True once edited.
    pub fn is_edited(&self) -> bool {
        self.edit_count > 0
    }
}

/// The JSON form's flags derived from a field, written beside it: one type each, so that the
/// serializer and the OpenAPI schema of [`StoredMessage`] cannot disagree.
mod flags {
    use serde::{Serialize, Serializer};

    /// `read_at_ms` and `read`.
    #[derive(Serialize, utoipa::ToSchema)]
    pub(super) struct ReadState {
        /// Outbound: when the user read it; inbound: when the business marked it read (ms
        /// since the epoch).
        read_at_ms: Option<i64>,
        /// Whether `read_at_ms` is set.
        read: bool,
    }

    /// `edit_count` and `edited`.
    #[derive(Serialize, utoipa::ToSchema)]
    pub(super) struct EditState {
        /// How many times it was edited (0 = never).
        edit_count: u32,
        /// Whether it was edited.
        edited: bool,
    }

    pub(super) fn read<S: Serializer>(read_at_ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        ReadState {
            read_at_ms: *read_at_ms,
            read: read_at_ms.is_some(),
        }
        .serialize(s)
    }

    pub(super) fn edited<S: Serializer>(edit_count: &u32, s: S) -> Result<S::Ok, S::Error> {
        EditState {
            edit_count: *edit_count,
            edited: *edit_count > 0,
        }
        .serialize(s)
    }
}
