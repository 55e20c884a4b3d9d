//! The servers under load.

use axum::serve::ListenerExt as _;
use std::str::FromStr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use meta_messaging_core::contract::{Access, ApiToken, ApiTokens};
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{FanoutOptions, Inbox, LiveFanout, MediaOptions, Tenancy};
use meta_messaging_core::media::FsMediaStore;
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{
    InMemoryStore, MessageStore, NewAccount, PostgresOptions, PostgresStore, SqliteStore,
};
use meta_messaging_core::webhook::{SIGNATURE_HEADER, SignatureVerifier};
use sqlx::Connection;

/// The app secret both sides use.
pub(crate) const SECRET: &str = "load-test-app-secret";

/// The API token the load generator's live-event client uses.
pub(crate) const API_TOKEN: &str = "load-test-api-token";

/// The tenant every delivery goes to.
const TENANT: &str = "load";

/// The Instagram account of the deliveries.
pub(crate) const ACCOUNT: &str = "17841400000000000";

/// The schema the `postgres` target starts over in, in the database of
/// `META_MESSAGING_TEST_POSTGRES_URL`.
const PG_SCHEMA: &str = "mm_load_test";

/// A server to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Verifies the signature and parses the body as JSON: the floor of any webhook handler.
    Minimal,
    /// The inbox with the in-memory store.
    Memory,
    /// The inbox with a SQLite file (WAL, synchronous=FULL) in a temporary directory.
    Sqlite,
    /// As `sqlite`, multi-tenant: the account is connected to the tenant, and each delivery is
    /// routed by it.
    SqliteMulti,
    /// The inbox with a PostgreSQL store (the database of `META_MESSAGING_TEST_POSTGRES_URL`, in
    /// a schema of its own) and the live fan-out: the several-instances set-up.
    Postgres,
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "minimal" => Ok(Self::Minimal),
            "memory" => Ok(Self::Memory),
            "sqlite" => Ok(Self::Sqlite),
            "sqlite-multi" => Ok(Self::SqliteMulti),
            "postgres" => Ok(Self::Postgres),
            other => Err(format!(
                "unknown target {other:?}: minimal, memory, sqlite, sqlite-multi or postgres"
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
            Self::SqliteMulti => "sqlite-multi",
            Self::Postgres => "postgres",
        }
    }
}

/// A target, whether a live-event client follows it during the load, and whether it keeps
/// attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spec {
    pub(crate) target: Target,
    /// One `GET /events` client connected (`<target>+sse`).
    pub(crate) sse: bool,
    /// Attachments kept in a media store (`<target>+media`).
    pub(crate) media: bool,
}

impl FromStr for Spec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.split('+');
        let target: Target = parts.next().unwrap_or_default().parse()?;
        let (mut sse, mut media) = (false, false);
        for option in parts {
            match option {
                "sse" => sse = true,
                "media" => media = true,
                other => return Err(format!("unknown option +{other}: +sse or +media")),
            }
        }
        if (sse || media) && target == Target::Minimal {
            return Err("minimal has no live events and keeps no media".to_owned());
        }
        Ok(Self { target, sse, media })
    }
}

impl std::fmt::Display for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.target.name(),
            if self.sse { "+sse" } else { "" },
            if self.media { "+media" } else { "" }
        )
    }
}

/// The store of a target.
async fn store(
    target: Target,
    dir: &std::path::Path,
) -> Result<Arc<dyn MessageStore>, Box<dyn std::error::Error>> {
    Ok(match target {
        Target::Sqlite | Target::SqliteMulti => {
            Arc::new(SqliteStore::open(dir.join("load.db")).await?)
        }
        Target::Postgres => {
            let options = postgres_options()?;
            start_schema_over(&options).await?;
            Arc::new(PostgresStore::connect_with(options).await?)
        }
        Target::Minimal | Target::Memory => Arc::new(InMemoryStore::new()),
    })
}

/// The options of the `postgres` target: its own schema in the test database.
fn postgres_options() -> Result<PostgresOptions, Box<dyn std::error::Error>> {
    let url = std::env::var("META_MESSAGING_TEST_POSTGRES_URL")
        .map_err(|_| "the postgres target needs META_MESSAGING_TEST_POSTGRES_URL")?;
    Ok(PostgresOptions::new(url).schema(PG_SCHEMA))
}

/// Drops the target's schema, so each run starts from an empty store.
async fn start_schema_over(options: &PostgresOptions) -> Result<(), Box<dyn std::error::Error>> {
    let mut admin = sqlx::PgConnection::connect(&options.url).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        .execute(&mut admin)
        .await?;
    Ok(())
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

/// Serves `target` on a free port and prints `LISTENING <addr>` for the load generator, after
/// `MEDIA <dir>` when it keeps attachments.
pub(crate) async fn run(target: Target, media: bool) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let app = match target {
        Target::Minimal => Router::new()
            .route("/api/meta/webhook", post(minimal))
            .with_state(Arc::new(SignatureVerifier::new(AppSecret::new(SECRET)))),
        _ => {
            let store = store(target, dir.path()).await?;
            let tenant = TenantId::new(TENANT);
            let tenancy = match target {
                Target::SqliteMulti => {
                    let account = NewAccount::new(Platform::Instagram, ACCOUNT);
                    store.upsert_account(&tenant, &account).await?;
                    Tenancy::Multi
                }
                _ => Tenancy::Single(tenant.clone()),
            };
            let builder = Inbox::builder()
                .app_secret(AppSecret::new(SECRET))
                .verify_token(VerifyToken::new("unused"))
                .store(store)
                .tenancy(tenancy);
            let builder = if media {
                let files = dir.path().join("media");
                println!("MEDIA {}", files.display());
                builder.media(MediaOptions::new(FsMediaStore::new(files)?))
            } else {
                builder
            };
            let builder = match target {
                Target::Postgres => builder.live_fanout(
                    LiveFanout::connect(FanoutOptions::for_store(&postgres_options()?)).await?,
                ),
                _ => builder,
            };
            let inbox = builder.build()?;
            let tokens = ApiTokens::new().token(ApiToken::new(API_TOKEN), tenant);
            Router::new().nest(
                "/api/meta",
                meta_messaging_axum::router(inbox, Access::api_tokens(tokens)),
            )
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("LISTENING {}", listener.local_addr()?);
    // As the examples serve: without TCP_NODELAY a live frame can wait for the client's
    // delayed ACK.
    let listener = listener.tap_io(|tcp| {
        // A socket that refuses it still serves, only with that delay.
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}
