//! Hooks for bots and integrations: code that runs on every event that changed an inbox.

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::Inbox;
use crate::ids::TenantId;
use crate::store::{IdempotencyKey, TenantEvent, ThreadOwner};
use crate::webhook::Event;

/// The error an [`EventHandler`] may return: the event is retried (see [`EventHandler`]); it
/// is logged, never sent to Meta.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// Runs on every webhook event that changed an inbox, after it is durably stored.
///
/// Events Meta delivers in `standby` (another app of the Page owns the thread) are stored but
/// never run. Every event carries its conversation's [`HandlerEvent::owner`]: a bot answers
/// only when [`HandlerEvent::bot_answers`] (a person may have taken the conversation over).
///
/// Handlers are driven from a durable queue in the store, in background tasks, so a slow
/// handler (one that calls the Graph API to answer, say) never delays the 200 Meta waits for:
///
/// - **each event that changed the inbox**: an event is queued with its delivery's write,
///   once per tenant; a delivery Meta sends again queues (and runs) nothing;
/// - **in order per conversation** (platform, account and customer), with up to
///   [`HandlerOptions::concurrency`](super::HandlerOptions) conversations at a time;
/// - **retried on error**, with exponential backoff, up to
///   [`HandlerOptions::max_attempts`](super::HandlerOptions) attempts; then the event is
///   logged at `error` level (tenant, sequence number, idempotency key) and skipped;
/// - **resumed after a crash or restart**: each handler has a durable cursor per tenant, and
///   every instance sharing the database takes its part of the work (one instance at a time
///   per tenant and handler, under a lease).
///
/// The contract is **at least once**: an event may run more than once (the instance running
/// it crashed before recording that it finished, its lease ran out, or a later event of
/// another conversation failed in the same batch). A handler with effects outside the store
/// must make them idempotent: [`HandlerEvent::idempotency_key`] names the event the same way
/// on every run, for [`Inbox::send_idempotent`] say.
///
/// ```
/// use meta_messaging_core::inbox::{EventHandler, HandlerError, HandlerEvent, Inbox};
/// use meta_messaging_core::webhook::EventKind;
///
/// struct CountMessages(std::sync::atomic::AtomicUsize);
///
/// #[async_trait::async_trait]
/// impl EventHandler for CountMessages {
///     async fn handle(&self, _inbox: &Inbox, event: &HandlerEvent) -> Result<(), HandlerError> {
///         if event.event.kind() == EventKind::Message {
///             self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         }
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// The handler's name. Keep it stable: it keys the handler's durable cursor, so a renamed
    /// handler starts over as a new one (from the newest event), and two handlers with one
    /// name share a cursor. Defaults to the type's name.
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }

    /// Handles one event.
    ///
    /// # Errors
    /// Any error: the event is run again later (see [`EventHandler`]); the events of its
    /// conversation after it wait.
    async fn handle(&self, inbox: &Inbox, event: &HandlerEvent) -> Result<(), HandlerError>;
}

/// A shared handler is a handler, so one can be registered and also kept by the caller.
#[async_trait]
impl<H: EventHandler + ?Sized> EventHandler for std::sync::Arc<H> {
    fn name(&self) -> &str {
        (**self).name()
    }

    async fn handle(&self, inbox: &Inbox, event: &HandlerEvent) -> Result<(), HandlerError> {
        (**self).handle(inbox, event).await
    }
}

/// One event for an [`EventHandler`], with where it is in its tenant's queue.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HandlerEvent {
    /// The tenant the event was stored for.
    pub tenant_id: TenantId,
    /// The event.
    pub event: Event,
    /// Its number in the tenant's queue (the same on every run).
    pub seq: u64,
    /// 1 on the first run, then one more after each failed run this handler's cursor counted.
    pub attempt: u32,
    /// Who answers the event's conversation when the handler runs: a bot answers only
    /// [`ThreadOwner::Bot`] conversations (a person took over a `Human` one, another app of
    /// the Page holds an `OtherApp` one). `Bot` for an event without a stored conversation.
    pub owner: ThreadOwner,
    key: IdempotencyKey,
}

impl HandlerEvent {
    pub(crate) fn new(
        handler: &str,
        tenant_id: TenantId,
        event: Event,
        seq: u64,
        attempt: u32,
    ) -> Self {
        let mut hash = Sha256::new();
        for part in [handler, tenant_id.as_str(), &seq.to_string()] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        // 16 bytes of the hash: unique enough, and short in logs.
        let digest = hash.finalize();
        Self {
            key: IdempotencyKey::from_digest("handler-", &digest[..16]),
            tenant_id,
            event,
            seq,
            attempt,
            owner: ThreadOwner::Bot,
        }
    }

    /// Whether a bot should answer this event: its conversation is the bot's, not a person's
    /// or another app's.
    pub fn bot_answers(&self) -> bool {
        self.owner == ThreadOwner::Bot
    }

    /// The tenant and event, as the store keeps them.
    pub fn tenant_event(&self) -> TenantEvent {
        TenantEvent::new(self.tenant_id.clone(), self.event.clone())
    }

    /// A key naming this event for this handler, the same on every run (derived from the
    /// handler's name, the tenant and `seq`): use it to make an effect happen once, as with
    /// [`Inbox::send_idempotent`].
    pub fn idempotency_key(&self) -> &IdempotencyKey {
        &self.key
    }
}
