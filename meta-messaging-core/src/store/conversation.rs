//! [`Conversation`]: one thread between a business account and a user.

use serde::{Deserialize, Serialize};

use super::model::Direction;
use super::owner::ThreadOwner;
use super::plan::now_ms;
use super::window::MessagingWindow;
use crate::ids::ConversationId;
use crate::ids::{AccountId, MessageId, PostId, TenantId, UserId};
use crate::platform::Platform;

/// What the store knows about the user of a conversation (filled by
/// [`MessageStore::set_participant_profile`](super::MessageStore::set_participant_profile),
/// e.g. from a Graph API profile lookup).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct ParticipantProfile {
    /// Display name (Messenger first + last name, Instagram name).
    pub name: Option<String>,
    /// Instagram username.
    pub username: Option<String>,
    /// Profile picture URL (Meta's CDN; expires).
    pub profile_pic_url: Option<String>,
}

impl ParticipantProfile {
    /// A profile with a display name.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }

    /// Sets the username.
    #[must_use]
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets the profile picture URL.
    #[must_use]
    pub fn with_profile_pic_url(mut self, url: impl Into<String>) -> Self {
        self.profile_pic_url = Some(url.into());
        self
    }
}

/// What a [`Conversation`] holds: a user's direct messages, or the comments on one post.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConversationKind {
    /// Direct messages between the account and one user (Messenger, Instagram Direct).
    #[default]
    Direct,
    /// The comments on one post or media of the account and the account's public replies:
    /// each comment is a message whose `message_id` is Meta's comment id.
    Comments,
}

impl ConversationKind {
    /// `"direct"` or `"comments"`, as in JSON, query strings and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Comments => "comments",
        }
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn from_db(text: &str) -> Self {
        if text == "comments" {
            Self::Comments
        } else {
            Self::Direct
        }
    }
}

impl std::str::FromStr for ConversationKind {
    type Err = UnknownConversationKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "direct" => Ok(Self::Direct),
            "comments" => Ok(Self::Comments),
            other => Err(UnknownConversationKind(other.to_owned())),
        }
    }
}

/// A conversation kind that is neither `direct` nor `comments`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown conversation kind {0:?}: expected \"direct\" or \"comments\"")]
pub struct UnknownConversationKind(pub String);

/// One conversation: a tenant's business account and one user, on one platform; or, for
/// [`ConversationKind::Comments`], the comments on one post.
///
/// Serializes with `id`, `tenant_id`, `kind`, `post_id` (comment threads), `platform`,
/// `account_id`, `participant_id`,
/// `participant` (profile), `last_message_at_ms`, `last_message_id`, `last_message_preview`,
/// `last_message_direction`, `unread_count`, `archived`, `created_at_ms`, `owner`,
/// `last_inbound_at_ms` and `window`: the [`MessagingWindow`] at the time of serializing
/// (`null` while the store knows of no message from the user).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct Conversation {
    /// The store's id of the conversation.
    pub id: ConversationId,
    /// The tenant that owns it.
    pub tenant_id: TenantId,
    /// Direct messages, or the comments on one post.
    pub kind: ConversationKind,
    /// Comment threads: the post or media the comments are on (the same id as
    /// `participant_id`); `None` for direct conversations.
    pub post_id: Option<PostId>,
    /// Messenger or Instagram (Facebook Page comments are on the Page's side, `messenger`).
    pub platform: Platform,
    /// The business account (Page or Instagram account).
    pub account_id: AccountId,
    /// The user (PSID or IGSID); for a comment thread, the post id (see
    /// [`post_id`](Self::post_id)).
    pub participant_id: UserId,
    /// The user's profile, as far as known.
    pub participant: ParticipantProfile,
    /// The time of the newest message, in ms since the epoch: the sort key of lists.
    pub last_message_at_ms: i64,
    /// Meta's id of the newest message.
    pub last_message_id: Option<MessageId>,
    /// The start of the newest message's text, or `[image]`-style for attachments; `None`
    /// once that message was deleted.
    pub last_message_preview: Option<String>,
    /// Who sent the newest message.
    pub last_message_direction: Option<Direction>,
    /// Inbound messages not yet marked read.
    pub unread_count: u32,
    /// Archived: left out of a list filtered with `archived = false` (what an inbox view asks
    /// for; an unfiltered list includes them); a new inbound message unarchives.
    pub archived: bool,
    /// When the store first saw the conversation.
    pub created_at_ms: i64,
    /// Who answers it now: the bot (the default), a person, or another app of the Page.
    pub owner: ThreadOwner,
    /// When the user last wrote (or opened the messaging window otherwise: a postback, a
    /// referral, a reaction), in ms since the epoch, by Meta's timestamps; `None` while the
    /// store has seen nothing from the user (only our own messages, or none since the store
    /// was set up). Echoes and sent messages never move it. (The JSON form adds `window`.)
    #[serde(flatten, serialize_with = "window_now")]
    #[schema(value_type = WindowNow)]
    pub last_inbound_at_ms: Option<i64>,
}

impl Conversation {
    /// The messaging window at `now_ms`; `None` while the store has seen nothing from the
    /// user (then only Meta knows: a send is left to it).
    /// Comment threads have none: a comment opens no window, a private reply is its own rule.
    pub fn window(&self, now_ms: i64) -> Option<MessagingWindow> {
        match self.kind {
            ConversationKind::Direct => self
                .last_inbound_at_ms
                .map(|last| MessagingWindow::at(last, now_ms)),
            ConversationKind::Comments => None,
        }
    }

    /// The post id of a conversation of this kind with this participant.
    pub(crate) fn post_id_of(kind: ConversationKind, participant: &UserId) -> Option<PostId> {
        (kind == ConversationKind::Comments).then(|| PostId::new(participant.as_str()))
    }
}

/// `last_inbound_at_ms` and the messaging window it gives at the time of serializing: one type,
/// so that the serializer and the OpenAPI schema of [`Conversation`] cannot disagree.
#[derive(Serialize, utoipa::ToSchema)]
struct WindowNow {
    /// When the user last wrote (or opened the messaging window otherwise), in ms since the
    /// epoch; `null` while the store has seen nothing from the user.
    last_inbound_at_ms: Option<i64>,
    /// The messaging window now; `null` while `last_inbound_at_ms` is.
    window: Option<MessagingWindow>,
}

fn window_now<S: serde::Serializer>(
    last_inbound_at_ms: &Option<i64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    WindowNow {
        last_inbound_at_ms: *last_inbound_at_ms,
        window: last_inbound_at_ms.map(|last| MessagingWindow::at(last, now_ms())),
    }
    .serialize(s)
}
