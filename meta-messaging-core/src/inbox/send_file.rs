//! Sending a file: [`OutgoingFile`], the bytes of a [`SendRequest`](super::SendRequest) sent
//! through Meta's Attachment Upload API, and keeping it in the media store once Meta has it.

use std::fmt;

use bytes::Bytes;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::Inbox;
use crate::error::ErrorChain;
use crate::graph::{AttachmentKind, attachment_kind_of};
use crate::ids::TenantId;
use crate::store::{NewMedia, StoredMessage, now_ms};

/// A file to send (what `POST /messages` takes as `multipart/form-data`): uploaded to Meta
/// first (`/{page-id}/message_attachments`), then sent by its attachment id, and kept in the
/// media store when the inbox keeps media, so the thread shows it from the inbox's copy.
///
/// Its kind follows its media type (`image/*`, `video/*`, `audio/*`, anything else a `file`);
/// the platform's size and type limits are checked before any call. In a request's
/// fingerprint (idempotency) it counts by name, media type, size and SHA-256.
#[derive(Clone)]
pub struct OutgoingFile {
    filename: String,
    mime: String,
    bytes: Bytes,
    sha256: String,
}

impl OutgoingFile {
    /// A file of media type `mime` (the browser's `Content-Type` of the part; an empty one is
    /// `application/octet-stream`) named `filename`.
    pub fn new(
        filename: impl Into<String>,
        mime: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        let bytes = bytes.into();
        let mime = mime.into();
        let mime = if mime.trim().is_empty() {
            "application/octet-stream".to_owned()
        } else {
            mime
        };
        Self {
            filename: filename.into(),
            mime,
            sha256: hex::encode(Sha256::digest(&bytes)),
            bytes,
        }
    }

    /// Its name.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// Its media type.
    pub fn mime(&self) -> &str {
        &self.mime
    }

    /// Its bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The SHA-256 of its bytes, lower-case hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The attachment kind it is sent as.
    pub fn kind(&self) -> AttachmentKind {
        attachment_kind_of(&self.mime)
    }
}

impl fmt::Debug for OutgoingFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingFile")
            .field("filename", &self.filename)
            .field("mime", &self.mime)
            .field("size", &self.bytes.len())
            .field("sha256", &self.sha256)
            .finish()
    }
}

/// What a request's fingerprint sees of the file: everything but the bytes, which the
/// SHA-256 stands for.
impl Serialize for OutgoingFile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut file = serializer.serialize_struct("OutgoingFile", 4)?;
        file.serialize_field("filename", &self.filename)?;
        file.serialize_field("mime", &self.mime)?;
        file.serialize_field("size", &self.bytes.len())?;
        file.serialize_field("sha256", &self.sha256)?;
        file.end()
    }
}

impl Inbox {
    /// Keeps a file Meta accepted as the first attachment of `message`, and marks it kept in
    /// the answer, as a downloaded inbound attachment is. Meta has the message already, so a
    /// failure here is logged, not returned: the attachment then stays `stored: false`.
    pub(super) async fn keep_sent_file(
        &self,
        tenant: &TenantId,
        message: &mut StoredMessage,
        file: &OutgoingFile,
    ) {
        let Some(media) = &self.inner.media else {
            return;
        };
        let kept = async {
            let sha256 = media.files().put(file.bytes()).await?;
            let id = crate::store::StoredMediaId::of_attachment(tenant, message.id, 0);
            let size = file.bytes().len() as u64;
            let new = NewMedia::new(
                message.id,
                0,
                sha256,
                file.mime(),
                size,
                media.media_url(&id),
                now_ms(),
            );
            self.inner.store.record_media(tenant, &new).await?;
            Ok::<_, super::InboxError>(new)
        };
        match kept.await {
            Ok(new) => {
                new.mark(&mut message.attachments);
            }
            Err(err) => tracing::warn!(
                error = %ErrorChain(&err),
                tenant = %tenant,
                message_id = %message.message_id,
                "a sent file could not be kept: the thread shows it once its echo's media is downloaded"
            ),
        }
    }
}
