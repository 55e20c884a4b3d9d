//! Comments: public and private replies, hiding and deleting, from the inbox. See
//! `docs/comments-and-handover.md`.
//!
//! Each action calls Meta first and then records what Meta did in the store as the event Meta
//! would send for it (Instagram sends none for a hide or a delete; Facebook's `feed` webhook
//! that follows is then a duplicate the store ignores), so the comment thread shows it at
//! once and the live events announce it.

use serde::{Deserialize, Serialize};

use super::Inbox;
use super::error::InboxError;
use super::outcome::{SendOutcome, UnstoredMessage};
use crate::ids::{CommentId, MessageId, ParticipantId, TenantId, UserId};
use crate::platform::Platform;
use crate::store::{
    Conversation, ConversationKind, OutboundMessage, StoreError, StoredMessage, StoredReplyTo,
    TenantEvent, now_ms,
};
use crate::webhook::{Comment, CommentAction, CommentAuthor, Event, EventDetails};

/// A reply to a comment, in the JSON form of `POST /comments/{id}/replies`:
/// `{"text": "We sent you the details", "private": true}`.
///
/// A public reply (`private` false, the default) is a comment under the comment, seen by
/// everyone. A private reply is a direct message to the comment's author: it opens (or
/// continues) the direct conversation with them, and Meta allows one per comment, within 7
/// days of it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CommentReplyRequest {
    /// The text.
    pub text: String,
    /// A direct message to the author instead of a public reply.
    #[serde(default)]
    pub private: bool,
}

impl CommentReplyRequest {
    /// A public reply.
    pub fn public(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            private: false,
        }
    }

    /// A private reply: a direct message to the comment's author.
    pub fn private(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            private: true,
        }
    }
}

/// A stored comment and its thread.
struct Found {
    comment: StoredMessage,
    thread: Conversation,
}

impl Inbox {
    /// Replies to a stored comment, publicly (a comment in its thread) or privately (a direct
    /// message to its author, through the node Meta requires for the account's login: the
    /// Page for Facebook Pages and Instagram accounts on Facebook Login, the Instagram
    /// account for Instagram Login).
    ///
    /// Answers the stored reply: a message of the comment thread, or of the direct
    /// conversation with the author, whose `reply_to` names the comment. A reply Meta accepted
    /// is never an error (the store's failure is logged and the outcome says `NotStored`).
    ///
    /// # Errors
    /// [`InboxError::InvalidRequest`] (empty text), [`InboxError::Store`] (404: no such
    /// comment for the tenant), [`InboxError::AccountNotFound`],
    /// [`InboxError::AccountCannotSend`], or [`InboxError::Graph`] with Meta's error, its
    /// kind and fix (a second private reply to a comment, one after 7 days).
    pub async fn reply_to_comment(
        &self,
        tenant: &TenantId,
        comment_id: &CommentId,
        request: &CommentReplyRequest,
    ) -> Result<SendOutcome, InboxError> {
        if request.text.trim().is_empty() {
            return Err(InboxError::InvalidRequest(
                "a reply to a comment needs text".to_owned(),
            ));
        }
        let found = self.comment(tenant, comment_id).await?;
        let client = self.thread_client(tenant, &found.thread).await?;
        let thread = &found.thread;
        let (outbound, recorded) = if request.private {
            let sent = client
                .private_reply(comment_id.clone(), request.text.as_str())
                .send()
                .await?;
            // Meta names the author's user id for the conversation; the comment's author id
            // is the same on Instagram, and the best guess when Meta leaves it out.
            let recipient = sent
                .recipient_id
                .unwrap_or_else(|| UserId::new(found.comment.sender_id.as_str()));
            let outbound = OutboundMessage::new(
                thread.platform,
                thread.account_id.clone(),
                recipient,
                sent.message_id,
                now_ms(),
            )
            .with_text(request.text.as_str())
            .with_reply_to(StoredReplyTo::Comment {
                id: comment_id.clone(),
            });
            let recorded = self.inner.store.record_outbound(tenant, &outbound).await;
            (outbound, recorded)
        } else {
            let reply = client.reply_to_comment(comment_id, &request.text).await?;
            let outbound = OutboundMessage::new(
                thread.platform,
                thread.account_id.clone(),
                thread.participant_id.clone(),
                MessageId::new(reply.as_str()),
                now_ms(),
            )
            .with_text(request.text.as_str())
            .with_reply_to(StoredReplyTo::message(comment_id.as_str()));
            let event = comment_event(
                thread,
                reply,
                CommentAction::Add,
                Some(comment_id),
                Some(&request.text),
            );
            let recorded = self
                .record_comment(tenant, event, &outbound.message_id)
                .await;
            (outbound, recorded)
        };
        match recorded {
            Ok(mut stored) => {
                stored.raw_event = None;
                Ok(SendOutcome::Stored(Box::new(stored)))
            }
            Err(err) => {
                tracing::error!(
                    error = %crate::error::ErrorChain(&err),
                    tenant = %tenant,
                    message_id = %outbound.message_id,
                    "Meta accepted the reply to a comment but the store could not record it"
                );
                Ok(SendOutcome::NotStored(Box::new(
                    UnstoredMessage::from_outbound(outbound),
                )))
            }
        }
    }

