//! The core's recordings: one function per thing measured, so call sites stay one line and
//! each metric's labels are spelled in one place.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use metrics::{Counter, counter, gauge, histogram};

use super::*;
use crate::graph::{GraphError, RateLimitUsage};
use crate::inbox::InboxError;
use crate::platform::Platform;
use crate::webhook::{Event, EventKind, WebhookError};

/// The counters of webhook ingestion, registered once, when the inbox is built: a delivery
/// then costs a few atomic additions, not a look-up of each series in the recorder (the
/// benchmark `metrics` holds ingestion with a Prometheus recorder within 5% of ingestion
/// without one). Install the recorder before building the inbox.
pub(crate) struct IngestCounters {
    stored: Counter,
    duplicate: Counter,
    refused_too_large: Counter,
    refused_signature: Counter,
    refused_body: Counter,
    store_error: Counter,
    signature_missing: Counter,
    signature_malformed: Counter,
    signature_mismatch: Counter,
    /// Registered at each pair's first event.
    events: RwLock<HashMap<(Platform, EventKind), Counter>>,
}

impl std::fmt::Debug for IngestCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestCounters").finish_non_exhaustive()
    }
}

impl IngestCounters {
    pub(crate) fn new() -> Self {
        let outcome = |outcome: &'static str| counter!(WEBHOOK_DELIVERIES, "outcome" => outcome);
        let reason = |reason: &'static str| counter!(SIGNATURE_FAILURES, "reason" => reason);
        Self {
            stored: outcome("stored"),
            duplicate: outcome("duplicate"),
            refused_too_large: outcome("refused_too_large"),
            refused_signature: outcome("refused_signature"),
            refused_body: outcome("refused_body"),
            store_error: outcome("store_error"),
            signature_missing: reason("missing"),
            signature_malformed: reason("malformed"),
            signature_mismatch: reason("mismatch"),
            events: RwLock::default(),
        }
    }

    /// Counts a delivery's outcome (refused, failed, or stored: new, or a redelivery) and
    /// returns its label, which the delivery's span records too.
    pub(crate) fn delivery(&self, result: Result<bool, &InboxError>) -> &'static str {
        let (counter, outcome) = match result {
            Ok(true) => (&self.stored, "stored"),
            Ok(false) => (&self.duplicate, "duplicate"),
            Err(InboxError::PayloadTooLarge { .. }) => {
                (&self.refused_too_large, "refused_too_large")
            }
            Err(InboxError::Webhook(e)) if e.is_signature() => {
                (&self.refused_signature, "refused_signature")
            }
            Err(InboxError::Webhook(_)) => (&self.refused_body, "refused_body"),
            Err(_) => (&self.store_error, "store_error"),
        };
        counter.increment(1);
        outcome
    }

    /// A refused signature.
    pub(crate) fn signature_failure(&self, error: &WebhookError) {
        match error {
            WebhookError::MissingSignature => &self.signature_missing,
            WebhookError::MalformedSignature(_) => &self.signature_malformed,
            _ => &self.signature_mismatch,
        }
        .increment(1);
    }

    /// The events of a verified delivery.
    pub(crate) fn events(&self, events: &[Event]) {
        for event in events {
            let key = (event.platform, event.kind());
            let known = self
                .events
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&key)
                .cloned();
            let counter = known.unwrap_or_else(|| {
                let counter = counter!(
                    WEBHOOK_EVENTS,
                    "platform" => key.0.as_str(),
                    "kind" => key.1.as_str(),
                );
                self.events
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(key, counter.clone());
                counter
            });
            counter.increment(1);
        }
    }
}

/// One group commit of `size` writes.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn commit(size: usize, took: Duration, ok: bool) {
    // A batch holds at most a few thousand writes: exact in an f64.
    #[allow(clippy::cast_precision_loss)]
    histogram!(STORE_BATCH_SIZE).record(size as f64);
    histogram!(STORE_COMMIT_SECONDS, "outcome" => if ok { "ok" } else { "error" })
        .record(took.as_secs_f64());
}

/// A failed database operation.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn store_error(operation: &'static str) {
    counter!(STORE_ERRORS, "operation" => operation).increment(1);
}

