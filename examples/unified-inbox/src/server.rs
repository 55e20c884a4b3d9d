//! The app: the inbox routes under `/api/meta`, the page, and (in demo mode) the emulator and
//! its simulated customers.

use axum::serve::ListenerExt as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use meta_messaging_core::contract::{Access, ApiToken, ApiTokens, RequestHeaders};
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{
    ConfigError, DEFAULT_BIND, DEFAULT_TENANT, Inbox, InboxConfig, MediaConfig, MediaLocation,
    ShutdownReport,
};
use meta_messaging_emulator::RunningEmulator;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::demo::{self, Demo, DemoError};
use crate::page;

/// Where the inbox routes are mounted.
pub const API_PREFIX: &str = "/api/meta";

/// How the app runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Mode {
    /// Against Meta (or whatever `META_GRAPH_URL` names), configured from the environment: see
    /// [`InboxConfig`] for the variables; `BIND` is the address to listen on, and the default
    /// `META_OAUTH_REDIRECT_URI` is the connect flow's callback on it.
    Live,
    /// Offline, against the local Meta emulator started in-process, with a demo Page and
    /// Instagram account connected and simulated customers.
    Demo {
        /// How often a simulated customer does something; `None`: never (a test drives the
        /// emulator itself).
        customers_every: Option<Duration>,
    },
}

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// No variable of the configuration is set at all.
    #[error(
        "no configuration: set META_APP_SECRET and META_VERIFY_TOKEN (every variable is in \
         docs/operations.md), or try it offline first: cargo run -p unified-inbox -- --demo"
    )]
    Unconfigured,
    /// The environment does not configure an inbox.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The inbox could not be built.
    #[error(transparent)]
    Build(#[from] meta_messaging_core::inbox::BuildError),
    /// The listening address could not be bound.
    #[error("cannot listen on {bind}: set BIND to a free address, e.g. BIND=127.0.0.1:3001")]
    Bind {
        /// The address asked for.
        bind: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The demo could not be set up.
    #[error(transparent)]
    Demo(#[from] DemoError),
    /// The metrics could not be served.
    #[error(transparent)]
    Telemetry(#[from] inbox_telemetry::TelemetryError),
}

/// A running app.
#[derive(Debug)]
pub struct Running {
    /// The page's URL, e.g. `http://127.0.0.1:3000/`.
    pub url: String,
    /// The page's URL with a one-time sign-in code (`http://127.0.0.1:3000/?token=...`): the
    /// link to print. The code works once; later visits sign in with the API token.
    pub sign_in_url: String,
    /// The API token made at start because `META_API_TOKEN` was unset (`None` when it was
    /// set): print it for the operator and for scripts (`Authorization: Bearer ...`).
    pub api_token: Option<ApiToken>,
    /// The inbox behind the routes.
    pub inbox: Inbox,
    /// The demo, in demo mode: its emulator (to script more) and where its store lives.
    pub demo: Option<Demo>,
    server: JoinHandle<std::io::Result<()>>,
    /// How long a graceful shutdown may take (`META_SHUTDOWN_TIMEOUT_SECS`).
    shutdown_timeout: Duration,
}

impl Running {
    /// The emulator of a demo.
    pub fn emulator(&self) -> Option<&RunningEmulator> {
        self.demo.as_ref().map(Demo::emulator)
    }

    /// Serves until the server stops.
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn wait(self) -> std::io::Result<()> {
        joined(self.server).await
    }

    /// Serves until `signal` (SIGTERM or Ctrl-C in the binary), then stops gracefully within
    /// `META_SHUTDOWN_TIMEOUT_SECS`: stops accepting, ends the page's live stream with a
    /// reconnect hint, finishes the requests in flight, commits every queued write
    /// ([`Inbox::serve_gracefully`]).
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn serve_until(
        self,
        signal: impl Future<Output = ()>,
    ) -> std::io::Result<ShutdownReport> {
        self.inbox
            .serve_gracefully(joined(self.server), signal, self.shutdown_timeout)
            .await
    }
}

/// The result of the server's task.
async fn joined(server: JoinHandle<std::io::Result<()>>) -> std::io::Result<()> {
    match server.await {
        Ok(result) => result,
        Err(join) => Err(std::io::Error::other(join)),
    }
}

/// The effective configuration of [`Mode::Live`] as `lookup` gives it, secrets redacted:
/// what `--check-config` prints.
///
/// # Errors
/// [`AppError::Unconfigured`] when nothing is set, else the configuration's error, naming
/// the variable and its fix.
pub fn check_config(lookup: impl Fn(&str) -> Option<String>) -> Result<String, AppError> {
    let (bind, config) = live_config(&lookup)?;
    Ok(format!("{config}{:<28}{bind}\n", "BIND"))
}

/// `BIND` and the inbox configuration of live mode ([`InboxConfig::for_app`]), with
/// `META_MEDIA_DIR` as the older name of `META_MEDIA`.
fn live_config(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<(String, InboxConfig), AppError> {
    if InboxConfig::is_unconfigured(lookup) {
        return Err(AppError::Unconfigured);
    }
    Ok(InboxConfig::for_app(
        |name| match name {
            "META_MEDIA" => media_setting(lookup),
            _ => lookup(name),
        },
        API_PREFIX,
    )?)
}

/// Starts the app in `mode`, listening on `BIND` (default `127.0.0.1:3000`; in demo mode a
/// free port when that one is taken and `BIND` is not set).
///
/// # Errors
/// [`AppError`], saying what to set or fix.
pub async fn start(mode: Mode) -> Result<Running, AppError> {
    start_with(mode, |name| std::env::var(name).ok()).await
}

/// [`start`] with the settings read through `lookup` instead of the environment.
///
/// # Errors
/// As [`start`].
pub async fn start_with(
    mode: Mode,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Running, AppError> {
    match mode {
        Mode::Live => {
            let (bind_to, config) = live_config(&lookup)?;
            let listener = bind(&bind_to, false).await?;
            let inbox = inbox(&config).await?;
            serve(listener, inbox, &config, None).await
        }
        Mode::Demo { customers_every } => {
            let bind_var = setting(&lookup, "BIND");
            let fallback = bind_var.is_none();
            let bind_to = bind_var.unwrap_or_else(|| DEFAULT_BIND.to_owned());
            let listener = bind(&bind_to, fallback).await?;
            let addr = local_addr(&listener, &bind_to)?;
            let base = format!("http://{addr}");
            let store = setting(&lookup, "META_STORE");
            let token_key = setting(&lookup, "META_TOKEN_KEY");
            let (demo, mut config) = Demo::prepare(&base, API_PREFIX, store, token_key).await?;
            // Who may sign in is the operator's choice in the demo too.
            let list = |name| -> Vec<String> {
                lookup(name)
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            config.api_tokens = list("META_API_TOKEN")
                .into_iter()
                .map(ApiToken::new)
                .collect();
            config.allowed_hosts = list("META_ALLOWED_HOSTS");
            // The demo always keeps attachments: in a temporary directory unless told where.
            let media = MediaConfig::from_lookup(|name| match name {
                "META_MEDIA" => media_setting(&lookup),
                _ => lookup(name),
            })?
            .unwrap_or_else(|| MediaConfig::new(MediaLocation::Directory(demo.media_dir())));
            config.media = Some(media.mount(API_PREFIX));
            let inbox = inbox(&config).await?;
            let running = serve(listener, inbox, &config, Some(demo)).await?;
            if let Some(demo) = &running.demo {
                demo.connect_accounts(&running.inbox).await?;
                demo::start_customers(demo, &base, customers_every).await;
            }
            Ok(running)
        }
    }
}

/// `META_MEDIA`, or `META_MEDIA_DIR`, its older name (a directory).
fn media_setting(lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    setting(&lookup, "META_MEDIA").or_else(|| setting(&lookup, "META_MEDIA_DIR"))
}

/// The variable `name`, unless it is unset or blank (as [`InboxConfig`] reads them).
fn setting(lookup: impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name).filter(|value| !value.trim().is_empty())
}

/// The inbox `config` describes, looking up participants' names for the page, with the connect
/// flow (when configured) returning to the page, which shows how many accounts were connected,
/// with media configured, keeping attachments (the page shows the kept copy), and recording
/// metrics, served at `GET /api/meta/metrics` or on `META_METRICS_BIND`.
async fn inbox(config: &InboxConfig) -> Result<Inbox, AppError> {
    let builder = config.builder().await?.fetch_profiles(true);
    let mut builder = inbox_telemetry::metrics(builder, config.metrics_bind)?;
    if let Some(oauth) = &config.oauth {
        builder = builder.oauth(oauth.clone().success_redirect("/"));
    }
    Ok(builder.build()?)
}

async fn bind(bind: &str, fall_back_to_free_port: bool) -> Result<TcpListener, AppError> {
    match TcpListener::bind(bind).await {
        Ok(listener) => Ok(listener),
        Err(err) if fall_back_to_free_port && err.kind() == std::io::ErrorKind::AddrInUse => {
            tracing::info!("{bind} is taken; the demo listens on a free port instead");
            TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|source| AppError::Bind {
                    bind: "127.0.0.1:0".to_owned(),
                    source,
                })
        }
        Err(source) => Err(AppError::Bind {
            bind: bind.to_owned(),
            source,
        }),
    }
}

fn local_addr(listener: &TcpListener, bind: &str) -> Result<SocketAddr, AppError> {
    listener.local_addr().map_err(|source| AppError::Bind {
        bind: bind.to_owned(),
        source,
    })
}

/// `GET /api/app`: what the page shows about the app, for a signed-in page or a token holder.
fn app_info(info: &Value, tokens: Option<&ApiTokens>, headers: &HeaderMap) -> Response {
    let headers =
        RequestHeaders::from_lookup(|name| headers.get(name).and_then(|v| v.to_str().ok()), None);
    match tokens.and_then(|tokens| tokens.tenant_of_request(&headers)) {
        Some(_) => Json(info.clone()).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {
                "kind": "unauthorized",
                "message": "this route needs credentials: an API token or a signed-in session",
                "fix": "open the sign-in link the app printed, or sign in with the API token",
                "code": null, "subcode": null, "fbtrace_id": null,
            }})),
        )
            .into_response(),
    }
}

