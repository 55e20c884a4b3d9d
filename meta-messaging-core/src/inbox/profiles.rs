//! Who a conversation is with: after a participant's first message, their Graph profile (name,
//! username, picture) is looked up in the background and stored on the conversation.

use std::collections::HashSet;
use std::sync::Mutex;

use super::Inbox;
use super::error::InboxError;
use crate::ids::{MessageId, TenantId, UserId};
use crate::platform::Platform;
use crate::store::{ParticipantProfile, TenantEvent};
use crate::webhook::EventKind;

/// How many participants a [`ProfileLookups`] remembers before it starts afresh; bounds memory
/// on a busy inbox at the cost of an occasional second look-up.
const REMEMBERED: usize = 10_000;

/// The participants whose profile this process looked up already (or is looking up), so a
/// chatty customer costs one Graph call, not one per message.
#[derive(Debug, Default)]
pub(super) struct ProfileLookups {
    seen: Mutex<HashSet<(TenantId, Platform, UserId)>>,
}

impl ProfileLookups {
    /// `true` the first time `key` is offered.
    fn first(&self, key: (TenantId, Platform, UserId)) -> bool {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() >= REMEMBERED {
            seen.clear();
        }
        seen.insert(key)
    }
}

impl Inbox {
    /// Starts looking up the profiles of the users who wrote in `events`, when the inbox was
    /// built with [`fetch_profiles`](super::InboxBuilder::fetch_profiles). Never delays the
    /// delivery: the look-ups run after it was stored, and a failure is only logged (Meta
    /// refuses profiles without the right permissions; the conversation keeps its ids).
    pub(super) fn fill_profiles(&self, events: &[TenantEvent]) {
        let Some(lookups) = &self.inner.profiles else {
            return;
        };
        let wanted: Vec<(TenantId, Platform, UserId, MessageId)> = events
            .iter()
            .filter(|routed| routed.event.kind() == EventKind::Message)
            .filter_map(|routed| {
                let event = &routed.event;
                let user = UserId::new(event.sender_id.as_ref()?.as_str());
                let mid = event.message_id()?.clone();
                let key = (routed.tenant_id.clone(), event.platform, user.clone());
                lookups
                    .first(key)
                    .then(|| (routed.tenant_id.clone(), event.platform, user, mid))
            })
            .collect();
        if wanted.is_empty() {
            return;
        }
        let inbox = self.clone();
        tokio::spawn(async move {
            for (tenant, platform, user, mid) in wanted {
                if let Err(err) = inbox.fill_profile(&tenant, platform, &user, &mid).await {
                    tracing::debug!(error = %crate::error::ErrorChain(&err), %platform, "participant profile not looked up");
                }
            }
        });
    }

    pub(super) async fn fill_profile(
        &self,
        tenant: &TenantId,
        platform: Platform,
        user: &UserId,
        mid: &MessageId,
    ) -> Result<(), InboxError> {
        let store = self.inner.store.as_ref();
        let Some(message) = store.find_message(tenant, platform, mid).await? else {
            return Ok(());
        };
        let known = store
            .get_conversation(tenant, message.conversation_id)
            .await?
            .is_some_and(|c| c.participant != ParticipantProfile::default());
        if known {
            return Ok(());
        }
        let Some(account) = store
            .get_account(tenant, platform, &message.account_id)
            .await?
        else {
            return Ok(());
        };
        let found = self
            .account_client(&account)
            .await?
            .user_profile(user)
            .await?;
        let joined = [found.first_name.as_deref(), found.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let profile = ParticipantProfile {
            name: found.name.or((!joined.is_empty()).then_some(joined)),
            username: found.username,
            profile_pic_url: found.profile_pic,
        };
        store
            .set_participant_profile(tenant, message.conversation_id, &profile)
            .await?;
        Ok(())
    }
}
