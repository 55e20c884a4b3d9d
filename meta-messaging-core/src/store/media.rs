//! Media records: which kept file (by SHA-256) belongs to which attachment of which message,
//! and how an attachment's JSON shows that it is kept.

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::StoreError;
use super::model::{StoredAttachment, StoredMessage};
use super::nul::cleaned;
use crate::error::ErrorChain;
use crate::ids::{StoredMessageId, TenantId};

/// The id of a kept attachment: what `GET {mount}/media/{id}` names.
///
/// Derived from the tenant, the message and the attachment's position, so that downloading the
/// same attachment again writes the same record; 32 hex characters that say nothing of either.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct StoredMediaId(String);

impl StoredMediaId {
    /// An id as given (a path parameter); it names nothing unless a record has it.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id of a message's attachment (its position among the message's attachments).
    pub fn of_attachment(tenant: &TenantId, message: StoredMessageId, index: u32) -> Self {
        let mut hash = Sha256::new();
        hash.update(tenant.as_str().as_bytes());
        hash.update([0]);
        hash.update(message.get().to_be_bytes());
        hash.update(index.to_be_bytes());
        Self(hex::encode(&hash.finalize()[..16]))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StoredMediaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A kept attachment: the record [`MessageStore::get_media`](super::MessageStore::get_media)
/// returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MediaRecord {
    /// Its id.
    pub id: StoredMediaId,
    /// The tenant that owns it (the only one it is served to).
    pub tenant_id: TenantId,
    /// The message it is an attachment of.
    pub message_id: StoredMessageId,
    /// Its position among the message's attachments.
    pub attachment_index: u32,
    /// The SHA-256 of its bytes (lower-case hex): the key of the file in the
    /// [`MediaStore`](crate::media::MediaStore).
    pub sha256: String,
    /// The media type Meta's CDN answered with.
    pub mime: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was kept, in ms since the epoch (what retention counts from).
    pub created_at_ms: i64,
}

/// A downloaded attachment to record, for
/// [`MessageStore::record_media`](super::MessageStore::record_media) and
/// [`record_media_batch`](super::MessageStore::record_media_batch).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewMedia {
    /// The message it is an attachment of.
    pub message_id: StoredMessageId,
    /// Its position among the message's attachments.
    pub attachment_index: u32,
    /// The SHA-256 of its bytes (lower-case hex).
    pub sha256: String,
    /// Its media type.
    pub mime: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where the inbox serves it (written into the attachment's `media_url`).
    pub media_url: String,
    /// When it was kept, in ms since the epoch.
    pub created_at_ms: i64,
}

impl NewMedia {
    /// A downloaded attachment of a message.
    pub fn new(
        message_id: StoredMessageId,
        attachment_index: u32,
        sha256: impl Into<String>,
        mime: impl Into<String>,
        size: u64,
        media_url: impl Into<String>,
        created_at_ms: i64,
    ) -> Self {
        Self {
            message_id,
            attachment_index,
            sha256: sha256.into(),
            mime: mime.into(),
            size,
            media_url: media_url.into(),
            created_at_ms,
        }
    }

    /// The record it becomes for a tenant.
    pub(crate) fn record(&self, tenant: &TenantId) -> MediaRecord {
        MediaRecord {
            id: StoredMediaId::of_attachment(tenant, self.message_id, self.attachment_index),
            tenant_id: tenant.clone(),
            message_id: self.message_id,
            attachment_index: self.attachment_index,
            sha256: self.sha256.clone(),
            mime: self.mime.clone(),
            size: self.size,
            created_at_ms: self.created_at_ms,
        }
    }

    /// Marks the attachment it names kept. `false` when the message has no attachment there
    /// (it was deleted meanwhile): then nothing is recorded.
    pub(crate) fn mark(&self, attachments: &mut [StoredAttachment]) -> bool {
        let Some(a) = usize::try_from(self.attachment_index)
            .ok()
            .and_then(|i| attachments.get_mut(i))
        else {
            return false;
        };
        a.media_url = Some(self.media_url.clone());
        a.mime = Some(self.mime.clone());
        a.size = Some(self.size);
        a.sha256 = Some(self.sha256.clone());
        a.stored = true;
        true
    }
}

/// What recording one kept attachment came to: the message as it is now, or `None` when
/// nothing was recorded.
pub(crate) type Recorded = Result<Option<StoredMessage>, StoreError>;

/// [`MessageStore::record_media_batch`](super::MessageStore::record_media_batch) on a backend
/// whose `write` records items (tenant checked by `check_tenant`, cleaned of NUL) in one
/// transaction, returning each one's outcome or the error that rolled them all back.
///
/// When that transaction fails, each item is written alone, so that an item that cannot be
/// recorded fails alone, unless the database itself is unavailable: each item alone would
/// wait for it in turn, so each gets that error at once.
pub(crate) async fn record_together<W, F>(
    items: &[(TenantId, NewMedia)],
    check_tenant: fn(&TenantId) -> Result<(), StoreError>,
    write: W,
) -> Vec<Recorded>
where
    W: Fn(Vec<(TenantId, NewMedia)>) -> F,
    F: Future<Output = Result<Vec<Recorded>, StoreError>>,
{
    let mut outcomes: Vec<Option<Recorded>> = Vec::with_capacity(items.len());
    let mut valid = Vec::with_capacity(items.len());
    for (tenant, media) in items {
        match check_tenant(tenant) {
            Ok(()) => {
                valid.push((cleaned(tenant), cleaned(media)));
                outcomes.push(None);
            }
            Err(err) => outcomes.push(Some(Err(err))),
        }
    }
    let written = match valid.len() {
        0 => Vec::new(),
        1 => write(valid).await.unwrap_or_else(|err| vec![Err(err)]),
        _ => match write(valid.clone()).await {
            Ok(written) => written,
            Err(err) => alone(valid, err, &write).await,
        },
    }
    .into_iter();
    fill(outcomes, written)
}

/// Writes each item in a transaction of its own, after `err` failed the one of them all.
async fn alone<W, F>(items: Vec<(TenantId, NewMedia)>, err: StoreError, write: &W) -> Vec<Recorded>
where
    W: Fn(Vec<(TenantId, NewMedia)>) -> F,
    F: Future<Output = Result<Vec<Recorded>, StoreError>>,
{
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    if err.is_unavailable() {
        let err = std::sync::Arc::new(err);
        return items
            .iter()
            .map(|_| Err(StoreError::Unavailable(std::sync::Arc::clone(&err))))
            .collect();
    }
    tracing::warn!(
        items = items.len(),
        error = %ErrorChain(&err),
        "store: recording kept attachments together failed; recording each alone"
    );
    let mut written = Vec::with_capacity(items.len());
    for item in items {
        written.extend(write(vec![item]).await.unwrap_or_else(|err| vec![Err(err)]));
    }
    written
}

/// The outcomes in the items' order: those already known (refused before the write), the
/// written ones in the gaps.
fn fill(
    outcomes: Vec<Option<Recorded>>,
    mut written: impl Iterator<Item = Recorded>,
) -> Vec<Recorded> {
    outcomes
        .into_iter()
        .map(|known| {
            known
                .or_else(|| written.next())
                .unwrap_or_else(|| Err(unanswered()))
        })
        .collect()
}

/// The outcome of an item that a write of kept attachments left unanswered (a backend bug):
/// not made up.
pub(crate) fn unanswered() -> StoreError {
    StoreError::Invariant {
        what: "a write of kept attachments answered fewer items than it was given",
    }
}
