//! Sender actions (typing, seen), Instagram reactions, and attachment uploads.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Platform;
use crate::ids::{AttachmentId, MessageId};

use super::AccountRoute;
use super::account_client::AccountClient;
use super::error::{InvalidRequest, Result};
use super::file_limits::check_upload;
use super::outgoing::{ActionResponse, AttachmentKind, Recipient, SenderAction};
use super::request::{Call, Part};

/// A sender action or reaction being built; [`send`](Self::send) posts it.
#[derive(Debug, Clone)]
#[must_use = "an action is sent only by .send().await"]
pub struct ActionBuilder<'a> {
    account: &'a AccountClient,
    body: Result<Value, InvalidRequest>,
}

impl AccountClient {
    /// A sender action: typing on, typing off, or mark seen.
    pub fn sender_action(
        &self,
        to: impl Into<Recipient>,
        action: SenderAction,
    ) -> ActionBuilder<'_> {
        let body = json!({ "recipient": to.into(), "sender_action": action });
        ActionBuilder {
            account: self,
            body: Ok(body),
        }
    }

    /// Reacts to a message with `reaction` (`love`, or an emoji) — Instagram only.
    pub fn react(
        &self,
        to: impl Into<Recipient>,
        message: MessageId,
        reaction: impl Into<String>,
    ) -> ActionBuilder<'_> {
        let payload = json!({ "message_id": message, "reaction": reaction.into() });
        self.reaction(to.into(), "react", payload)
    }

    /// Removes this account's reaction from a message — Instagram only.
    pub fn unreact(&self, to: impl Into<Recipient>, message: MessageId) -> ActionBuilder<'_> {
        self.reaction(to.into(), "unreact", json!({ "message_id": message }))
    }

    fn reaction(&self, to: Recipient, action: &str, payload: Value) -> ActionBuilder<'_> {
        let body = if self.platform() == Platform::Instagram {
            Ok(json!({ "recipient": to, "sender_action": action, "payload": payload }))
        } else {
            Err(InvalidRequest::Unsupported {
                what: "reacting to a message",
                route: "on Messenger (Instagram only)",
            })
        };
        ActionBuilder {
            account: self,
            body,
        }
    }

    /// Uploads an attachment from bytes (multipart `filedata`) to reuse it by id. The file is
    /// checked against the platform's size and type limits ([`check_upload`]) first;
    /// Instagram uploads go through the linked Page with `platform=instagram`, as Meta
    /// requires, and the Instagram API with Instagram Login has no upload (send by URL there).
    pub fn upload_attachment(
        &self,
        kind: AttachmentKind,
        bytes: impl Into<Bytes>,
        filename: impl Into<String>,
        mime: impl Into<String>,
    ) -> UploadBuilder<'_> {
        let source = Source::Bytes {
            bytes: bytes.into(),
            filename: filename.into(),
            mime: mime.into(),
        };
        UploadBuilder {
            account: self,
            kind,
            source,
        }
    }

    /// Has Meta download an attachment from a URL and keep it for reuse by id.
    pub fn upload_attachment_url(
        &self,
        kind: AttachmentKind,
        url: impl Into<String>,
    ) -> UploadBuilder<'_> {
        UploadBuilder {
            account: self,
            kind,
            source: Source::Url(url.into()),
        }
    }
}

impl ActionBuilder<'_> {
    /// Sends the action.
    ///
    /// # Errors
    /// [`GraphError::InvalidRequest`](super::GraphError::InvalidRequest) for a reaction on
    /// Messenger, or the Graph API's error.
    pub async fn send(self) -> Result<ActionResponse> {
        let body = self.body?;
        let account = self.account;
        let call = Call::post(account.edge("messages"))
            .auth(&account.credential)
            .throttle(&account.account_id)
            // Showing "typing" or a reaction twice has no visible effect.
            .idempotent()
            .json(&body)?;
        account.client.execute(call).await
    }
}

#[derive(Debug, Clone)]
enum Source {
    Bytes {
        bytes: Bytes,
        filename: String,
        mime: String,
    },
    Url(String),
}

/// An attachment upload being built; [`send`](Self::send) returns the reusable id.
#[derive(Debug, Clone)]
#[must_use = "an upload happens only by .send().await"]
pub struct UploadBuilder<'a> {
    account: &'a AccountClient,
    kind: AttachmentKind,
    source: Source,
}

#[derive(Deserialize)]
struct Uploaded {
    attachment_id: AttachmentId,
}

impl UploadBuilder<'_> {
    /// Uploads the attachment to `/{account-id}/message_attachments`.
    ///
    /// Uploads are retried like reads: a repeated upload only leaves an unused copy.
    ///
    /// # Errors
    /// [`GraphError::InvalidRequest`](super::GraphError::InvalidRequest) before anything is
    /// sent (empty bytes, a file the platform does not take, an Instagram Login account), or
    /// the Graph API's error.
    pub async fn send(self) -> Result<AttachmentId> {
        let account = self.account;
        let call = Call::post(account.edge("message_attachments"))
            .auth(&account.credential)
            .idempotent();
        let call = match self.source {
            Source::Bytes {
                bytes,
                filename,
                mime,
            } => {
                check_file(account, self.kind, &filename, &mime, bytes.len())?;
                let message = json!({ "attachment": { "type": self.kind, "payload": { "is_reusable": true } } });
                let mut parts = Vec::with_capacity(3);
                if account.platform() == Platform::Instagram {
                    parts.push(Part::Text("platform", "instagram".to_owned()));
                }
                parts.push(Part::Text("message", message.to_string()));
                parts.push(Part::File {
                    name: "filedata",
                    bytes,
                    filename,
                    mime,
                });
                call.multipart(parts)
            }
            Source::Url(url) => {
                let message = json!({ "attachment": { "type": self.kind, "payload": { "url": url, "is_reusable": true } } });
                let mut body = json!({ "message": message });
                if account.platform() == Platform::Instagram {
                    body["platform"] = json!("instagram");
                }
                call.json(&body)?
            }
        };
        let uploaded: Uploaded = account.client.execute(call).await?;
        Ok(uploaded.attachment_id)
    }
}

/// Refuses, before any call, an upload the account's route or platform does not take.
pub(super) fn check_file(
    account: &AccountClient,
    kind: AttachmentKind,
    filename: &str,
    mime: &str,
    len: usize,
) -> Result<(), InvalidRequest> {
    if account.route() == AccountRoute::InstagramLogin {
        // Meta documents the Attachment Upload API for Instagram only through the linked
        // Page; graph.instagram.com sends media by URL.
        return Err(InvalidRequest::Unsupported {
            what: "uploading a file",
            route: "with Instagram Login: send it by URL (attachment.url, a public HTTPS link), or connect the account through its Facebook Page",
        });
    }
    check_upload(account.platform(), kind, filename, mime, len as u64)
}
