//! A bot on meta-messaging: an [`EventHandler`] that answers every message a customer writes,
//! on Messenger and Instagram, mounted in an actix-web server (see `src/main.rs`).
//!
//! The handler runs in the background from the inbox's durable handler queue, so answering (a
//! Graph API call) never delays the 200 Meta waits for, and a message Meta delivers twice runs
//! it once. Handlers run **at least once**, though: after a crash, or an error, the same event
//! runs again. Meta's send is not idempotent, so the bot sends under the event's idempotency
//! key ([`Inbox::send_idempotent`]): the key is stored before the send, a run after a finished
//! send replays its answer instead of sending, and a run that finds the key still in flight
//! (the first run stopped mid-send) leaves it at that: whether that answer reached the
//! customer shows as its echo in the conversation, and it is never sent twice.

use async_trait::async_trait;
use meta_messaging_core::inbox::{
    EventHandler, HandlerError, HandlerEvent, Inbox, InboxError, SendRequest,
};
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
    /// Stable, whatever the crate is renamed to: it keys the bot's cursor in the store.
    fn name(&self) -> &str {
        "echo-bot"
    }

    async fn handle(&self, inbox: &Inbox, handled: &HandlerEvent) -> Result<(), HandlerError> {
        // A person took the conversation over (or another app holds it): not the bot's turn.
        if !handled.bot_answers() {
            return Ok(());
        }
        let event = &handled.event;
        let EventDetails::Message(message) = &event.details else {
            return Ok(());
        };
        let (Some(text), Some(sender)) = (answer(message), &event.sender_id) else {
            return Ok(());
        };
        let reply = SendRequest::text(
            event.platform,
            event.account_id.clone(),
            sender.as_str(),
            text,
        )
        .with_reply_to(message.mid.clone());
        match inbox
            .send_idempotent(&handled.tenant_id, handled.idempotency_key(), &reply)
            .await
        {
            // Sent now, or by an earlier run whose answer is replayed: nothing more to do.
            Ok(_) => Ok(()),
            // An earlier run stopped mid-send: its echo tells whether it went out; sending
            // again could answer twice.
            Err(InboxError::IdempotencyKeyInFlight { .. }) => {
                tracing::info!(
                    tenant = %handled.tenant_id,
                    seq = handled.seq,
                    "an earlier answer to this message was interrupted mid-send: not sent again"
                );
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }
}
