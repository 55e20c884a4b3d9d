//! The in-memory store's media records: kept with the messages, under the same lock, so a
//! record and its attachment's JSON change together.

use super::InMemoryStore;
use crate::ids::{StoredMessageId, TenantId};
use crate::store::error::StoreError;
use crate::store::media::{MediaRecord, NewMedia, Recorded, StoredMediaId};

impl InMemoryStore {
    /// Records kept attachments (checked and cleaned) in one write, under one lock.
    pub(super) fn record_media_now(
        &self,
        items: &[(TenantId, NewMedia)],
    ) -> Result<Vec<Recorded>, StoreError> {
        self.write(|tx| {
            let mut outcomes = Vec::with_capacity(items.len());
            for (tenant, media) in items {
                let id = media.message_id.get();
                let found = tx
                    .state()
                    .messages
                    .get(&id)
                    .filter(|e| e.message.tenant_id == *tenant && !e.message.deleted)
                    .cloned();
                let Some(mut entry) = found else {
                    outcomes.push(Ok(None));
                    continue;
                };
                if !media.mark(&mut entry.message.attachments) {
                    outcomes.push(Ok(None));
                    continue;
                }
                tx.put_message(id, entry.clone())?;
                tx.put_media(media.record(tenant))?;
                outcomes.push(Ok(Some(entry.view(false)?)));
            }
            Ok(outcomes)
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
