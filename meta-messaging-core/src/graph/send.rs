//! Sending messages: text, attachments, quick replies, replies, tags, private replies.

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};

use crate::Platform;
use crate::ids::{AttachmentId, CommentId, MessageId};

use super::account_client::AccountClient;
use super::error::{InvalidRequest, Result};
use super::outgoing::*;
use super::request::Call;
use super::template::Template;

#[derive(Debug, Clone)]
enum Content {
    Text(String),
    Url {
        kind: AttachmentKind,
        url: String,
        reusable: bool,
    },
    Saved {
        kind: AttachmentKind,
        id: AttachmentId,
    },
    Upload {
        kind: AttachmentKind,
        bytes: Bytes,
        filename: String,
        mime: String,
    },
    Template(Box<Template>),
}

/// A message being built; [`send`](Self::send) validates it against the platform's limits and
/// posts it to `/{account-id}/messages`.
#[derive(Debug, Clone)]
#[must_use = "a message is sent only by .send().await"]
pub struct SendBuilder<'a> {
    account: &'a AccountClient,
    recipient: Recipient,
    content: Content,
    quick_replies: Vec<QuickReply>,
    messaging_type: MessagingType,
    tag: Option<MessageTag>,
    reply_to: Option<MessageId>,
}

impl AccountClient {
    /// A text message. Messenger allows 2000 characters, Instagram 1000 bytes.
    pub fn text(&self, to: impl Into<Recipient>, text: impl Into<String>) -> SendBuilder<'_> {
        self.compose(to.into(), Content::Text(text.into()))
    }

    /// An attachment Meta downloads from a public URL.
    pub fn attachment_url(
        &self,
        to: impl Into<Recipient>,
        kind: AttachmentKind,
        url: impl Into<String>,
    ) -> SendBuilder<'_> {
        self.compose(
            to.into(),
            Content::Url {
                kind,
                url: url.into(),
                reusable: false,
            },
        )
    }

    /// An attachment saved earlier (see [`AccountClient::upload_attachment`]).
    pub fn attachment_id(
        &self,
        to: impl Into<Recipient>,
        kind: AttachmentKind,
        id: AttachmentId,
    ) -> SendBuilder<'_> {
        self.compose(to.into(), Content::Saved { kind, id })
    }

    /// An attachment from bytes: uploaded first through the attachment upload API
    /// (`/message_attachments`, multipart), then sent by its `attachment_id`.
    pub fn attachment_bytes(
        &self,
        to: impl Into<Recipient>,
        kind: AttachmentKind,
        bytes: impl Into<Bytes>,
        filename: impl Into<String>,
        mime: impl Into<String>,
    ) -> SendBuilder<'_> {
        let content = Content::Upload {
            kind,
            bytes: bytes.into(),
            filename: filename.into(),
            mime: mime.into(),
        };
        self.compose(to.into(), content)
    }

    /// A structured template (generic, button or media), already checked against Meta's
    /// limits when built; a media template is refused on Instagram.
    pub fn template(&self, to: impl Into<Recipient>, template: Template) -> SendBuilder<'_> {
        self.compose(to.into(), Content::Template(Box::new(template)))
    }

    /// A private reply to a comment on a post of this Page or Instagram account: the comment's
    /// author receives `text` as a message. Posted to `/{account-id}/messages` with the
    /// recipient `{"comment_id": ...}`: the Page's node for Messenger and Instagram through a
    /// Page, the Instagram account's node for Instagram Login.
    ///
    /// Meta allows one private reply per comment, within 7 days of it: a second one fails with
    /// [`ErrorKind::AlreadyReplied`](super::ErrorKind::AlreadyReplied), a late one with
    /// [`ErrorKind::ReplyNotAllowed`](super::ErrorKind::ReplyNotAllowed). The answer's
    /// [`recipient_id`](SendResponse::recipient_id) is the author's PSID or IGSID, the id to
    /// continue the conversation with once they answer.
    pub fn private_reply(&self, comment: CommentId, text: impl Into<String>) -> SendBuilder<'_> {
        self.compose(Recipient::Comment(comment), Content::Text(text.into()))
    }

    fn compose(&self, recipient: Recipient, content: Content) -> SendBuilder<'_> {
        SendBuilder {
            account: self,
            recipient,
            content,
            quick_replies: Vec::new(),
            messaging_type: MessagingType::Response,
            tag: None,
            reply_to: None,
        }
    }
}

