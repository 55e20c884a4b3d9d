//! The vocabulary of the Send API: recipients, messaging types, tags, attachments, quick replies.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{CommentId, Igsid, MessageId, Psid, UserId};

/// Messenger allows texts of up to 2000 characters.
pub const MESSENGER_TEXT_MAX_CHARS: usize = 2000;
/// Instagram allows texts of up to 1000 bytes of UTF-8.
pub const INSTAGRAM_TEXT_MAX_BYTES: usize = 1000;
/// At most 13 quick replies per message.
pub const QUICK_REPLIES_MAX: usize = 13;
/// A quick reply's title is at most 20 characters.
pub const QUICK_REPLY_TITLE_MAX_CHARS: usize = 20;
/// A quick reply's payload is at most 1000 characters.
pub const QUICK_REPLY_PAYLOAD_MAX_CHARS: usize = 1000;

/// Who a message goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recipient {
    /// A person, by their PSID (Messenger) or IGSID (Instagram).
    User(UserId),
    /// The author of a comment: a private reply to a Facebook or Instagram comment.
    Comment(CommentId),
    /// A `user_ref` from the checkbox plugin or chat plugin.
    UserRef(String),
}

impl Serialize for Recipient {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Self::User(id) => map.serialize_entry("id", id)?,
            Self::Comment(id) => map.serialize_entry("comment_id", id)?,
            Self::UserRef(r) => map.serialize_entry("user_ref", r)?,
        }
        map.end()
    }
}

impl From<UserId> for Recipient {
    fn from(id: UserId) -> Self {
        Self::User(id)
    }
}

impl From<Psid> for Recipient {
    fn from(id: Psid) -> Self {
        Self::User(id.into())
    }
}

impl From<Igsid> for Recipient {
    fn from(id: Igsid) -> Self {
        Self::User(id.into())
    }
}

impl From<&Psid> for Recipient {
    fn from(id: &Psid) -> Self {
        Self::User(id.clone().into())
    }
}

impl From<&Igsid> for Recipient {
    fn from(id: &Igsid) -> Self {
        Self::User(id.clone().into())
    }
}

impl From<CommentId> for Recipient {
    fn from(id: CommentId) -> Self {
        Self::Comment(id)
    }
}

/// Why a message is sent, as Meta's `messaging_type` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum MessagingType {
    /// A reply to a person's message, within the 24-hour window (the default).
    #[default]
    Response,
    /// A proactive message within the 24-hour window.
    Update,
    /// A message outside the window, allowed by a [`MessageTag`].
    MessageTag,
}

/// A message tag: permission to message outside the 24-hour window for one purpose.
///
/// Reads from and writes Meta's name (`HUMAN_AGENT`, ...); a name this version does not know
/// becomes [`MessageTag::Other`] and is sent as given, so a tag Meta adds needs no release.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageTag {
    /// A human agent's reply within 7 days of the person's message (needs approval).
    HumanAgent,
    /// A non-recurring update to the person's account.
    AccountUpdate,
    /// A reminder or update for an event the person registered for.
    ConfirmedEventUpdate,
    /// An update on a recent purchase.
    PostPurchaseUpdate,
    /// Any other tag, spelled as Meta expects it.
    Other(String),
}

impl MessageTag {
    /// The wire name (`HUMAN_AGENT`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            Self::HumanAgent => "HUMAN_AGENT",
            Self::AccountUpdate => "ACCOUNT_UPDATE",
            Self::ConfirmedEventUpdate => "CONFIRMED_EVENT_UPDATE",
            Self::PostPurchaseUpdate => "POST_PURCHASE_UPDATE",
            Self::Other(tag) => tag,
        }
    }

    fn from_name(name: &str) -> Self {
        match name {
            "HUMAN_AGENT" => Self::HumanAgent,
            "ACCOUNT_UPDATE" => Self::AccountUpdate,
            "CONFIRMED_EVENT_UPDATE" => Self::ConfirmedEventUpdate,
            "POST_PURCHASE_UPDATE" => Self::PostPurchaseUpdate,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for MessageTag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl utoipa::PartialSchema for MessageTag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::contract::openapi::string_schema(
            "A message tag, as Meta spells it; a tag this version does not know is passed on as given.",
            &[
                "HUMAN_AGENT",
                "ACCOUNT_UPDATE",
                "CONFIRMED_EVENT_UPDATE",
                "POST_PURCHASE_UPDATE",
            ],
        )
    }
}

impl utoipa::ToSchema for MessageTag {}

impl<'de> Deserialize<'de> for MessageTag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::from_name(&name))
    }
}

