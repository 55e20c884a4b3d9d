//! The Prometheus recorder of the core's metrics, and where it is served.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use meta_messaging_core::inbox::InboxBuilder;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::TelemetryError;

/// The recorder installed in this process: one per process (the `metrics` facade has one
/// global recorder), shared by every inbox the process builds.
static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// How often the recorder drains its histograms when no listener task does it.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Installs the Prometheus recorder (once per process) and serves the metrics: with
/// `bind` (`META_METRICS_BIND`), on that address of their own at `GET /metrics`, without
/// credentials (for a scraper on a private network); without it, at `GET /metrics` of the
/// inbox routes, behind the API token, through the returned builder.
///
/// # Errors
/// [`TelemetryError::Prometheus`] when the listener cannot start.
pub fn metrics(
    builder: InboxBuilder,
    bind: Option<SocketAddr>,
) -> Result<InboxBuilder, TelemetryError> {
    if let Some(handle) = RECORDER.get() {
        // A second inbox of the same process (tests) shares the recorder already installed.
        return Ok(match bind {
            Some(_) => builder,
            None => serve_under_routes(builder, handle.clone()),
        });
    }
    let prometheus = PrometheusBuilder::new();
    let (recorder, listener) = match bind {
        Some(addr) => {
            if !addr.ip().is_loopback() {
                tracing::warn!(
                    %addr,
                    "META_METRICS_BIND: the metrics are served without credentials; keep the \
                     address reachable by the scraper only"
                );
            }
            let (recorder, listener) = prometheus
                .with_http_listener(addr)
                .build()
                .map_err(TelemetryError::Prometheus)?;
            (recorder, Some(listener))
        }
        // Not `build`: without a listener address it would listen on 0.0.0.0:9000.
        None => (prometheus.build_recorder(), None),
    };
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        // A recorder of the host's own is installed: the core records into that one.
        tracing::warn!("a metrics recorder is already installed; GET /metrics serves nothing");
        return Ok(builder);
    }
    let handle = RECORDER.get_or_init(|| handle).clone();
    meta_messaging_core::telemetry::describe();
    // The listener's task also keeps the histograms' buckets in check; without one, this does.
    match listener {
        Some(listener) => {
            tokio::spawn(async move {
                if let Err(err) = listener.await {
                    tracing::error!(?err, "the metrics listener stopped");
                }
            });
            tracing::info!(addr = ?bind, "metrics served at /metrics");
            Ok(builder)
        }
        None => {
            let upkept = handle.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(UPKEEP_INTERVAL);
                loop {
                    every.tick().await;
                    upkept.run_upkeep();
                }
            });
            Ok(serve_under_routes(builder, handle))
        }
    }
}

fn serve_under_routes(builder: InboxBuilder, handle: PrometheusHandle) -> InboxBuilder {
    builder.metrics_endpoint(move || handle.render())
}