impl SendBuilder<'_> {
    /// Adds a quick reply (at most 13).
    pub fn quick_reply(mut self, reply: QuickReply) -> Self {
        self.quick_replies.push(reply);
        self
    }

    /// Sets all quick replies.
    pub fn quick_replies(mut self, replies: impl IntoIterator<Item = QuickReply>) -> Self {
        self.quick_replies = replies.into_iter().collect();
        self
    }

    /// The messaging type (`RESPONSE` by default).
    pub fn messaging_type(mut self, messaging_type: MessagingType) -> Self {
        self.messaging_type = messaging_type;
        self
    }

    /// Sends outside the 24-hour window with a tag; sets `messaging_type` to `MESSAGE_TAG`.
    pub fn tag(mut self, tag: MessageTag) -> Self {
        self.messaging_type = MessagingType::MessageTag;
        self.tag = Some(tag);
        self
    }

    /// Shows the message as a reply to `mid`.
    pub fn reply_to(mut self, mid: MessageId) -> Self {
        self.reply_to = Some(mid);
        self
    }

    /// Lets Meta keep a URL attachment for reuse (`is_reusable`); the answer's attachment id is
    /// not returned by the Send API, so prefer [`AccountClient::upload_attachment`] to get one.
    pub fn reusable(mut self, reusable: bool) -> Self {
        if let Content::Url { reusable: r, .. } = &mut self.content {
            *r = reusable;
        }
        self
    }

    /// Checks the message against the platform's limits without sending it.
    ///
    /// # Errors
    /// [`InvalidRequest`] naming the limit that is exceeded.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        let platform = self.account.platform();
        if let Content::Text(text) = &self.content {
            check_text(platform, text)?;
        }
        if let Content::Template(template) = &self.content
            && platform == Platform::Instagram
            && matches!(**template, Template::Media { .. })
        {
            return Err(InvalidRequest::Unsupported {
                what: "the media template",
                route: "on Instagram (Messenger only)",
            });
        }
        if let Content::Upload {
            kind,
            bytes,
            filename,
            mime,
        } = &self.content
        {
            super::action::check_file(self.account, *kind, filename, mime, bytes.len())?;
        }
        check_quick_replies(&self.quick_replies)?;
        if (self.messaging_type == MessagingType::MessageTag) != self.tag.is_some() {
            return Err(InvalidRequest::TagMismatch);
        }
        Ok(())
    }

    /// Validates and sends the message.
    ///
    /// A send is not repeated after a failure that may have delivered it (see
    /// [`RetryPolicy`](super::RetryPolicy)); Meta's explicit transient refusals are retried.
    ///
    /// # Errors
    /// [`GraphError::InvalidRequest`](super::GraphError::InvalidRequest) before anything is sent,
    /// or the Graph API's error, classified and with its fix.
    pub async fn send(self) -> Result<SendResponse> {
        self.validate()?;
        let attachment = match &self.content {
            Content::Text(text) => json!({ "text": text }),
            Content::Url {
                kind,
                url,
                reusable,
            } => {
                let mut payload = json!({ "url": url });
                if *reusable {
                    payload["is_reusable"] = Value::Bool(true);
                }
                json!({ "attachment": { "type": kind, "payload": payload } })
            }
            Content::Saved { kind, id } => {
                json!({ "attachment": { "type": kind, "payload": { "attachment_id": id } } })
            }
            Content::Upload {
                kind,
                bytes,
                filename,
                mime,
            } => {
                let id = self
                    .account
                    .upload_attachment(*kind, bytes.clone(), filename.clone(), mime.clone())
                    .send()
                    .await?;
                json!({ "attachment": { "type": kind, "payload": { "attachment_id": id } } })
            }
            Content::Template(template) => {
                json!({ "attachment": { "type": "template", "payload": template } })
            }
        };
        let mut message = attachment;
        if !self.quick_replies.is_empty() {
            message["quick_replies"] =
                serde_json::to_value(&self.quick_replies).unwrap_or(Value::Null);
        }
        let body = Body {
            recipient: &self.recipient,
            messaging_type: self.messaging_type,
            tag: self.tag.as_ref(),
            reply_to: self.reply_to.map(|mid| ReplyTo { mid }),
            message,
        };
        let account = self.account;
        let call = Call::post(account.edge("messages"))
            .auth(&account.credential)
            .throttle(&account.account_id)
            .json(&body)?;
        account.client.execute(call).await
    }
}