/// The media type of an attachment to send.
///
/// Only the four kinds the Send API takes: reading one refuses any other name (received
/// attachments have more kinds, see [`AttachmentType`](crate::webhook::AttachmentType)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AttachmentKind {
    /// An image (JPEG, PNG, GIF).
    Image,
    /// A video.
    Video,
    /// An audio clip.
    Audio,
    /// Any file (Messenger).
    File,
}

impl AttachmentKind {
    /// The wire name (`image`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::File => "file",
        }
    }
}

impl fmt::Display for AttachmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A quick reply button under a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct QuickReply {
    /// `text`, `user_phone_number` or `user_email`.
    pub content_type: String,
    /// The button's label (text quick replies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the webhook's `quick_reply.payload` will carry back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// An icon next to the title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
}

impl QuickReply {
    /// A text button with a title and the payload sent back when tapped.
    pub fn text(title: impl Into<String>, payload: impl Into<String>) -> Self {
        Self {
            content_type: "text".into(),
            title: Some(title.into()),
            payload: Some(payload.into()),
            image_url: None,
        }
    }

    /// A button that offers the person's phone number.
    pub fn phone_number() -> Self {
        Self {
            content_type: "user_phone_number".into(),
            title: None,
            payload: None,
            image_url: None,
        }
    }

    /// A button that offers the person's email address.
    pub fn email() -> Self {
        Self {
            content_type: "user_email".into(),
            title: None,
            payload: None,
            image_url: None,
        }
    }

    /// Adds an icon.
    #[must_use]
    pub fn with_image(mut self, url: impl Into<String>) -> Self {
        self.image_url = Some(url.into());
        self
    }
}

/// Meta's answer to a sent message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendResponse {
    /// The recipient's scoped id: the PSID or IGSID. For a private reply, the comment's
    /// author, whom the comment id does not name; absent when Meta leaves it out.
    #[serde(default)]
    pub recipient_id: Option<UserId>,
    /// The id of the new message; the echo webhook carries the same `mid`.
    pub message_id: MessageId,
}

impl SendResponse {
    /// Builds a response, for your own tests.
    pub fn new(recipient_id: Option<UserId>, message_id: MessageId) -> Self {
        Self {
            recipient_id,
            message_id,
        }
    }
}

/// Meta's answer to a sender action or reaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionResponse {
    /// The recipient's scoped id.
    #[serde(default)]
    pub recipient_id: Option<UserId>,
}

/// A sender action shown in the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SenderAction {
    /// Show the typing bubble (for up to 20 seconds).
    TypingOn,
    /// Hide the typing bubble.
    TypingOff,
    /// Mark the person's last message as seen.
    MarkSeen,
}

/// The reference to the message a reply answers (`reply_to`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ReplyTo {
    pub(crate) mid: MessageId,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_shapes() {
        assert_eq!(
            serde_json::to_value(Recipient::from(Psid::from("1"))).unwrap(),
            json!({"id": "1"})
        );
        assert_eq!(
            serde_json::to_value(Recipient::Comment("c".into())).unwrap(),
            json!({"comment_id": "c"})
        );
        assert_eq!(
            serde_json::to_value(MessagingType::MessageTag).unwrap(),
            json!("MESSAGE_TAG")
        );
        assert_eq!(
            serde_json::to_value(MessageTag::HumanAgent).unwrap(),
            json!("HUMAN_AGENT")
        );
        assert_eq!(
            serde_json::to_value(SenderAction::MarkSeen).unwrap(),
            json!("mark_seen")
        );
        assert_eq!(
            serde_json::to_value(QuickReply::text("Yes", "YES")).unwrap(),
            json!({"content_type": "text", "title": "Yes", "payload": "YES"})
        );
    }

    #[test]
    fn tags_and_kinds_read_back_as_written() {
        for tag in [
            MessageTag::HumanAgent,
            MessageTag::AccountUpdate,
            MessageTag::ConfirmedEventUpdate,
            MessageTag::PostPurchaseUpdate,
            MessageTag::Other("CUSTOMER_FEEDBACK".to_owned()),
        ] {
            let json = serde_json::to_value(&tag).unwrap();
            assert_eq!(serde_json::from_value::<MessageTag>(json).unwrap(), tag);
        }
        for kind in [
            AttachmentKind::Image,
            AttachmentKind::Video,
            AttachmentKind::Audio,
            AttachmentKind::File,
        ] {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, json!(kind.as_str()));
            assert_eq!(
                serde_json::from_value::<AttachmentKind>(json).unwrap(),
                kind
            );
        }
        let sticker = serde_json::from_value::<AttachmentKind>(json!("sticker")).unwrap_err();
        assert!(
            sticker.to_string().contains("unknown variant `sticker`"),
            "{sticker}"
        );
    }
}
