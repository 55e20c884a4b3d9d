//! The in-memory store's change log: reading a tenant's changes and pruning old ones.

use super::InMemoryStore;
use super::state::State;
use crate::ids::TenantId;
use crate::store::changes::{Change, ChangePage, ChangeSubject, PendingChange, change_page_size};
use crate::store::error::StoreError;

impl InMemoryStore {
    pub(super) fn changes_now(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<ChangePage, StoreError> {
        let size = change_page_size(limit)?;
        let state = self.lock();
        let Some(log) = state.logs.get(tenant) else {
            return Ok(ChangePage {
                changes: Vec::new(),
                head: 0,
                gap: after > 0,
            });
        };
        let mut changes = Vec::new();
        let mut first = None;
        for (seq, at_ms, change) in log.entries.iter().filter(|(seq, ..)| *seq > after) {
            first.get_or_insert(*seq);
            if changes.len() == size {
                break;
            }
            if let Some(subject) = subject(&state, change)? {
                changes.push(Change {
                    seq: *seq,
                    at_ms: *at_ms,
                    subject,
                });
            }
        }
        let gap = after > log.head
            || first.is_some_and(|seq| seq != after + 1)
            || (first.is_none() && after < log.head);
        Ok(ChangePage {
            changes,
            head: log.head,
            gap,
        })
    }

    pub(super) fn prune_now(&self, before_ms: i64) -> u64 {
        let mut state = self.lock();
        let mut pruned = 0;
        for log in state.logs.values_mut() {
            while log
                .entries
                .front()
                .is_some_and(|(_, at, _)| *at < before_ms)
            {
                log.entries.pop_front();
                pruned += 1;
            }
        }
        pruned
    }
}

/// What a change names, as it is now; `None` when it is gone.
fn subject(state: &State, change: &PendingChange) -> Result<Option<ChangeSubject>, StoreError> {
    Ok(match change {
        PendingChange::Message { kind, message, .. } => match state.messages.get(message) {
            Some(entry) => {
                let message = Box::new(entry.view(false)?);
                Some(match kind {
                    crate::store::changes::ChangeKind::MessageStored => {
                        ChangeSubject::MessageStored(message)
                    }
                    _ => ChangeSubject::MessageUpdated(message),
                })
            }
            None => None,
        },
        PendingChange::Conversation(id) => state
            .conversations
            .get(id)
            .map(|c| ChangeSubject::ConversationUpdated(Box::new(c.clone()))),
        PendingChange::Account(platform, account_id) => Some(ChangeSubject::AccountChanged {
            platform: *platform,
            account_id: account_id.clone(),
        }),
    })
}
