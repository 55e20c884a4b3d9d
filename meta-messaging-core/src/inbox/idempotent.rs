//! [`Inbox::send_idempotent`]: a send that a client may retry with the same `Idempotency-Key`
//! without sending twice.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::Inbox;
use super::error::InboxError;
use super::outcome::SendOutcome;
use super::send::SendRequest;
use crate::ids::TenantId;
use crate::store::{
    IdempotencyClaim, IdempotencyClaimRequest, IdempotencyKey, IdempotentAnswer, now_ms,
};

/// How long an idempotency key is kept unless
/// [`InboxBuilder::idempotency_ttl`](super::InboxBuilder::idempotency_ttl) says otherwise.
pub const DEFAULT_IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How often expired idempotency records are pruned (by the first send after the interval).
const PRUNE_INTERVAL_MS: i64 = 60_000;

/// What [`Inbox::send_idempotent`] did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IdempotentSend {
    /// The key was new: this call sent the message (`POST /messages` answers 201 with it).
    Sent(SendOutcome),
    /// The key had been used for the same request, which finished: its answer, as it was
    /// first given (a 201 body, or an error that left the send uncertain). Nothing was sent.
    Replayed(IdempotentAnswer),
}

/// The inbox's idempotency settings and pruning clock.
#[derive(Debug)]
pub(super) struct IdempotencySettings {
    ttl_ms: i64,
    next_prune_ms: AtomicI64,
}

impl IdempotencySettings {
    pub(super) fn new(ttl: Duration) -> Self {
        Self {
            ttl_ms: i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX),
            next_prune_ms: AtomicI64::new(0),
        }
    }

    /// Whether this caller should prune now: true for one caller per interval.
    fn prune_due(&self, now: i64) -> bool {
        let next = self.next_prune_ms.load(Ordering::Relaxed);
        now >= next
            && self
                .next_prune_ms
                .compare_exchange(
                    next,
                    now + PRUNE_INTERVAL_MS,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
    }
}

impl Inbox {
    /// [`send_outcome`](Self::send_outcome) under a client's idempotency key (the
    /// `Idempotency-Key` of `POST /messages`), so a retry never sends the message twice.
    ///
    /// The first call with a key claims it for this request (the SHA-256 of its JSON form),
    /// sends, and stores its answer under the key for
    /// [`InboxBuilder::idempotency_ttl`](super::InboxBuilder::idempotency_ttl) (default 24 h):
    ///
    /// - sent (stored or not): the 201 answer, replayed to every retry as
    ///   [`IdempotentSend::Replayed`];
    /// - a Graph error after which the message may have reached Meta
    ///   ([`GraphError::may_have_reached_meta`](crate::graph::GraphError::may_have_reached_meta):
    ///   a timeout, a 5xx, a connection reset after sending): the error's answer is stored too,
    ///   so a retry replays it and never sends. To send the message again on purpose, use a
    ///   new key;
    /// - an error that proves nothing was sent (an invalid request, an unknown account, Meta's
    ///   refusal): the key is released, and the client may retry with it once the cause is
    ///   fixed.
    ///
    /// The send runs to its end even if the caller stops waiting (a client that hung up), so
    /// its answer is there for the retry. A key whose request stopped in between (the server
    /// was shut down mid-send) stays in flight until it expires: whether the message went out
    /// is unknown.
    ///
    /// # Errors
    /// [`InboxError::IdempotencyKeyInFlight`] while the first request with the key runs,
    /// [`InboxError::IdempotencyKeyReused`] when the key was used with another request, and
    /// the errors of [`send_outcome`](Self::send_outcome) on the first call.
    pub async fn send_idempotent(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
        request: &SendRequest,
    ) -> Result<IdempotentSend, InboxError> {
        // A request that cannot be sent is refused before the key is taken.
        request.content()?;
        let now = now_ms();
        self.prune_idempotency_keys(now);
        let settings = &self.inner.idempotency;
        let claim = IdempotencyClaimRequest::new(
            key.clone(),
            request.fingerprint()?,
            now,
            now.saturating_add(settings.ttl_ms),
        );
        match self
            .inner
            .store
            .claim_idempotency_key(tenant, &claim)
            .await?
        {
            IdempotencyClaim::Claimed => {}
            IdempotencyClaim::InFlight { claimed_at_ms } => {
                return Err(InboxError::IdempotencyKeyInFlight { claimed_at_ms });
            }
            IdempotencyClaim::Finished(answer) => return Ok(IdempotentSend::Replayed(answer)),
            IdempotencyClaim::OtherRequest => return Err(InboxError::IdempotencyKeyReused),
        }
        let (inbox, tenant_id, key_id, send) =
            (self.clone(), tenant.clone(), key.clone(), request.clone());
        let task =
            tokio::spawn(async move { inbox.send_claimed(&tenant_id, &key_id, &send).await });
        match task.await {
            Ok(outcome) => outcome.map(IdempotentSend::Sent),
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            // The runtime is shutting down: whether the message went out is unknown, and the
            // key stays in flight.
            Err(_) => Err(InboxError::IdempotencyKeyInFlight { claimed_at_ms: now }),
        }
    }

    /// Sends under a claimed key, then finishes or releases it.
    async fn send_claimed(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
        request: &SendRequest,
    ) -> Result<SendOutcome, InboxError> {
        let outcome = self.send_outcome(tenant, request).await;
        let answer = match &outcome {
            Ok(sent) => answer(201, sent),
            Err(err @ InboxError::Graph(graph)) if graph.may_have_reached_meta() => {
                answer(crate::contract::status(err), &crate::contract::body(err))
            }
            Err(_) => {
                let released = self.inner.store.release_idempotency_key(tenant, key).await;
                if let Err(err) = released {
                    tracing::warn!(
                        error = %crate::error::ErrorChain(&err),
                        tenant = %tenant,
                        "an idempotency key could not be released: retries with it answer 409 until it expires"
                    );
                }
                return outcome;
            }
        };
        let finished = match &answer {
            Ok(answer) => self
                .inner
                .store
                .finish_idempotency_key(tenant, key, answer)
                .await
                .map_err(|err| crate::error::ErrorChain(&err).to_string()),
            Err(err) => Err(crate::error::ErrorChain(err).to_string()),
        };
        if let Err(error) = finished {
            // The key stays in flight: retries answer 409 rather than send again.
            tracing::warn!(
                %error,
                tenant = %tenant,
                "the answer of an idempotent send could not be stored: retries with its key answer 409 until it expires"
            );
        }
        outcome
    }

    /// Deletes expired idempotency records in the background, at most once a minute per inbox.
    fn prune_idempotency_keys(&self, now: i64) {
        if !self.inner.idempotency.prune_due(now) {
            return;
        }
        let store = std::sync::Arc::clone(&self.inner.store);
        tokio::spawn(async move {
            if let Err(err) = store.prune_idempotency_keys(now).await {
                tracing::warn!(
                    error = %crate::error::ErrorChain(&err),
                    "expired idempotency keys could not be pruned; the next send tries again"
                );
            }
        });
    }
}

fn answer(
    status: u16,
    body: &impl serde::Serialize,
) -> Result<IdempotentAnswer, serde_json::Error> {
    serde_json::to_value(body).map(|body| IdempotentAnswer::new(status, body))
}
