//! The in-memory store's media records: kept with the messages, under the same lock, so a
//! record and its attachment's JSON change together.

use super::InMemoryStore;
use crate::ids::{StoredMessageId, TenantId};
use crate::store::error::StoreError;
use crate::store::media::{MediaRecord, NewMedia, StoredMediaId};
use crate::store::model::StoredMessage;

impl InMemoryStore {
    pub(super) fn record_media_now(
        &self,
        tenant: &TenantId,
        media: &NewMedia,
    ) -> Result<Option<StoredMessage>, StoreError> {
        self.write(|tx| {
            let id = media.message_id.get();
            let Some(mut entry) = tx
                .state()
                .messages
                .get(&id)
                .filter(|e| e.message.tenant_id == *tenant && !e.message.deleted)
                .cloned()
            else {
                return Ok(None);
            };
            if !media.mark(&mut entry.message.attachments) {
                return Ok(None);
            }
            tx.put_message(id, entry.clone())?;
            tx.put_media(media.record(tenant))?;
            entry.view(false).map(Some)
        })
    }

    pub(super) fn get_media_now(
        &self,
        tenant: &TenantId,
        id: &StoredMediaId,
    ) -> Option<MediaRecord> {
        self.lock()
            .media
            .get(id)
            .filter(|r| r.tenant_id == *tenant)
            .cloned()
    }

    pub(super) fn delete_media_where(
        &self,
        doomed: impl Fn(&MediaRecord) -> bool,
    ) -> Vec<MediaRecord> {
        let mut state = self.lock();
        let (gone, kept) = std::mem::take(&mut state.media)
            .into_iter()
            .partition(|(_, r)| doomed(r));
        state.media = kept;
        gone.into_values().collect()
    }

    pub(super) fn delete_message_media_now(
        &self,
        tenant: &TenantId,
        message: StoredMessageId,
    ) -> Vec<MediaRecord> {
        self.delete_media_where(|r| r.tenant_id == *tenant && r.message_id == message)
    }

    pub(super) fn media_in_use_now(&self, sha256: &str) -> bool {
        self.lock().media.values().any(|r| r.sha256 == sha256)
    }
}