    /// Hides (`true`) or unhides a stored comment: only its author (and, on Facebook, their
    /// friends) still see a hidden comment. Answers the stored comment.
    ///
    /// # Errors
    /// As [`reply_to_comment`](Self::reply_to_comment); a store failure after Meta hid the
    /// comment is [`InboxError::Store`] (hiding again is harmless).
    pub async fn set_comment_hidden(
        &self,
        tenant: &TenantId,
        comment_id: &CommentId,
        hidden: bool,
    ) -> Result<StoredMessage, InboxError> {
        let found = self.comment(tenant, comment_id).await?;
        let client = self.thread_client(tenant, &found.thread).await?;
        client.set_comment_hidden(comment_id, hidden).await?;
        let action = if hidden {
            CommentAction::Hide
        } else {
            CommentAction::Unhide
        };
        let event = comment_event(&found.thread, comment_id.clone(), action, None, None);
        let mid = MessageId::new(comment_id.as_str());
        Ok(self.record_comment(tenant, event, &mid).await?)
    }

    /// Deletes a stored comment on Meta; the store keeps it as deleted (its text erased).
    /// Answers the stored comment.
    ///
    /// # Errors
    /// As [`set_comment_hidden`](Self::set_comment_hidden).
    pub async fn delete_comment(
        &self,
        tenant: &TenantId,
        comment_id: &CommentId,
    ) -> Result<StoredMessage, InboxError> {
        let found = self.comment(tenant, comment_id).await?;
        let client = self.thread_client(tenant, &found.thread).await?;
        client.delete_comment(comment_id).await?;
        let remove = CommentAction::Remove;
        let event = comment_event(&found.thread, comment_id.clone(), remove, None, None);
        let mid = MessageId::new(comment_id.as_str());
        Ok(self.record_comment(tenant, event, &mid).await?)
    }

    /// The tenant's stored comment with this id, on either platform, and its thread.
    async fn comment(&self, tenant: &TenantId, id: &CommentId) -> Result<Found, InboxError> {
        let store = &self.inner.store;
        let mid = MessageId::new(id.as_str());
        for platform in [Platform::Messenger, Platform::Instagram] {
            let Some(comment) = store.find_message(tenant, platform, &mid).await? else {
                continue;
            };
            let thread = store
                .get_conversation(tenant, comment.conversation_id)
                .await?;
            if let Some(thread) = thread.filter(|t| t.kind == ConversationKind::Comments) {
                return Ok(Found { comment, thread });
            }
        }
        Err(InboxError::Store(StoreError::NotFound {
            what: "comment",
            id: id.to_string(),
        }))
    }

    async fn thread_client(
        &self,
        tenant: &TenantId,
        thread: &Conversation,
    ) -> Result<crate::graph::AccountClient, InboxError> {
        let account = self
            .connected_account(tenant, thread.platform, &thread.account_id)
            .await?;
        self.account_client(&account).await
    }

    /// Stores what the account did to a comment, as Meta's webhook would report it, and reads
    /// the comment back.
    async fn record_comment(
        &self,
        tenant: &TenantId,
        event: Event,
        mid: &MessageId,
    ) -> Result<StoredMessage, StoreError> {
        let platform = event.platform;
        let store = &self.inner.store;
        store
            .apply(&[TenantEvent::new(tenant.clone(), event)])
            .await?;
        store
            .find_message(tenant, platform, mid)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "comment",
                id: mid.to_string(),
            })
    }
}

/// The event Meta sends for what the account did to a comment of `thread`.
fn comment_event(
    thread: &Conversation,
    comment_id: CommentId,
    action: CommentAction,
    parent: Option<&CommentId>,
    text: Option<&str>,
) -> Event {
    let account = ParticipantId::from(thread.account_id.clone());
    let comment = Comment {
        comment_id,
        action,
        text: text.map(str::to_owned),
        from: Some(CommentAuthor {
            id: account.clone(),
            username: None,
            name: None,
        }),
        media: None,
        post_id: thread.post_id.clone(),
        parent_id: parent.cloned(),
        live: false,
    };
    Event::new(
        thread.platform,
        thread.account_id.clone(),
        now_ms(),
        EventDetails::Comment(Box::new(comment)),
    )
    .with_sender(account)
}
