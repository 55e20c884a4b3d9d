//! An actix-web host app that mounts the meta-messaging inbox routes under `/api/meta`,
//! single-tenant, configured from the environment, and stops gracefully on SIGTERM or Ctrl-C.
//!
//! ```text
//! META_APP_SECRET=... META_VERIFY_TOKEN=... cargo run -p actix-basic
//! ```
//!
//! The variables are those of `axum-basic`: `InboxConfig`'s (the one table of them is in its
//! documentation, the README and `docs/operations.md`) and `BIND`, the listening address
//! (default `127.0.0.1:3000`; port 0 picks a free one, printed at start).
//! Point the Meta app's webhook at `https://<your host>/api/meta/webhook`. Every other route
//! needs `Authorization: Bearer <API token>` (the token of `META_API_TOKEN`, or the one printed
//! at start when it is unset), except the probes `/api/meta/health/live` and
//! `/api/meta/health/ready`.
//!
//! Logs, traces and metrics as in `axum-basic`: `LOG_FORMAT=json`, `RUST_LOG`,
//! `OTEL_EXPORTER_OTLP_ENDPOINT`, and the metrics at `GET /api/meta/metrics` behind the API
//! token or at `GET /metrics` on `META_METRICS_BIND` (see `docs/operations.md`).
//!
//! actix-web's own signal handling is turned off: on SIGTERM or Ctrl-C the inbox drains first
//! (live streams end with a reconnect hint, which actix-web's graceful stop would otherwise
//! wait for until its timeout), then the server stops accepting and finishes the requests in
//! flight, then the event handlers stop and every queued write is committed, within
//! `META_SHUTDOWN_TIMEOUT_SECS` (see `docs/operations.md`).
//!
//! The binary is a thin wrapper over [`run`], which the tests run in a child process.

use actix_web::{App, HttpServer, web};
use inbox_telemetry::Telemetry;
use meta_messaging_core::inbox::{InboxConfig, shutdown_signal};

/// Installs the logs, traces and metrics, serves until SIGTERM or Ctrl-C, then shuts down
/// gracefully and sends the last spans. Runs on the actix-web runtime (`#[actix_web::main]`).
///
/// # Errors
/// The configuration's error (naming the variable to set), the store's, or the listener's.
pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = Telemetry::init(|name| std::env::var(name).ok(), "actix-basic", "info")?;
    let served = serve().await;
    telemetry.shutdown();
    served
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let (bind, config) = InboxConfig::for_app(|name| std::env::var(name).ok(), "/api/meta")?;
    let inbox = inbox_telemetry::metrics(config.builder().await?, config.metrics_bind)?.build()?;
    let access = config.access();
    let generated = access.generated.clone();
    let routes = inbox.clone();
    let server = HttpServer::new(move || {
        App::new().service(
            web::scope("/api/meta").configure(meta_messaging_actix::configure(
                routes.clone(),
                access.access.clone(),
            )),
        )
    })
    // Live events are small writes on an open stream: without TCP_NODELAY, Nagle's
    // algorithm holds them until the browser's delayed ACK (up to 40 ms).
    .tcp_nodelay(true)
    // The inbox's shutdown decides when the server stops (below).
    .disable_signals()
    .shutdown_timeout(config.shutdown_timeout.as_secs())
    .bind(&bind)?;
    let addr = server
        .addrs()
        .first()
        .map_or_else(|| bind.clone(), ToString::to_string);
    println!("actix-basic listening on http://{addr}/api/meta (webhook: /api/meta/webhook)");
    if let Some(token) = generated {
        println!(
            "API token (made now; set META_API_TOKEN to keep one): {}",
            token.expose()
        );
    }
    let server = server.run();
    let handle = server.handle();
    let drained = inbox.drained();
    actix_web::rt::spawn(async move {
        drained.await;
        // Graceful: stop accepting, let the workers finish their requests.
        handle.stop(true).await;
    });
    inbox
        .serve_gracefully(server, shutdown_signal(), config.shutdown_timeout)
        .await?;
    Ok(())
}
