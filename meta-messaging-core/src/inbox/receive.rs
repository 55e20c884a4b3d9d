//! `Inbox::receive`: one webhook delivery, from raw bytes to stored, broadcast events.

use std::net::SocketAddr;

use serde::Serialize;
use tracing::Instrument as _;

use super::Inbox;
use super::error::InboxError;
use crate::store::ApplyReport;
use crate::webhook::{self, Event};

/// What a delivery changed, returned once every write is durable.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct Receipt {
    /// Events in the delivery.
    pub events: usize,
    /// What applying the routed events changed.
    pub applied: ApplyReport,
    /// Events no tenant received, newly kept as unrouted events (with why: see `GET /status`).
    pub unrouted: u64,
}

impl Receipt {
    /// Whether the delivery changed anything: `false` for a redelivery of events already kept.
    fn wrote_anything(&self) -> bool {
        self.events == 0
            || self.applied.inserted + self.applied.updated + self.applied.raw_kept > 0
            || self.unrouted > 0
    }
}

impl Inbox {
    /// Handles one webhook delivery: checks its size and signature, parses it, routes each
    /// event to its tenant(s), stores them in one write (which appends what changed to the
    /// change log that live subscribers follow) and queues them for the
    /// [`EventHandler`](super::EventHandler)s, which run in the background.
    ///
    /// `signature` is the `X-Hub-Signature-256` header value (`None` when absent) and `body`
    /// the raw request body. Returns only after the write is durable: answer Meta 200 then, and
    /// anything else on error so Meta redelivers ([`crate::contract::status`] gives the status).
    ///
    /// A delivery of an object this version does not handle (`whatsapp_business_account`,
    /// `user`, ...) is accepted and kept raw (see [`webhook::parse`]): Meta disables
    /// subscriptions whose deliveries keep failing.
    ///
    /// The same as [`receive_from`](Self::receive_from) without the remote address: HTTP layers
    /// that know it should call that instead, so refused signatures are logged with it.
    ///
    /// # Errors
    /// [`InboxError::PayloadTooLarge`]; [`InboxError::Webhook`] for a bad signature or an
    /// unreadable body; [`InboxError::Store`] when the store failed (nothing was written, and
    /// Meta's redelivery is stored once).
    pub async fn receive(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Receipt, InboxError> {
        self.receive_from(None, signature, body).await
    }

    /// [`receive`](Self::receive), for an HTTP layer that knows the address the request came
    /// from (the peer address, or the client address a trusted proxy reported).
    ///
    /// A missing, malformed or wrong signature is logged as a `warn` line naming `remote`, the
    /// check that failed and a [`SignatureDiagnosis`](crate::webhook::SignatureDiagnosis)
    /// (which header came, the body's length, whether the body looks re-serialized; never the
    /// body, the header value or a secret), at most one line every 10 seconds per process; the
    /// next line counts the refusals left out.
    ///
    /// # Errors
    /// As [`receive`](Self::receive).
    pub async fn receive_from(
        &self,
        remote: Option<SocketAddr>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Receipt, InboxError> {
        self.receive_checked(remote, signature, false, body).await
    }

    /// [`receive_from`](Self::receive_from), also told whether the request carried the legacy
    /// `X-Hub-Signature` (SHA-1) header, for the diagnosis of a refused signature.
    pub(crate) async fn receive_checked(
        &self,
        remote: Option<SocketAddr>,
        signature: Option<&str>,
        sha1_header_present: bool,
        body: &[u8],
    ) -> Result<Receipt, InboxError> {
        let span = tracing::info_span!(
            "webhook.delivery",
            bytes = body.len(),
            events = tracing::field::Empty,
            account_id = tracing::field::Empty,
            tenant_id = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let result = self
            .store_delivery(remote, signature, sha1_header_present, body)
            .instrument(span.clone())
            .await;
        let outcome = self
            .inner
            .counters
            .delivery(result.as_ref().map(Receipt::wrote_anything));
        span.record("outcome", outcome);
        result
    }

    async fn store_delivery(
        &self,
        remote: Option<SocketAddr>,
        signature: Option<&str>,
        sha1_header_present: bool,
        body: &[u8],
    ) -> Result<Receipt, InboxError> {
        let inner = &self.inner;
        self.start_background();
        let events = self.verify_checked(remote, signature, sha1_header_present, body)?;
        let span = tracing::Span::current();
        span.record("events", events.len());
        if let Some(first) = events.first() {
            span.record("account_id", first.account_id.as_str());
        }
        inner.counters.events(&events);
        inner.deliveries.record(&events);
        let count = events.len();
        let routed = inner.router.route(inner.store.as_ref(), events).await?;
        if let Some(first) = routed.events.first() {
            span.record("tenant_id", first.tenant_id.as_str());
        }
        let applied = if routed.events.is_empty() {
            ApplyReport::default()
        } else {
            inner.store.apply(&routed.events).await?
        };
        let unrouted = if routed.unrouted.is_empty() {
            0
        } else {
            inner.store.record_unrouted(&routed.unrouted).await?
        };
        self.apply_handovers(&routed.events).await?;
        self.queue_for_handlers(&routed.events).await?;
        self.fill_profiles(&routed.events);
        self.queue_media(&routed.events);
        Ok(Receipt {
            events: count,
            applied,
            unrouted,
        })
    }

    /// Checks a delivery's size and signature and parses it, without storing anything: for
    /// hosts that handle deliveries in their own handler (the adapters' extractors use it).
    ///
    /// The same as [`verify_delivery_from`](Self::verify_delivery_from) without the remote
    /// address.
    ///
    /// # Errors
    /// [`InboxError::PayloadTooLarge`], or [`InboxError::Webhook`] for a bad signature or an
    /// unreadable body.
    pub fn verify_delivery(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Vec<Event>, InboxError> {
        self.verify_delivery_from(None, signature, body)
    }

    /// [`verify_delivery`](Self::verify_delivery), for an HTTP layer that knows the address the
    /// request came from: a refused signature is logged with it, rate-limited as in
    /// [`receive_from`](Self::receive_from).
    ///
    /// # Errors
    /// As [`verify_delivery`](Self::verify_delivery).
    pub fn verify_delivery_from(
        &self,
        remote: Option<SocketAddr>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Vec<Event>, InboxError> {
        self.verify_checked(remote, signature, false, body)
    }

    fn verify_checked(
        &self,
        remote: Option<SocketAddr>,
        signature: Option<&str>,
        sha1_header_present: bool,
        body: &[u8],
    ) -> Result<Vec<Event>, InboxError> {
        if body.len() > self.inner.max_body_bytes {
            return Err(InboxError::PayloadTooLarge {
                limit: self.inner.max_body_bytes,
            });
        }
        let events =
            webhook::verify_and_parse(&self.inner.verifier, signature, body).inspect_err(|e| {
                if e.is_signature() {
                    self.inner.counters.signature_failure(e);
                }
                webhook::warn_refused(remote, e, signature, sha1_header_present, body);
            })?;
        Ok(events)
    }
}
