//! A unified inbox of Facebook Messenger and Instagram Direct, live in the browser.
//!
//! Try it offline, with simulated customers on a local Meta emulator:
//!
//! ```text
//! cargo run -p unified-inbox -- --demo
//! ```
//!
//! then open the sign-in link it prints (`http://127.0.0.1:3000/?token=...` unless that port is
//! taken). The link works once; to sign in again (another browser, an ended session), enter
//! the API token printed below it.
//!
//! Against Meta, configured from the environment like the basic examples:
//!
//! ```text
//! META_APP_SECRET=... META_VERIFY_TOKEN=... META_APP_ID=... cargo run -p unified-inbox
//! ```
//!
//! The variables are `InboxConfig`'s (the one table of them is in its documentation, the
//! README and `docs/operations.md`), `BIND` (the listening address, default
//! `127.0.0.1:3000`) and `META_MEDIA_DIR`, the older name of `META_MEDIA` (where attachments are
//! kept, docs/media.md; the demo keeps them in a temporary directory). In demo mode the emulator supplies the app secret,
//! verify token, Graph and dialog URLs and app id, and the store is a fresh temporary SQLite
//! file unless `META_STORE` names one.
//!
//! `--check-config` prints the effective configuration with every secret redacted, and exits
//! 0 when it is valid, 1 (with the variable to fix) when it is not. Started with no
//! configuration at all, it says how to try the demo.
//!
//! SIGTERM or Ctrl-C stops it gracefully within `META_SHUTDOWN_TIMEOUT_SECS`.
//!
//! Logs go to standard output (`LOG_FORMAT=json` for JSON lines, `RUST_LOG` to filter), spans
//! to an OpenTelemetry collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and the metrics are
//! served at `GET /api/meta/metrics` (with the API token) or on `META_METRICS_BIND`.
//!
//! Point the Meta app's webhook at `https://<your host>/api/meta/webhook`. Everything else needs
//! a sign-in: the page opens from the one-time link printed at start (or asks for the API
//! token) and keeps a session cookie; scripts send `Authorization: Bearer <API token>`. See
//! docs/security.md.

use std::process::ExitCode;

use inbox_telemetry::Telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    let telemetry = match Telemetry::init(|name| std::env::var(name).ok(), "unified-inbox", "info")
    {
        Ok(telemetry) => telemetry,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let code = unified_inbox::cli::run(std::env::args_os()).await;
    telemetry.shutdown();
    ExitCode::from(code)
}
