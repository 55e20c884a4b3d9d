//! Reading and changing a tenant's conversations, messages and accounts, and telling live
//! subscribers about each change.

use super::{Inbox, InboxError};
use crate::ids::TenantId;
use crate::store::{
    Account, Conversation, ConversationId, ConversationQuery, MessageQuery, StorePage,
    StoredMessage,
};

impl Inbox {
    /// One page of conversations, by last activity.
    ///
    /// # Errors
    /// [`InboxError::Store`] (an invalid cursor answers 400).
    pub async fn conversations(
        &self,
        tenant: &TenantId,
        query: &ConversationQuery,
    ) -> Result<StorePage<Conversation>, InboxError> {
        Ok(self.inner.store.list_conversations(tenant, query).await?)
    }

    /// One page of messages.
    ///
    /// # Errors
    /// [`InboxError::Store`] (an invalid cursor answers 400).
    pub async fn messages(
        &self,
        tenant: &TenantId,
        query: &MessageQuery,
    ) -> Result<StorePage<StoredMessage>, InboxError> {
        Ok(self.inner.store.list_messages(tenant, query).await?)
    }

    /// Marks a conversation read (live subscribers hear of it through the change log).
    ///
    /// # Errors
    /// [`InboxError::Store`] (404 when the conversation is not the tenant's).
    pub async fn mark_read(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Conversation, InboxError> {
        let conversation = self.inner.store.mark_conversation_read(tenant, id).await?;
        Ok(conversation)
    }

    /// Archives or unarchives a conversation (live subscribers hear of it through the change log).
    ///
    /// # Errors
    /// [`InboxError::Store`] (404 when the conversation is not the tenant's).
    pub async fn set_archived(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        archived: bool,
    ) -> Result<Conversation, InboxError> {
        let conversation = self
            .inner
            .store
            .set_conversation_archived(tenant, id, archived)
            .await?;
        Ok(conversation)
    }

    /// The tenant's connected accounts (their tokens are never serialized).
    ///
    /// # Errors
    /// [`InboxError::Store`].
    pub async fn accounts(&self, tenant: &TenantId) -> Result<Vec<Account>, InboxError> {
        Ok(self.inner.store.list_accounts(tenant).await?)
    }
}