/// The endpoint label of a Graph path: its ids replaced by `{id}`, so the label's values stay
/// few. Graph edges and the version prefix are lowercase words; ids (Page, user, message,
/// conversation) are not.
pub(crate) fn endpoint(path: &str) -> String {
    path.trim_start_matches('/')
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            let is_edge = segment
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.');
            let is_version = segment.starts_with('v')
                && segment[1..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.');
            if is_edge || is_version {
                segment
            } else {
                "{id}"
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// One attempt at a Graph call, and how long it took.
pub(crate) fn graph_attempt(endpoint: &str, took: Duration) {
    histogram!(GRAPH_CALL_SECONDS, "endpoint" => endpoint.to_owned()).record(took.as_secs_f64());
}

/// A Graph call's final outcome.
pub(crate) fn graph_call(endpoint: &str, error: Option<&GraphError>) {
    let (outcome, kind) = match error {
        None => ("ok", ""),
        Some(error) => ("error", error.kind().as_str()),
    };
    counter!(
        GRAPH_CALLS,
        "endpoint" => endpoint.to_owned(),
        "outcome" => outcome,
        "error_kind" => kind,
    )
    .increment(1);
}

/// A Graph call retried.
pub(crate) fn graph_retry(endpoint: &str) {
    counter!(GRAPH_RETRIES, "endpoint" => endpoint.to_owned()).increment(1);
}

/// Time waited for the throttle.
pub(crate) fn throttle_wait(waited: Duration) {
    histogram!(GRAPH_THROTTLE_WAIT_SECONDS).record(waited.as_secs_f64());
}

/// The rate-limit usage of one response; `account` is the account the call was made for.
pub(crate) fn rate_limit_usage(usage: &RateLimitUsage, account: Option<&str>) {
    if let Some(app) = &usage.app {
        gauge!(GRAPH_RATE_LIMIT_USAGE, "scope" => "app", "account" => "")
            .set(f64::from(app.max_percent()));
    }
    if let (Some(page), Some(account)) = (&usage.page, account) {
        gauge!(GRAPH_RATE_LIMIT_USAGE, "scope" => "page", "account" => account.to_owned())
            .set(f64::from(page.max_percent()));
    }
    for (account, cases) in &usage.business_use_case {
        for case in cases {
            let percent = case.call_count.max(case.total_cputime).max(case.total_time);
            gauge!(
                GRAPH_RATE_LIMIT_USAGE,
                "scope" => case.use_case.clone(),
                "account" => account.clone(),
            )
            .set(f64::from(percent));
        }
    }
}

/// A send through the inbox.
pub(crate) fn send(platform: Platform, outcome: &'static str) {
    counter!(SENDS, "platform" => platform.as_str(), "outcome" => outcome).increment(1);
}

/// A live-event subscription opened (`1.0`) or closed (`-1.0`).
pub(crate) fn sse_subscribers(change: f64) {
    gauge!(SSE_SUBSCRIBERS).increment(change);
}

/// The events a handler has still to handle.
pub(crate) fn handler_lag(handler: &str, queued: u64) {
    // A lag beyond 2^53 events is not a lag a gauge needs to tell apart.
    #[allow(clippy::cast_precision_loss)]
    gauge!(HANDLER_LAG, "handler" => handler.to_owned()).set(queued as f64);
}

/// An attachment download's outcome, with the bytes kept.
pub(crate) fn media_download(outcome: &'static str, bytes: u64) {
    counter!(MEDIA_DOWNLOADS, "outcome" => outcome).increment(1);
    if bytes > 0 {
        counter!(MEDIA_DOWNLOAD_BYTES).increment(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::endpoint;

    #[test]
    fn endpoints_keep_edges_and_hide_ids() {
        assert_eq!(
            endpoint("/v21.0/104417552380421/messages"),
            "v21.0/{id}/messages"
        );
        assert_eq!(endpoint("me/accounts"), "me/accounts");
        assert_eq!(endpoint("t_10161234"), "{id}");
        assert_eq!(endpoint("aWdfZAG1faXRlbTox/"), "{id}");
        assert_eq!(
            endpoint("17841400000000000/subscribed_apps"),
            "{id}/subscribed_apps"
        );
        assert_eq!(endpoint("oauth/access_token"), "oauth/access_token");
    }
}
