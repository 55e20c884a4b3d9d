//! The app: the inbox routes under `/api/meta`, the page, and (in demo mode) the emulator and
//! its simulated customers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::routing::get;
use meta_messaging_core::inbox::{ConfigError, Inbox, InboxConfig};
use meta_messaging_emulator::RunningEmulator;
use serde_json::json;
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
    /// [`InboxConfig`] for the variables.
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
}

/// A running app.
#[derive(Debug)]
pub struct Running {
    /// The page's URL, e.g. `http://127.0.0.1:3000/`.
    pub url: String,
    /// The inbox behind the routes.
    pub inbox: Inbox,
    /// The demo, in demo mode: its emulator (to script more) and where its store lives.
    pub demo: Option<Demo>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The emulator of a demo.
    pub fn emulator(&self) -> Option<&RunningEmulator> {
        self.demo.as_ref().map(Demo::emulator)
    }

    /// Serves until the server stops or the process is interrupted.
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn wait(self) -> std::io::Result<()> {
        match self.server.await {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join)),
        }
    }
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
            let config = InboxConfig::from_lookup(&lookup)?;
            let listener = bind(&config.bind, false).await?;
            serve(listener, inbox(&config).await?, None).await
        }
        Mode::Demo { customers_every } => {
            let bind_var = lookup("BIND").filter(|b| !b.trim().is_empty());
            let fallback = bind_var.is_none();
            let bind_to = bind_var.unwrap_or_else(|| "127.0.0.1:3000".to_owned());
            let listener = bind(&bind_to, fallback).await?;
            let addr = local_addr(&listener, &bind_to)?;
            let base = format!("http://{addr}");
            let store = lookup("META_STORE").filter(|s| !s.trim().is_empty());
            let (demo, config) = Demo::prepare(&base, API_PREFIX, store).await?;
            let running = serve(listener, inbox(&config).await?, Some(demo)).await?;
            if let Some(demo) = &running.demo {
                demo.connect_accounts(&running.inbox).await?;
                demo::start_customers(demo, &base, customers_every).await;
            }
            Ok(running)
        }
    }
}

/// The inbox `config` describes, looking up participants' names for the page, with the connect
/// flow (when configured) returning to the page, which shows how many accounts were connected.
async fn inbox(config: &InboxConfig) -> Result<Inbox, AppError> {
    let mut builder = config.builder().await?.fetch_profiles(true);
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

async fn serve(
    listener: TcpListener,
    inbox: Inbox,
    demo: Option<Demo>,
) -> Result<Running, AppError> {
    let addr = local_addr(&listener, "the listener")?;
    let info = Arc::new(json!({"name": "unified-inbox", "demo": demo.is_some()}));
    let mut app = Router::new()
        .nest(API_PREFIX, meta_messaging_axum::router(inbox.clone()))
        .route(
            "/api/app",
            get(move || {
                let info = Arc::clone(&info);
                async move { Json(info.as_ref().clone()) }
            }),
        )
        .merge(page::routes());
    if demo.is_some() {
        app = app.merge(demo::media_routes());
    }
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Running {
        url: format!("http://{addr}/"),
        inbox,
        demo,
        server,
    })
}
