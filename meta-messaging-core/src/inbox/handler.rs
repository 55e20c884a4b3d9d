//! Hooks for bots and integrations: code that runs on every stored event.

use async_trait::async_trait;

use super::Inbox;
use crate::store::TenantEvent;

/// The error an [`EventHandler`] may return; it is logged, never sent to Meta.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// Runs after a delivery's events are durably stored, once per routed event.
///
/// Handlers run in a background task, in order, so a slow handler (one that calls the Graph
/// API to answer, say) never delays the 200 Meta waits for. An error is logged with the event's
/// kind and ids. Because Meta redelivers, a handler can see the same message twice: check
/// `inbox.store()` or make the handler idempotent.
///
/// ```
/// use meta_messaging_core::inbox::{EventHandler, HandlerError, Inbox};
/// use meta_messaging_core::store::TenantEvent;
/// use meta_messaging_core::webhook::EventKind;
///
/// struct CountMessages(std::sync::atomic::AtomicUsize);
///
/// #[async_trait::async_trait]
/// impl EventHandler for CountMessages {
///     async fn handle(&self, _inbox: &Inbox, event: &TenantEvent) -> Result<(), HandlerError> {
///         if event.event.kind() == EventKind::Message {
///             self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         }
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Handles one stored event.
    ///
    /// # Errors
    /// Any error; it is logged and does not affect other handlers or events.
    async fn handle(&self, inbox: &Inbox, event: &TenantEvent) -> Result<(), HandlerError>;
}

/// A shared handler is a handler, so one can be registered and also kept by the caller.
#[async_trait]
impl<H: EventHandler + ?Sized> EventHandler for std::sync::Arc<H> {
    async fn handle(&self, inbox: &Inbox, event: &TenantEvent) -> Result<(), HandlerError> {
        (**self).handle(inbox, event).await
    }
}
