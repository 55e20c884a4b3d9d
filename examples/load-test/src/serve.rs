//! The servers under load.

use std::str::FromStr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use meta_messaging_core::contract::{Access, ApiToken, ApiTokens};
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{Inbox, Tenancy};
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{InMemoryStore, MessageStore, SqliteStore};
use meta_messaging_core::webhook::{SIGNATURE_HEADER, SignatureVerifier};

/// The app secret both sides use.
pub(crate) const SECRET: &str = "load-test-app-secret";

/// A server to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Verifies the signature and parses the body as JSON: the floor of any webhook handler.
    Minimal,
    /// The inbox with the in-memory store.
    Memory,
    /// The inbox with a SQLite file (WAL, synchronous=FULL) in a temporary directory.
    Sqlite,
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "minimal" => Ok(Self::Minimal),
            "memory" => Ok(Self::Memory),
            "sqlite" => Ok(Self::Sqlite),
            other => Err(format!(
                "unknown target {other:?}: minimal, memory or sqlite"
            )),
        }
    }
}

impl Target {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Minimal => "minimal",
            Self::Memory => "memory",
            Self::Sqlite => "sqlite",
        }
    }
}

async fn minimal(
    State(verifier): State<Arc<SignatureVerifier>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if verifier.verify(signature, &body).is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

/// Serves `target` on a free port and prints `LISTENING <addr>` for the load generator.
pub(crate) async fn run(target: Target) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let app = match target {
        Target::Minimal => Router::new()
            .route("/api/meta/webhook", post(minimal))
            .with_state(Arc::new(SignatureVerifier::new(AppSecret::new(SECRET)))),
        Target::Memory | Target::Sqlite => {
            let store: Arc<dyn MessageStore> = match target {
                Target::Sqlite => Arc::new(SqliteStore::open(dir.path().join("load.db")).await?),
                _ => Arc::new(InMemoryStore::new()),
            };
            let inbox = Inbox::builder()
                .app_secret(AppSecret::new(SECRET))
                .verify_token(VerifyToken::new("unused"))
                .store(store)
                .tenancy(Tenancy::Single(TenantId::new("load")))
                .build()?;
            // The load only posts webhooks; the other routes stay behind a token nobody has.
            let tokens = ApiTokens::new().token(ApiToken::generate(), TenantId::new("load"));
            Router::new().nest(
                "/api/meta",
                meta_messaging_axum::router(inbox, Access::api_tokens(tokens)),
            )
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("LISTENING {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
