//! An axum host app that mounts the meta-messaging inbox routes under `/api/meta`,
//! single-tenant, configured from the environment, and stops gracefully on SIGTERM or Ctrl-C.
//!
//! ```text
//! META_APP_SECRET=... META_VERIFY_TOKEN=... cargo run -p axum-basic
//! ```
//!
//! The variables are those of `InboxConfig` in meta-messaging-core (the one table of them is
//! there, in the README and in `docs/operations.md`), and `BIND`, the listening address
//! (default `127.0.0.1:3000`; port 0 picks a free one, printed at start). Without
//! `META_OAUTH_REDIRECT_URI`, the connect flow's callback is `http://{BIND}/api/meta/oauth/callback`.
//!
//! Point the Meta app's webhook at `https://<your host>/api/meta/webhook`. Every other route
//! needs `Authorization: Bearer <API token>`, except the probes `/api/meta/health/live` and
//! `/api/meta/health/ready`.
//!
//! Logs go to standard output (`LOG_FORMAT=json` for JSON lines, `RUST_LOG` to filter), spans
//! to an OpenTelemetry collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and the metrics are
//! served at `GET /api/meta/metrics` behind the API token, or at `GET /metrics` on
//! `META_METRICS_BIND` (see `docs/operations.md`).
//!
//! On SIGTERM or Ctrl-C it stops accepting, ends the live streams with a reconnect hint,
//! finishes the requests in flight, stops the event handlers and commits every queued write,
//! within `META_SHUTDOWN_TIMEOUT_SECS` (see `docs/operations.md`).
//!
//! The binary is a thin wrapper over [`run`], which the tests run in a child process.

use std::net::SocketAddr;

use axum::Router;
use axum::serve::ListenerExt as _;
use inbox_telemetry::Telemetry;
use meta_messaging_core::inbox::{InboxConfig, shutdown_signal};

/// Installs the logs, traces and metrics, serves until SIGTERM or Ctrl-C, then shuts down
/// gracefully and sends the last spans.
///
/// # Errors
/// The configuration's error (naming the variable to set), the store's, or the listener's.
pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = Telemetry::init(|name| std::env::var(name).ok(), "axum-basic", "info")?;
    let served = serve().await;
    telemetry.shutdown();
    served
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let (bind, config) = InboxConfig::for_app(|name| std::env::var(name).ok(), "/api/meta")?;
    let inbox = inbox_telemetry::metrics(config.builder().await?, config.metrics_bind)?.build()?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let addr = listener.local_addr()?;
    let access = config.access();
    let app = Router::new().nest(
        "/api/meta",
        meta_messaging_axum::router(inbox.clone(), access.access),
    );
    println!("axum-basic listening on http://{addr}/api/meta (webhook: /api/meta/webhook)");
    if let Some(token) = access.generated {
        println!(
            "API token (made now; set META_API_TOKEN to keep one): {}",
            token.expose()
        );
    }
    // TCP_NODELAY: live events are small writes on an open stream, which Nagle's algorithm
    // would hold until the browser's delayed ACK (up to 40 ms).
    let listener = listener.tap_io(|tcp| {
        // A socket that refuses it still serves, only with that delay.
        let _ = tcp.set_nodelay(true);
    });
    // The peer's address goes into the log of refused webhook signatures. The server stops
    // accepting when the inbox drains, which `serve_gracefully` does on the signal.
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(inbox.drained());
    inbox
        .serve_gracefully(server, shutdown_signal(), config.shutdown_timeout)
        .await?;
    Ok(())
}
