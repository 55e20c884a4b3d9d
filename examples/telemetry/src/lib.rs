//! Logs, traces and metrics for the example apps: what a host wires around the inbox, which
//! itself only emits `tracing` spans and `metrics` recordings (see
//! `meta_messaging_core::telemetry` and `docs/operations.md`).
//!
//! - [`Telemetry::init`] sends logs to standard output, as text or, with `LOG_FORMAT=json`,
//!   one JSON object per line (filtered by `RUST_LOG`), and with `OTEL_EXPORTER_OTLP_ENDPOINT`
//!   set, exports the spans over OTLP (HTTP, protobuf) to that collector.
//! - [`metrics()`] installs a Prometheus recorder and serves it: at `GET /metrics` of the inbox
//!   routes, behind the API token, or with `META_METRICS_BIND` on an address of its own.

mod logs;
mod prometheus;
mod traces;

pub use logs::{LOG_FORMAT_VAR, LogFormat};
pub use prometheus::metrics;

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Why logs, traces or metrics could not be set up; each names the variable to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// `LOG_FORMAT` is neither `text` nor `json`.
    #[error("LOG_FORMAT={0:?} is not a log format: set it to text (the default) or json")]
    LogFormat(String),
    /// The OTLP exporter could not be built from `OTEL_EXPORTER_OTLP_ENDPOINT`.
    #[error(
        "cannot export traces to OTEL_EXPORTER_OTLP_ENDPOINT: set it to the collector's \
         OTLP/HTTP address (e.g. http://127.0.0.1:4318), or unset it"
    )]
    Otlp(#[source] opentelemetry_otlp::ExporterBuildError),
    /// The HTTP client of the OTLP exporter could not be made.
    #[error("cannot make the HTTP client of the OTLP exporter")]
    OtlpClient(#[source] reqwest::Error),
    /// Another logger is already installed in this process.
    #[error("a logger is already installed in this process")]
    AlreadyInstalled(#[source] tracing_subscriber::util::TryInitError),
    /// The Prometheus recorder could not be built, or its listener started.
    #[error(
        "cannot serve the metrics (META_METRICS_BIND): set it to a free address, or unset it \
         to serve them under the inbox routes"
    )]
    Prometheus(#[source] metrics_exporter_prometheus::BuildError),
}

/// The app's logs and traces, installed for the whole process. [`shutdown`](Self::shutdown)
/// sends the spans still buffered before the process exits.
#[derive(Debug)]
#[must_use = "shut it down before exiting, or the last spans are lost"]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Installs the logger and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the OTLP trace
    /// export of the spans (service name `service`, unless `OTEL_SERVICE_NAME` says
    /// otherwise), reading the variables through `lookup`. `RUST_LOG` filters both; without
    /// it, `default_filter` does (`info`, say).
    ///
    /// # Errors
    /// [`TelemetryError`], naming the variable to fix.
    pub fn init(
        lookup: impl Fn(&str) -> Option<String>,
        service: &'static str,
        default_filter: &str,
    ) -> Result<Self, TelemetryError> {
        let format = LogFormat::from_lookup(&lookup)?;
        let traces = traces::provider(&lookup, service)?;
        let filter = tracing_subscriber::EnvFilter::try_new(
            lookup("RUST_LOG").unwrap_or_else(|| default_filter.to_owned()),
        )
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
        tracing_subscriber::registry()
            .with(filter)
            .with(format.layer())
            .with(traces.as_ref().map(traces::layer))
            .try_init()
            .map_err(TelemetryError::AlreadyInstalled)?;
        Ok(Self { traces })
    }

    /// Sends the spans still buffered to the collector, and stops the export.
    pub fn shutdown(self) {
        if let Some(traces) = self.traces
            && let Err(err) = traces.shutdown()
        {
            eprintln!("warning: the last spans could not be exported: {err}");
        }
    }
}
