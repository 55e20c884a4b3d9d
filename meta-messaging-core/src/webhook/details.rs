//! The details of every event kind but messages (see [`message`](super::message)).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ids::{AppId, CommentId, MediaId, MessageId, ParticipantId, PostId};

/// A reaction added to or removed from a message.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Reaction {
    /// The message reacted to.
    pub mid: MessageId,
    /// Whether the reaction was added or removed.
    pub action: ReactionAction,
    /// Meta's name of the reaction (`love`, `smile`, `like`, `other`, ...).
    pub reaction: Option<String>,
    /// The emoji itself, when Meta sends it.
    pub emoji: Option<String>,
}

/// Whether a reaction was added or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReactionAction {
    /// `react`
    React,
    /// `unreact`
    Unreact,
    /// Any other action, as Meta spelled it.
    #[serde(untagged)]
    Other(String),
}

impl ReactionAction {
    pub(crate) fn from_name(name: &str) -> Self {
        match name {
            "react" => Self::React,
            "unreact" => Self::Unreact,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// A read receipt: Messenger names a time (everything the account sent up to it is read),
/// Instagram names the message read.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ReadReceipt {
    /// Messenger: every message sent before this time (ms since the epoch) has been read.
    pub watermark_ms: Option<i64>,
    /// Instagram: the message that was read.
    pub mid: Option<MessageId>,
}

/// A delivery receipt (Messenger).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct DeliveryReceipt {
    /// The messages delivered (may be empty: then use the watermark).
    pub mids: Vec<MessageId>,
    /// Every message sent before this time (ms since the epoch) has been delivered.
    pub watermark_ms: Option<i64>,
}

/// A click on a postback button, a persistent-menu item or (Instagram) an icebreaker.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Postback {
    /// The id of the postback as a message, when Meta gives one.
    pub mid: Option<MessageId>,
    /// The title of the button clicked.
    pub title: Option<String>,
    /// The developer-defined payload of the button.
    pub payload: Option<String>,
    /// The referral that started the conversation, for "Get Started" clicks from a link or ad.
    pub referral: Option<Referral>,
}

/// How the user arrived: an m.me link, an ad, a chat plugin, a shop...
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Referral {
    /// The `ref` parameter of the link or ad.
    #[serde(rename = "ref")]
    pub ref_: Option<String>,
    /// `SHORTLINK`, `ADS`, `CUSTOMER_CHAT_PLUGIN`, ...
    pub source: Option<String>,
    /// `OPEN_THREAD`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The ad id, for ad referrals.
    pub ad_id: Option<String>,
    /// The page URL, for plugin referrals.
    pub referer_uri: Option<String>,
    /// Every other field Meta sent (`ads_context_data`, `product`, ...).
    pub other: BTreeMap<String, serde_json::Value>,
}

/// An opt-in: the user agreed to something (a plugin, recurring notifications, ...).
///
/// Its `Debug` hides `notification_messages_token` and any other field whose name holds
/// `token`: they let whoever has them message the user.
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct Optin {
    /// The `ref` / `data-ref` of the plugin.
    #[serde(rename = "ref")]
    pub ref_: Option<String>,
    /// A user reference for users identified only through a plugin (no PSID yet).
    pub user_ref: Option<String>,
    /// `notification_messages`, `one_time_notif_req`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The developer-defined payload.
    pub payload: Option<String>,
    /// The token to send recurring notifications with.
    pub notification_messages_token: Option<String>,
    /// Every other field Meta sent.
    pub other: BTreeMap<String, serde_json::Value>,
}

impl std::fmt::Debug for Optin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const HIDDEN: &str = "[REDACTED]";
        let other: BTreeMap<&str, &dyn std::fmt::Debug> = self
            .other
            .iter()
            .map(|(key, value)| {
                let shown: &dyn std::fmt::Debug = if key.contains("token") {
                    &HIDDEN
                } else {
                    value
                };
                (key.as_str(), shown)
            })
            .collect();
        f.debug_struct("Optin")
            .field("ref_", &self.ref_)
            .field("user_ref", &self.user_ref)
            .field("kind", &self.kind)
            .field("payload", &self.payload)
            .field(
                "notification_messages_token",
                &self.notification_messages_token.as_ref().map(|_| HIDDEN),
            )
            .field("other", &other)
            .finish()
    }
}

/// A message edit.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Edit {
    /// The edited message.
    pub mid: MessageId,
    /// Its new text.
    pub text: Option<String>,
    /// How many times it has been edited.
    pub num_edit: u32,
}

/// A message deleted (unsent) by its sender.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Delete {
    /// The deleted message.
    pub mid: MessageId,
}

