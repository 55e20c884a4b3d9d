//! A message (or its echo) and its attachments.

use serde::{Deserialize, Deserializer, Serialize};

use super::details::Referral;
use crate::graph::AttachmentKind;
use crate::ids::{AppId, MediaId, MessageId};

/// A message sent by a user, or the echo of one the account sent.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Message {
    /// The message id (`mid`).
    pub mid: MessageId,
    /// The text, if any.
    pub text: Option<String>,
    /// Attachments, in Meta's order.
    pub attachments: Vec<Attachment>,
    /// The payload of the quick reply the user tapped to send this message.
    pub quick_reply: Option<String>,
    /// What this message replies to.
    pub reply_to: Option<ReplyTo>,
    /// Instagram: the message has content Meta cannot show through the API.
    pub is_unsupported: bool,
    /// The ad, link or shop the conversation came from (Messenger `message.referral`).
    pub referral: Option<Referral>,
    /// Bot commands the user chose (Messenger persistent menu commands).
    pub commands: Vec<String>,
    /// Echoes: the app that sent the message (absent when a person sent it from Meta's inbox).
    pub app_id: Option<AppId>,
    /// Echoes: the `metadata` string the sender attached.
    pub metadata: Option<String>,
}

impl Message {
    /// A text message with nothing else.
    pub fn text(mid: impl Into<MessageId>, text: impl Into<String>) -> Self {
        let mut message = Self::empty(mid);
        message.text = Some(text.into());
        message
    }

    /// A message with an id and no content; set the public fields you need.
    pub fn empty(mid: impl Into<MessageId>) -> Self {
        Self {
            mid: mid.into(),
            text: None,
            attachments: Vec::new(),
            quick_reply: None,
            reply_to: None,
            is_unsupported: false,
            referral: None,
            commands: Vec::new(),
            app_id: None,
            metadata: None,
        }
    }
}

/// What a message replies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReplyTo {
    /// An earlier message of the conversation.
    Message {
        /// The message replied to.
        mid: MessageId,
    },
    /// An Instagram story of the account (the user replied to a story).
    Story {
        /// The story's media id.
        id: Option<MediaId>,
        /// The story's CDN URL (expires).
        url: Option<String>,
    },
}

/// One attachment of a message.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Attachment {
    /// The attachment type.
    #[serde(rename = "type")]
    pub kind: AttachmentType,
    /// The content URL (Meta's CDN; it expires, so download what you must keep).
    pub url: Option<String>,
    /// A title (shares, reels, posts, templates).
    pub title: Option<String>,
    /// Messenger stickers (the like button is sticker `369239263222822`).
    pub sticker_id: Option<String>,
    /// A shared location.
    pub coordinates: Option<Coordinates>,
    /// The attachment's `payload` object exactly as Meta sent it, for fields not lifted above
    /// (template elements, reel ids, ...). `null` when Meta sent none.
    pub payload: serde_json::Value,
}

impl Attachment {
    /// An attachment of a type and URL, with nothing else.
    pub fn new(kind: AttachmentType, url: Option<String>) -> Self {
        Self {
            kind,
            url,
            title: None,
            sticker_id: None,
            coordinates: None,
            payload: serde_json::Value::Null,
        }
    }
}

/// A latitude / longitude pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Coordinates {
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub long: f64,
}

/// The type of an [`Attachment`], as Meta names it.
///
/// Serializes as Meta's string and reads any string back; types Meta adds later arrive as
/// [`AttachmentType::Other`]. The kinds one can send are the narrower
/// [`AttachmentKind`](crate::graph::AttachmentKind), which converts into this type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttachmentType {
    /// `image` (also stickers and GIFs on Messenger).
    Image,
    /// `video`
    Video,
    /// `audio` (voice messages)
    Audio,
    /// `file`
    File,
    /// `template` (echoes of structured messages)
    Template,
    /// `fallback` (a link Meta could not render)
    Fallback,
    /// `location`
    Location,
    /// `sticker`: Messenger stickers (which older deliveries send as `image` with a
    /// `sticker_id`).
    Sticker,
    /// Instagram `share`: a shared post.
    Share,
    /// Instagram `story_mention`: the user mentioned the account in their story.
    StoryMention,
    /// Instagram `ig_reel`: a shared reel.
    IgReel,
    /// Instagram `reel`.
    Reel,
    /// Instagram `ig_post`: a shared post.
    IgPost,
    /// Any other type, kept as Meta spelled it.
    Other(String),
}

impl AttachmentType {
    /// Meta's name for the type.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::File => "file",
            Self::Template => "template",
            Self::Fallback => "fallback",
            Self::Location => "location",
            Self::Sticker => "sticker",
            Self::Share => "share",
            Self::StoryMention => "story_mention",
            Self::IgReel => "ig_reel",
            Self::Reel => "reel",
            Self::IgPost => "ig_post",
            Self::Other(other) => other,
        }
    }

    /// The type Meta names `name`.
    pub fn from_name(name: &str) -> Self {
        match name {
            "image" => Self::Image,
            "video" => Self::Video,
            "audio" => Self::Audio,
            "file" => Self::File,
            "template" => Self::Template,
            "fallback" => Self::Fallback,
            "location" => Self::Location,
            "sticker" => Self::Sticker,
            "share" => Self::Share,
            "story_mention" => Self::StoryMention,
            "ig_reel" => Self::IgReel,
            "reel" => Self::Reel,
            "ig_post" => Self::IgPost,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for AttachmentType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl utoipa::PartialSchema for AttachmentType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::contract::openapi::string_schema(
            "Meta's attachment type name; any other name Meta sends is kept as spelled.",
            &[
                "image",
                "video",
                "audio",
                "file",
                "template",
                "fallback",
                "location",
                "sticker",
                "share",
                "story_mention",
                "ig_reel",
                "reel",
                "ig_post",
            ],
        )
    }
}

impl utoipa::ToSchema for AttachmentType {}

impl<'de> Deserialize<'de> for AttachmentType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::from_name(&name))
    }
}

/// A sent attachment's kind, as its echo (and the store) name it.
impl From<AttachmentKind> for AttachmentType {
    fn from(kind: AttachmentKind) -> Self {
        match kind {
            AttachmentKind::Image => Self::Image,
            AttachmentKind::Video => Self::Video,
            AttachmentKind::Audio => Self::Audio,
            AttachmentKind::File => Self::File,
        }
    }
}

impl std::fmt::Display for AttachmentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_as_written_and_unknown_ones_are_kept() {
        for name in [
            "image",
            "video",
            "audio",
            "file",
            "template",
            "fallback",
            "location",
            "sticker",
            "share",
            "story_mention",
            "ig_reel",
            "reel",
            "ig_post",
            "hologram",
        ] {
            let kind: AttachmentType = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(kind, AttachmentType::from_name(name));
            assert_eq!(
                serde_json::to_value(&kind).unwrap(),
                serde_json::json!(name)
            );
        }
        assert_eq!(
            AttachmentType::from_name("hologram"),
            AttachmentType::Other("hologram".to_owned())
        );
    }

    #[test]
    fn a_sendable_kind_is_the_received_type_of_the_same_name() {
        for kind in [
            AttachmentKind::Image,
            AttachmentKind::Video,
            AttachmentKind::Audio,
            AttachmentKind::File,
        ] {
            assert_eq!(AttachmentType::from(kind).as_str(), kind.as_str());
        }
    }
}
