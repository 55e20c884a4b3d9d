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
//! | `META_GRAPH_URL` | the Graph API base URL | Meta's |
//! | `BIND` | the listening address | `127.0.0.1:3000` |
//! | `META_APP_ID` | the Meta app id: turns on `/api/meta/oauth/start` to connect Pages | off |
//! | `META_OAUTH_REDIRECT_URI` | the connect flow's callback, as registered with Meta | `http://{BIND}/api/meta/oauth/callback` |
//! | `META_DIALOG_URL` | the Login dialog's base URL (an emulator's, offline) | Meta's |
//!
//! Point the Meta app's webhook at `https://<your host>/api/meta/webhook`.

use std::process::ExitCode;

use axum::Router;
use meta_messaging_core::inbox::InboxConfig;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let result = async {
        let config = InboxConfig::from_env()?;
        let inbox = config.build().await?;
        let listener = tokio::net::TcpListener::bind(&config.bind).await?;
        let app = Router::new().nest("/api/meta", meta_messaging_axum::router(inbox));
        println!(
            "axum-basic listening on http://{}/api/meta (webhook: /api/meta/webhook)",
            config.bind
        );
        axum::serve(listener, app).await?;
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