async fn serve(
    listener: TcpListener,
    inbox: Inbox,
    config: &InboxConfig,
    demo: Option<Demo>,
) -> Result<Running, AppError> {
    let addr = local_addr(&listener, "the listener")?;
    let configured = config.access();
    let access: Access = configured.access;
    let code = access
        .tokens()
        .and_then(|tokens| tokens.one_time_code(&TenantId::new(DEFAULT_TENANT)));
    let info = Arc::new(json!({"name": "unified-inbox", "demo": demo.is_some()}));
    // The page's own data is guarded like the inbox routes: the same token or session.
    let tokens = access.tokens().cloned();
    let mut app = Router::new()
        .nest(
            API_PREFIX,
            meta_messaging_axum::router(inbox.clone(), access),
        )
        .route(
            "/api/app",
            get(move |headers: HeaderMap| {
                let info = Arc::clone(&info);
                let tokens = tokens.clone();
                async move { app_info(&info, tokens.as_ref(), &headers) }
            }),
        )
        .merge(page::routes());
    if demo.is_some() {
        app = app.merge(demo::media_routes());
    }
    // TCP_NODELAY: live events are small writes on an open stream, which Nagle's algorithm
    // would hold until the browser's delayed ACK (up to 40 ms).
    let listener = listener.tap_io(|tcp| {
        // A socket that refuses it still serves, only with that delay.
        let _ = tcp.set_nodelay(true);
    });
    // The peer's address goes into the log of refused webhook signatures.
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    // Stops accepting when the inbox drains (`Running::serve_until`).
    let drained = inbox.drained();
    let server = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(drained)
            .await
    });
    let url = format!("http://{addr}/");
    Ok(Running {
        sign_in_url: match &code {
            Some(code) => format!("{url}?token={}", code.expose()),
            None => url.clone(),
        },
        api_token: configured.generated,
        url,
        // The demo's configuration leaves it at its default.
        shutdown_timeout: config.shutdown_timeout,
        inbox,
        demo,
        server,
    })
}
