//! The metrics the core records, through the [`metrics`] crate's facade.
//!
//! The core installs no exporter: with none installed every recording is a no-op, and a host
//! picks its own (`metrics-exporter-prometheus`, an OpenTelemetry bridge, StatsD, ...). The
//! examples serve them in Prometheus text format at `GET /metrics` (see `docs/operations.md`).
//! Every name starts with `meta_messaging_`, and labels take values from small fixed sets
//! (outcomes, kinds, platforms, Graph endpoints with their ids replaced by `{id}`), plus the
//! Page or Instagram account id on the rate-limit gauges: never a customer's id or any text.
//!
//! [`METRICS`] lists each metric with its labels and meaning; call [`describe`] after
//! installing a recorder to give it the descriptions and units. Install the recorder before
//! building the [`Inbox`](crate::Inbox): it registers its webhook counters then, so that a
//! delivery costs a few atomic additions rather than a look-up per series.
//!
//! ```
//! // With no recorder installed, the core's recordings cost next to nothing.
//! for metric in meta_messaging_core::telemetry::METRICS {
//!     assert!(metric.name.starts_with("meta_messaging_"));
//! }
//! meta_messaging_core::telemetry::describe();
//! ```

pub(crate) mod record;

use std::fmt;

/// What a metric measures over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricKind {
    /// A count that only goes up.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A distribution of observed values.
    Histogram,
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        })
    }
}

/// One metric the core records.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Metric {
    /// Its name.
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The names of its labels.
    pub labels: &'static [&'static str],
    /// What it measures, and the values its labels take.
    pub help: &'static str,
}

/// Webhook deliveries, by outcome.
pub const WEBHOOK_DELIVERIES: &str = "meta_messaging_webhook_deliveries_total";
/// Events of stored deliveries, by platform and kind.
pub const WEBHOOK_EVENTS: &str = "meta_messaging_webhook_events_total";
/// Deliveries refused for their signature, by reason.
pub const SIGNATURE_FAILURES: &str = "meta_messaging_webhook_signature_failures_total";
/// Writes per group commit.
pub const STORE_BATCH_SIZE: &str = "meta_messaging_store_batch_size";
/// How long a group commit took.
pub const STORE_COMMIT_SECONDS: &str = "meta_messaging_store_commit_seconds";
/// Failed database operations, by operation.
pub const STORE_ERRORS: &str = "meta_messaging_store_errors_total";
/// Graph API calls, by endpoint, outcome and error kind.
pub const GRAPH_CALLS: &str = "meta_messaging_graph_calls_total";
/// How long Graph API calls took (every attempt), by endpoint.
pub const GRAPH_CALL_SECONDS: &str = "meta_messaging_graph_call_seconds";
/// Graph API calls retried, by endpoint.
pub const GRAPH_RETRIES: &str = "meta_messaging_graph_retries_total";
/// Time waited by the per-account send throttle.
pub const GRAPH_THROTTLE_WAIT_SECONDS: &str = "meta_messaging_graph_throttle_wait_seconds";
/// Rate-limit usage Meta reported, in percent, by scope and account.
pub const GRAPH_RATE_LIMIT_USAGE: &str = "meta_messaging_graph_rate_limit_usage_percent";
/// Messages sent through the inbox, by platform and outcome.
pub const SENDS: &str = "meta_messaging_sends_total";
/// Live-event subscribers (server-sent event streams) open now.
pub const SSE_SUBSCRIBERS: &str = "meta_messaging_sse_subscribers";
/// Events queued for an event handler and not yet handled, by handler.
pub const HANDLER_LAG: &str = "meta_messaging_handler_lag_events";
/// Attachment downloads into the media store, by outcome.
pub const MEDIA_DOWNLOADS: &str = "meta_messaging_media_downloads_total";
/// Bytes downloaded into the media store.
pub const MEDIA_DOWNLOAD_BYTES: &str = "meta_messaging_media_download_bytes_total";

