//! The OTLP export of the spans, when `OTEL_EXPORTER_OTLP_ENDPOINT` names a collector.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

use crate::TelemetryError;

/// The standard variable of the collector's address.
const ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// The tracer provider exporting to the collector; `None` when no collector is named.
pub(crate) fn provider(
    lookup: impl Fn(&str) -> Option<String>,
    service: &'static str,
) -> Result<Option<SdkTracerProvider>, TelemetryError> {
    let Some(endpoint) = lookup(ENDPOINT_VAR).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    // The export runs on a thread of its own with a blocking client, which must be made
    // outside the async runtime. The examples use ring for every TLS client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = std::thread::spawn(reqwest::blocking::Client::new)
        .join()
        .map_err(|_| {
            TelemetryError::Otlp(opentelemetry_otlp::ExporterBuildError::InternalFailure(
                "the HTTP client could not be made".to_owned(),
            ))
        })?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_endpoint(format!(
            "{}/v1/traces",
            endpoint.trim().trim_end_matches('/')
        ))
        .build()
        .map_err(TelemetryError::Otlp)?;
    let mut resource = Resource::builder();
    if lookup("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service);
    }
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build(),
    ))
}

/// The layer that turns `tracing` spans into OpenTelemetry spans.
pub(crate) fn layer<S>(provider: &SdkTracerProvider) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("meta-messaging"))
        .boxed()
}
