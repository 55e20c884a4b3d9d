//! The handover between a bot and a human: who answers a conversation, set from the inbox
//! (take over, hand back) and from Meta's handover webhooks (another app took or passed the
//! thread). See `docs/comments-and-handover.md`.

use super::Inbox;
use super::error::InboxError;
use crate::ids::{TenantId, UserId};
use crate::store::{Conversation, ConversationId, StoreError, TenantEvent, ThreadOwner};
use crate::webhook::{EventDetails, Handover};

/// The `metadata` this inbox sends with `take_thread_control`, for the app that loses it.
const TAKE_OVER_METADATA: &str = "taken over by a person in the inbox";

impl Inbox {
    /// A person takes the conversation over: its owner becomes [`ThreadOwner::Human`], and the
    /// [`EventHandler`](super::EventHandler)s see that owner on its events (a bot stays quiet).
    ///
    /// When another app of the Page holds thread control ([`ThreadOwner::OtherApp`]), this
    /// app takes it first with `take_thread_control` (Meta allows it to the Page's primary
    /// receiver); otherwise nothing is sent to Meta.
    ///
    /// # Errors
    /// [`InboxError::Store`] (404 when the conversation is not the tenant's), or the Graph
    /// error of `take_thread_control` (the owner is then left as it was).
    pub async fn take_over(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Conversation, InboxError> {
        let conversation = self.conversation(tenant, id).await?;
        if conversation.owner == ThreadOwner::OtherApp {
            let account = self
                .connected_account(tenant, conversation.platform, &conversation.account_id)
                .await?;
            let client = self.account_client(&account).await?;
            client
                .take_thread_control(
                    conversation.participant_id.clone(),
                    Some(TAKE_OVER_METADATA),
                )
                .await?;
        }
        self.set_owner(tenant, id, ThreadOwner::Human).await
    }

    /// Hands the conversation back to the bot: its owner becomes [`ThreadOwner::Bot`] and the
    /// handlers answer it again. This app keeps thread control (its own handlers are the
    /// bot); to give the thread to another app, call
    /// [`AccountClient::pass_thread_control`](crate::graph::AccountClient::pass_thread_control).
    ///
    /// # Errors
    /// [`InboxError::Store`] (404 when the conversation is not the tenant's).
    pub async fn hand_back(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Conversation, InboxError> {
        self.set_owner(tenant, id, ThreadOwner::Bot).await
    }

    async fn conversation(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Conversation, InboxError> {
        let found = self.inner.store.get_conversation(tenant, id).await?;
        found.ok_or_else(|| {
            InboxError::Store(StoreError::NotFound {
                what: "conversation",
                id: id.to_string(),
            })
        })
    }

    async fn set_owner(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        owner: ThreadOwner,
    ) -> Result<Conversation, InboxError> {
        Ok(self
            .inner
            .store
            .set_conversation_owner(tenant, id, owner)
            .await?)
    }

    /// Applies Meta's handover webhooks to the owners of stored conversations: Meta sends
    /// `take_thread_control` to the app that lost the thread (another app owns it now) and
    /// `pass_thread_control` to the app that received it (this app's bot answers again).
    /// A conversation the store does not have yet is left alone; it starts with the bot.
    ///
    /// Runs after the delivery's write and before it is answered, so a failure here makes
    /// Meta send it again, and setting an owner twice is harmless.
    pub(crate) async fn apply_handovers(&self, events: &[TenantEvent]) -> Result<(), StoreError> {
        for routed in events {
            let event = &routed.event;
            let owner = match &event.details {
                EventDetails::Handover(Handover::TakeThreadControl { .. }) => ThreadOwner::OtherApp,
                EventDetails::Handover(Handover::PassThreadControl { .. }) => ThreadOwner::Bot,
                _ => continue,
            };
            let Some(user) = event.sender_id.as_ref() else {
                continue;
            };
            let store = &self.inner.store;
            let found = store
                .find_conversation(
                    &routed.tenant_id,
                    event.platform,
                    &event.account_id,
                    &UserId::new(user.as_str()),
                )
                .await?;
            if let Some(conversation) = found.filter(|c| c.owner != owner) {
                store
                    .set_conversation_owner(&routed.tenant_id, conversation.id, owner)
                    .await?;
            }
        }
        Ok(())
    }
}