/// Every metric the core records.
pub const METRICS: &[Metric] = &[
    Metric {
        name: WEBHOOK_DELIVERIES,
        kind: MetricKind::Counter,
        labels: &["outcome"],
        help: "Webhook deliveries. outcome: stored (something new was written), duplicate \
               (a redelivery: nothing new), refused_signature, refused_too_large, \
               refused_body (signed but unreadable), store_error (not acknowledged: Meta \
               redelivers).",
    },
    Metric {
        name: WEBHOOK_EVENTS,
        kind: MetricKind::Counter,
        labels: &["platform", "kind"],
        help: "Events of verified deliveries. platform: messenger, instagram; kind: message, \
               echo, reaction, read, postback, comment, unknown, ...",
    },
    Metric {
        name: SIGNATURE_FAILURES,
        kind: MetricKind::Counter,
        labels: &["reason"],
        help: "Deliveries refused for their X-Hub-Signature-256. reason: missing, malformed, \
               mismatch.",
    },
    Metric {
        name: STORE_BATCH_SIZE,
        kind: MetricKind::Histogram,
        labels: &[],
        help: "Writes committed together by a SQL store's group commit.",
    },
    Metric {
        name: STORE_COMMIT_SECONDS,
        kind: MetricKind::Histogram,
        labels: &["outcome"],
        help: "Duration of a group commit's transaction, in seconds. outcome: ok, error.",
    },
    Metric {
        name: STORE_ERRORS,
        kind: MetricKind::Counter,
        labels: &["operation"],
        help: "Failed database operations of the SQL stores. operation: what was being done \
               (\"storing a batch\", \"listing conversations\", ...).",
    },
    Metric {
        name: GRAPH_CALLS,
        kind: MetricKind::Counter,
        labels: &["endpoint", "outcome", "error_kind"],
        help: "Graph API calls (after retries). endpoint: the path with ids as {id} \
               ({id}/messages, me/accounts, ...); outcome: ok, error; error_kind: the error's \
               kind (rate_limited, token_invalid, ...), empty on success.",
    },
    Metric {
        name: GRAPH_CALL_SECONDS,
        kind: MetricKind::Histogram,
        labels: &["endpoint"],
        help: "Duration of each Graph API attempt, in seconds.",
    },
    Metric {
        name: GRAPH_RETRIES,
        kind: MetricKind::Counter,
        labels: &["endpoint"],
        help: "Graph API attempts retried after a transient failure.",
    },
    Metric {
        name: GRAPH_THROTTLE_WAIT_SECONDS,
        kind: MetricKind::Histogram,
        labels: &[],
        help: "Time a send waited for the per-account throttle, in seconds (only with a \
               throttle configured).",
    },
    Metric {
        name: GRAPH_RATE_LIMIT_USAGE,
        kind: MetricKind::Gauge,
        labels: &["scope", "account"],
        help: "The highest rate-limit usage Meta last reported, in percent of the limit. \
               scope: app (X-App-Usage; account is empty), page (X-Page-Usage), or the \
               business use case of X-Business-Use-Case-Usage (messenger, instagram, pages, \
               ...); account: the Page or Instagram account id.",
    },
    Metric {
        name: SENDS,
        kind: MetricKind::Counter,
        labels: &["platform", "outcome"],
        help: "Messages sent through the inbox. outcome: stored, not_stored (Meta accepted it, \
               the store failed: its echo stores it), refused (before any call to Meta), \
               graph_error.",
    },
    Metric {
        name: SSE_SUBSCRIBERS,
        kind: MetricKind::Gauge,
        labels: &[],
        help: "Live-event subscriptions (server-sent event streams) open now.",
    },
    Metric {
        name: HANDLER_LAG,
        kind: MetricKind::Gauge,
        labels: &["handler"],
        help: "Events after an event handler's cursor when it last took work: at most one \
               batch (a full batch means at least that many), 0 once it is caught up. \
               handler: the handler's name.",
    },
    Metric {
        name: MEDIA_DOWNLOADS,
        kind: MetricKind::Counter,
        labels: &["outcome"],
        help: "Attachment downloads into the media store. outcome: kept, refused (too large, \
               or the CDN answered an error status), failed (network or storage error), \
               dropped (the download queue was full).",
    },
    Metric {
        name: MEDIA_DOWNLOAD_BYTES,
        kind: MetricKind::Counter,
        labels: &[],
        help: "Bytes of attachments kept in the media store.",
    },
];

/// Gives the installed recorder each metric's description and unit. Call it once, after
/// installing the recorder (an exporter shows the descriptions as `# HELP` lines); without a
/// recorder it does nothing.
pub fn describe() {
    for metric in METRICS {
        let unit = if metric.name.ends_with("_seconds") {
            Some(metrics::Unit::Seconds)
        } else if metric.name.ends_with("_bytes_total") {
            Some(metrics::Unit::Bytes)
        } else if metric.name.ends_with("_percent") {
            Some(metrics::Unit::Percent)
        } else {
            None
        };
        let help = metrics::SharedString::const_str(metric.help);
        metrics::with_recorder(|recorder| {
            let key = metrics::KeyName::from_const_str(metric.name);
            match metric.kind {
                MetricKind::Counter => recorder.describe_counter(key, unit, help),
                MetricKind::Gauge => recorder.describe_gauge(key, unit, help),
                MetricKind::Histogram => recorder.describe_histogram(key, unit, help),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = "<!-- metrics:start -->\n";
    const END: &str = "<!-- metrics:end -->";

    /// The metrics table of `docs/operations.md`.
    fn table() -> String {
        let mut table = String::from("| metric | type | labels | meaning |\n|---|---|---|---|\n");
        for metric in METRICS {
            let labels = if metric.labels.is_empty() {
                "none".to_owned()
            } else {
                metric
                    .labels
                    .iter()
                    .map(|l| format!("`{l}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            table.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                metric.name, metric.kind, labels, metric.help
            ));
        }
        table
    }

    #[test]
    fn every_metric_is_named_for_the_crate_and_listed_once() {
        let mut names: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
        assert!(names.iter().all(|n| n.starts_with("meta_messaging_")));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRICS.len());
        for metric in METRICS {
            let counter = metric.kind == MetricKind::Counter;
            assert_eq!(counter, metric.name.ends_with("_total"), "{}", metric.name);
        }
    }

    #[test]
    fn the_operations_guide_holds_the_table_of_every_metric() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/operations.md");
        let guide = std::fs::read_to_string(path).expect("docs/operations.md");
        let (Some(start), Some(end)) = (guide.find(START), guide.find(END)) else {
            panic!("docs/operations.md lacks the {START:?} and {END:?} markers");
        };
        let current = &guide[start + START.len()..end];
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let updated = format!(
                "{}{}{}",
                &guide[..start + START.len()],
                table(),
                &guide[end..]
            );
            std::fs::write(path, updated).expect("docs/operations.md written");
            return;
        }
        assert_eq!(
            current,
            table(),
            "docs/operations.md's metrics table is out of date: \
             UPDATE_DOCS=1 cargo test -p meta-messaging-core --lib telemetry"
        );
    }
}
