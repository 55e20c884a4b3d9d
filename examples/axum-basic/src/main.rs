//! An axum host app that mounts the meta-messaging inbox routes under `/api/meta`,
//! single-tenant, configured from the environment.
//!
//! ```text
//! META_APP_SECRET=... META_VERIFY_TOKEN=... cargo run -p axum-basic
//! ```
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `META_APP_SECRET` | the app secret (comma-separated while rotating) | required |
//! | `META_VERIFY_TOKEN` | the webhook verify token | required |
//! | `META_STORE` | `memory`, `sqlite://PATH` or `postgres://...` | `sqlite://inbox.db` |
//! | `META_TOKEN_KEY` | the key sealing account tokens at rest (`meta-messaging token-key generate`), comma-separated while rotating | SQLite: a key file beside the database, with a warning; PostgreSQL: required |
//! | `META_GRAPH_URL` | the Graph API base URL | Meta's |
//! | `BIND` | the listening address | `127.0.0.1:3000` |
//! | `META_APP_ID` | the Meta app id: turns on `/api/meta/oauth/start` to connect Pages | off |
//! | `META_OAUTH_REDIRECT_URI` | the connect flow's callback, as registered with Meta | `http://{BIND}/api/meta/oauth/callback` |
//! | `META_DIALOG_URL` | the Login dialog's base URL (an emulator's, offline) | Meta's |
//! | `META_API_TOKEN` | the API tokens of the inbox routes (`Authorization: Bearer ...`), comma-separated while rotating | a random one, printed at start |
//! | `META_ALLOWED_HOSTS` | host names the inbox routes answer to (DNS-rebinding guard) | loopback names |
//! | `META_MEDIA` | keeps attachments past Meta's expiring URLs: a directory, `file://DIR` or `s3://bucket/prefix` (feature `s3`; see docs/media.md for `META_MEDIA_S3_ENDPOINT`, `META_MEDIA_MAX_BYTES`, `META_MEDIA_RETENTION_DAYS`) | off |
//!
//! Point the Meta app's webhook at `https://<your host>/api/meta/webhook`. Every other route
//! needs `Authorization: Bearer <API token>`.

use axum::serve::ListenerExt as _;
use std::net::SocketAddr;

use std::process::ExitCode;

use axum::Router;
use meta_messaging_core::inbox::{ConfigError, InboxConfig};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let result = async {
        let (bind, config) = settings()?;
        let inbox = config.build().await?;
        let listener = tokio::net::TcpListener::bind(&bind).await?;
        let access = config.access();
        let app = Router::new().nest(
            "/api/meta",
            meta_messaging_axum::router(inbox, access.access),
        );
        println!("axum-basic listening on http://{bind}/api/meta (webhook: /api/meta/webhook)");
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
        // The peer's address goes into the log of refused webhook signatures.
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    };
    match result.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// The address to listen on when `BIND` is not set.
const DEFAULT_BIND: &str = "127.0.0.1:3000";

/// The environment variable `name`, unless it is unset or blank.
fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// `BIND`, and the inbox settings of the environment, with the connect flow's callback on `BIND`
/// unless `META_OAUTH_REDIRECT_URI` names another.
fn settings() -> Result<(String, InboxConfig), ConfigError> {
    let bind = env("BIND").unwrap_or_else(|| DEFAULT_BIND.to_owned());
    let mut config = InboxConfig::from_lookup(|name| match name {
        "META_OAUTH_REDIRECT_URI" => {
            env(name).or_else(|| Some(format!("http://{bind}/api/meta/oauth/callback")))
        }
        _ => env(name),
    })?;
    // Kept attachments (`META_MEDIA`) are served under the routes' mount.
    config.media = config.media.map(|media| media.mount("/api/meta"));
    Ok((bind, config))
}