#[derive(Serialize)]
struct Body<'a> {
    recipient: &'a Recipient,
    messaging_type: MessagingType,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<&'a MessageTag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<ReplyTo>,
    message: Value,
}

pub(crate) fn check_text(platform: Platform, text: &str) -> Result<(), InvalidRequest> {
    if text.is_empty() {
        return Err(InvalidRequest::EmptyText);
    }
    let (length, max, unit) = match platform {
        Platform::Instagram => (text.len(), INSTAGRAM_TEXT_MAX_BYTES, "bytes"),
        _ => (text.chars().count(), MESSENGER_TEXT_MAX_CHARS, "characters"),
    };
    if length > max {
        return Err(InvalidRequest::TextTooLong {
            platform,
            length,
            max,
            unit,
        });
    }
    Ok(())
}

fn check_quick_replies(replies: &[QuickReply]) -> Result<(), InvalidRequest> {
    if replies.len() > QUICK_REPLIES_MAX {
        return Err(InvalidRequest::TooManyQuickReplies {
            count: replies.len(),
            max: QUICK_REPLIES_MAX,
        });
    }
    for (index, reply) in replies.iter().enumerate() {
        let invalid = |reason: String| InvalidRequest::InvalidQuickReply { index, reason };
        if reply.content_type == "text" {
            let title = reply.title.as_deref().unwrap_or_default();
            if title.is_empty() {
                return Err(invalid("a text quick reply needs a title".into()));
            }
            if title.chars().count() > QUICK_REPLY_TITLE_MAX_CHARS {
                return Err(invalid(format!(
                    "title {title:?} is longer than {QUICK_REPLY_TITLE_MAX_CHARS} characters"
                )));
            }
            let payload = reply.payload.as_deref().unwrap_or_default();
            if payload.is_empty() || payload.chars().count() > QUICK_REPLY_PAYLOAD_MAX_CHARS {
                return Err(invalid(format!(
                    "payload must have 1 to {QUICK_REPLY_PAYLOAD_MAX_CHARS} characters"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn text_limits_depend_on_the_platform() {
        assert!(check_text(Platform::Messenger, &"é".repeat(2000)).is_ok());
        assert!(matches!(
            check_text(Platform::Messenger, &"a".repeat(2001)),
            Err(InvalidRequest::TextTooLong {
                length: 2001,
                max: 2000,
                ..
            })
        ));
        // 600 two-byte characters are 1200 bytes: too long for Instagram.
        assert!(matches!(
            check_text(Platform::Instagram, &"é".repeat(600)),
            Err(InvalidRequest::TextTooLong {
                length: 1200,
                max: 1000,
                unit: "bytes",
                ..
            })
        ));
        assert_eq!(
            check_text(Platform::Instagram, ""),
            Err(InvalidRequest::EmptyText)
        );
    }

    #[test]
    fn quick_reply_limits() {
        let ok: Vec<_> = (0..13)
            .map(|i| QuickReply::text(format!("#{i}"), "P"))
            .collect();
        assert!(check_quick_replies(&ok).is_ok());
        let mut too_many = ok.clone();
        too_many.push(QuickReply::text("x", "y"));
        assert!(matches!(
            check_quick_replies(&too_many),
            Err(InvalidRequest::TooManyQuickReplies { count: 14, .. })
        ));
        let long = [QuickReply::text("a title that is far too long", "P")];
        assert!(matches!(
            check_quick_replies(&long),
            Err(InvalidRequest::InvalidQuickReply { index: 0, .. })
        ));
        assert!(check_quick_replies(&[QuickReply::email()]).is_ok());
    }
}