/// A handover-protocol event: who controls the thread.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Handover {
    /// Another app passed control to this one (or to `new_owner_app_id`).
    PassThreadControl {
        /// The app that now owns the thread.
        new_owner_app_id: Option<AppId>,
        /// The app that owned it.
        previous_owner_app_id: Option<AppId>,
        /// Free text from the passing app.
        metadata: Option<String>,
    },
    /// Another app took control from this one.
    TakeThreadControl {
        /// The app that owned the thread.
        previous_owner_app_id: Option<AppId>,
        /// The app that now owns it.
        new_owner_app_id: Option<AppId>,
        /// Free text from the taking app.
        metadata: Option<String>,
    },
    /// Another app asks this one to pass control.
    RequestThreadControl {
        /// The app that asks.
        requested_owner_app_id: Option<AppId>,
        /// Free text from the asking app.
        metadata: Option<String>,
    },
    /// The app roles of the Page changed.
    AppRoles {
        /// App id to its roles (`primary_receiver`, `secondary_receiver`).
        roles: BTreeMap<String, Vec<String>>,
    },
}

/// A comment added, edited, removed, hidden or unhidden on a post, reel or live video:
/// Instagram `comments` / `live_comments` changes (always [`CommentAction::Add`]: Instagram
/// reports nothing else) and Facebook Page `feed` changes whose `item` is `comment`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Comment {
    /// The comment id: reply to it privately with a `comment_id` recipient.
    pub comment_id: CommentId,
    /// What happened to it.
    pub action: CommentAction,
    /// The comment's text (the new text of an edit; usually none for a removal).
    pub text: Option<String>,
    /// Who wrote it. The account itself when the comment is one of its own replies.
    pub from: Option<CommentAuthor>,
    /// Instagram: the media commented on.
    pub media: Option<CommentMedia>,
    /// The post or media the comment is on: the key of its comment thread. `None` only when
    /// Meta named neither.
    pub post_id: Option<PostId>,
    /// The comment this one answers, for replies in a thread (`None` for a comment on the
    /// post itself).
    pub parent_id: Option<CommentId>,
    /// True for comments on a live video (`live_comments`).
    pub live: bool,
}

/// What happened to a [`Comment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CommentAction {
    /// A new comment (Instagram's only kind; Facebook `verb: add`).
    Add,
    /// The author edited it (Facebook `verb: edited`).
    Edit,
    /// It was deleted, by its author or the Page (Facebook `verb: remove`).
    Remove,
    /// The Page hid it: only its author and their friends still see it (Facebook `verb: hide`).
    Hide,
    /// The Page unhid it (Facebook `verb: unhide`).
    Unhide,
}

/// The author of a [`Comment`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CommentAuthor {
    /// The author's id (an IGSID on Instagram, a Page-scoped id or the Page on Facebook).
    pub id: ParticipantId,
    /// Instagram: the author's username.
    pub username: Option<String>,
    /// Facebook: the author's name.
    pub name: Option<String>,
}

/// The media a [`Comment`] is on.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CommentMedia {
    /// The media id.
    pub id: MediaId,
    /// `FEED`, `REELS`, `STORY`, `AD`, ...
    pub media_product_type: Option<String>,
}

/// The account was @mentioned (Instagram `mentions`).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Mention {
    /// The media whose caption (or whose comment) mentions the account.
    pub media_id: Option<MediaId>,
    /// The comment that mentions the account, when the mention is in a comment.
    pub comment_id: Option<CommentId>,
}

/// An event this version does not understand, kept whole so nothing is lost.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Unknown {
    /// The `changes[].field` name, for `changes` items.
    pub field: Option<String>,
    /// Why it was not understood, for the person debugging it.
    pub reason: String,
    /// The event's JSON exactly as received.
    pub raw: serde_json::Value,
    /// The delivery's `object` when it is not one this version handles
    /// (`whatsapp_business_account`, `user`, `permissions`, ...): the event is then a whole
    /// entry of that delivery. `None` for unknown events of Messenger and Instagram deliveries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
}

impl Unknown {
    /// An unknown event with a reason and its raw JSON.
    pub fn new(field: Option<String>, reason: impl Into<String>, raw: serde_json::Value) -> Self {
        Self {
            field,
            reason: reason.into(),
            raw,
            object: None,
        }
    }

    /// Names the delivery `object` this event came in, for an object this version does not
    /// handle.
    #[must_use]
    pub fn with_object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optin_debug_hides_tokens() {
        let mut other = BTreeMap::new();
        other.insert(
            "one_time_notif_token".to_owned(),
            serde_json::json!("OTN-SECRET"),
        );
        other.insert("title".to_owned(), serde_json::json!("Weekly deals"));
        let optin = Optin {
            ref_: None,
            user_ref: None,
            kind: Some("notification_messages".to_owned()),
            payload: Some("DEALS".to_owned()),
            notification_messages_token: Some("NMT-SECRET".to_owned()),
            other,
        };
        let shown = format!("{optin:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(
            shown.contains("Weekly deals") && shown.contains("DEALS"),
            "{shown}"
        );
        assert!(
            shown.contains("notification_messages_token: Some(\"[REDACTED]\")"),
            "{shown}"
        );
    }
}
