//! An actix-web host app that mounts the meta-messaging inbox routes under `/api/meta`,
//! single-tenant, configured from the environment.
//!
//! ```text
//! META_APP_SECRET=... META_VERIFY_TOKEN=... cargo run -p actix-basic
//! ```
//!
//! The variables are those of `axum-basic` (`META_APP_SECRET`, `META_VERIFY_TOKEN`,
//! `META_STORE`, `META_GRAPH_URL`, `BIND`, `META_API_TOKEN`, `META_ALLOWED_HOSTS`,
//! `META_TOKEN_KEY`, `META_MEDIA` for kept attachments, and `META_APP_ID`,
//! `META_OAUTH_REDIRECT_URI`, `META_DIALOG_URL` for the connect flow); see `InboxConfig` in
//! meta-messaging-core.
//! Point the Meta app's webhook at `https://<your host>/api/meta/webhook`. Every other route
//! needs `Authorization: Bearer <API token>`: the token of `META_API_TOKEN`, or the one printed
//! at start when it is unset.

use std::process::ExitCode;

use actix_web::{App, HttpServer, web};
use meta_messaging_core::inbox::{ConfigError, InboxConfig};

#[actix_web::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let result = async {
        let (bind, config) = settings()?;
        let inbox = config.build().await?;
        let access = config.access();
        let generated = access.generated.clone();
        let server =
            HttpServer::new(move || {
                App::new().service(web::scope("/api/meta").configure(
                    meta_messaging_actix::configure(inbox.clone(), access.access.clone()),
                ))
            })
            // Live events are small writes on an open stream: without TCP_NODELAY, Nagle's
            // algorithm holds them until the browser's delayed ACK (up to 40 ms).
            .tcp_nodelay(true)
            .bind(&bind)?;
        println!("actix-basic listening on http://{bind}/api/meta (webhook: /api/meta/webhook)");
        if let Some(token) = generated {
            println!(
                "API token (made now; set META_API_TOKEN to keep one): {}",
                token.expose()
            );
        }
        server.run().await?;
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
