//! [`SendRequest`]: a reply from the host's front end, as `POST /messages` takes it.

use serde::Deserialize;

use super::error::InboxError;
use crate::graph::{AttachmentKind, MessageTag, QuickReply};
use crate::ids::{AccountId, MessageId, UserId};
use crate::platform::Platform;

/// A message to send from a connected account, in the JSON form of `POST /messages`:
///
/// ```json
/// {"platform": "instagram", "account_id": "17841400000000000", "recipient_id": "5000000000000001",
///  "text": "Which size?", "quick_replies": [{"title": "S", "payload": "SIZE_S"}],
///  "reply_to": "aWdf...", "tag": "HUMAN_AGENT"}
/// ```
///
/// Exactly one of `text` and `attachment` (`{"type": "image|video|audio|file", "url": ...}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SendRequest {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The sending Page or Instagram account (connected for the tenant).
    pub account_id: AccountId,
    /// The user to send to (PSID or IGSID).
    pub recipient_id: UserId,
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
    /// An attachment Meta downloads from a URL.
    #[serde(default)]
    pub attachment: Option<SendAttachment>,
    /// Quick replies under the message.
    #[serde(default)]
    pub quick_replies: Vec<SendQuickReply>,
    /// The message this one replies to.
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    /// A message tag (`HUMAN_AGENT`, ...) for sends outside the 24-hour window; a name this
    /// version does not know is passed on to Meta as given.
    #[serde(default)]
    pub tag: Option<MessageTag>,
}

/// An attachment of a [`SendRequest`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SendAttachment {
    /// `image`, `video`, `audio` or `file`; any other name is refused.
    #[serde(rename = "type")]
    pub kind: AttachmentKind,
    /// A public URL Meta downloads the media from.
    pub url: String,
}

/// A quick reply of a [`SendRequest`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SendQuickReply {
    /// The button's title.
    pub title: String,
    /// The payload the user's answer carries back.
    pub payload: String,
}

/// What to send, checked.
pub(crate) enum Content<'a> {
    Text(&'a str),
    Attachment(AttachmentKind, &'a str),
}

impl SendRequest {
    /// A text message.
    pub fn text(
        platform: Platform,
        account_id: impl Into<AccountId>,
        recipient_id: impl Into<UserId>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            platform,
            account_id: account_id.into(),
            recipient_id: recipient_id.into(),
            text: Some(text.into()),
            attachment: None,
            quick_replies: Vec::new(),
            reply_to: None,
            tag: None,
        }
    }

    /// An attachment by URL.
    pub fn attachment(
        platform: Platform,
        account_id: impl Into<AccountId>,
        recipient_id: impl Into<UserId>,
        kind: AttachmentKind,
        url: impl Into<String>,
    ) -> Self {
        let mut request = Self::text(platform, account_id, recipient_id, String::new());
        request.text = None;
        request.attachment = Some(SendAttachment {
            kind,
            url: url.into(),
        });
        request
    }

    /// Adds a quick reply.
    #[must_use]
    pub fn with_quick_reply(
        mut self,
        title: impl Into<String>,
        payload: impl Into<String>,
    ) -> Self {
        self.quick_replies.push(SendQuickReply {
            title: title.into(),
            payload: payload.into(),
        });
        self
    }

    /// Replies to a message.
    #[must_use]
    pub fn with_reply_to(mut self, mid: impl Into<MessageId>) -> Self {
        self.reply_to = Some(mid.into());
        self
    }

    /// Sets a message tag.
    #[must_use]
    pub fn with_tag(mut self, tag: MessageTag) -> Self {
        self.tag = Some(tag);
        self
    }

    pub(crate) fn content(&self) -> Result<Content<'_>, InboxError> {
        match (&self.text, &self.attachment) {
            (Some(text), None) => Ok(Content::Text(text)),
            (None, Some(attachment)) => Ok(Content::Attachment(attachment.kind, &attachment.url)),
            (Some(_), Some(_)) => Err(InboxError::InvalidRequest(
                "a message has either text or an attachment, not both: send two messages"
                    .to_owned(),
            )),
            (None, None) => Err(InboxError::InvalidRequest(
                "a message needs text or an attachment".to_owned(),
            )),
        }
    }

    pub(crate) fn graph_quick_replies(&self) -> Vec<QuickReply> {
        self.quick_replies
            .iter()
            .map(|q| QuickReply::text(q.title.clone(), q.payload.clone()))
            .collect()
    }
}
