//! A bot on meta-messaging: an [`EventHandler`] that answers every message a customer writes,
//! on Messenger and Instagram, mounted in an actix-web server (see `src/main.rs`).
//!
//! The handler runs after each delivery is stored, so answering (a Graph API call) never
//! delays the 200 Meta waits for. Meta redelivers, so the same message can reach the handler
//! twice; the bot looks in the store for its own earlier answer before answering.

use async_trait::async_trait;
use meta_messaging_core::inbox::{EventHandler, HandlerError, Inbox, SendRequest};
use meta_messaging_core::store::{Direction, MessageQuery, StoredReplyTo, TenantEvent};
use meta_messaging_core::webhook::{EventDetails, Message};

/// Answers each inbound message: its text back, or a word about its attachment.
#[derive(Debug, Clone, Copy, Default)]
pub struct EchoBot;

/// What the bot answers to `message`; `None` for what it leaves alone (an unsupported or
/// deleted message).
pub fn answer(message: &Message) -> Option<String> {
    if message.is_unsupported {
        return None;
    }
    match (&message.text, message.attachments.first()) {
        (Some(text), _) if !text.trim().is_empty() => Some(format!("You said: {text}")),
        (_, Some(attachment)) => Some(format!("Thanks for the {}!", attachment.kind)),
        _ => None,
    }
}

#[async_trait]
impl EventHandler for EchoBot {
    async fn handle(&self, inbox: &Inbox, routed: &TenantEvent) -> Result<(), HandlerError> {
        let event = &routed.event;
        let EventDetails::Message(message) = &event.details else {
            return Ok(());
        };
        let (Some(text), Some(sender)) = (answer(message), &event.sender_id) else {
            return Ok(());
        };
        if answered_already(inbox, routed, message).await? {
            return Ok(());
        }
        let reply = SendRequest::text(
            event.platform,
            event.account_id.clone(),
            sender.as_str(),
            text,
        )
        .with_reply_to(message.mid.clone());
        inbox.send(&routed.tenant_id, &reply).await?;
        Ok(())
    }
}

/// Whether the store holds an answer of ours to `message` (a redelivery, or another instance
/// got there first).
async fn answered_already(
    inbox: &Inbox,
    routed: &TenantEvent,
    message: &Message,
) -> Result<bool, HandlerError> {
    let store = inbox.store();
    let Some(stored) = store
        .find_message(&routed.tenant_id, routed.event.platform, &message.mid)
        .await?
    else {
        return Ok(false);
    };
    let replies = store
        .list_messages(
            &routed.tenant_id,
            &MessageQuery::new()
                .conversation(stored.conversation_id)
                .direction(Direction::Outbound)
                .since_ms(stored.timestamp_ms),
        )
        .await?;
    Ok(replies.data.iter().any(|reply| {
        matches!(&reply.reply_to, Some(StoredReplyTo::Message { mid }) if *mid == message.mid)
    }))
}
