//! Demo mode: the local Meta emulator in-process, the inbox pointed at it, a demo Page and its
//! Instagram account connected through the real OAuth flow, and simulated customers.

mod cast;
mod customers;
mod media;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{ConfigError, DEFAULT_TENANT, Inbox, InboxConfig, InboxError};
use meta_messaging_core::store::TokenKeyring;
use meta_messaging_emulator::{ControlError, Emulator, EmulatorError, RunningEmulator};

pub use cast::{INSTAGRAM_ACCOUNT, PAGE, customer_ids};
pub(crate) use customers::start as start_customers;
pub(crate) use media::routes as media_routes;

/// The verify token of the demo's webhook route (the emulator does not run the handshake, but
/// the route is there for `meta-messaging verify-endpoint`).
pub const VERIFY_TOKEN: &str = "demo-verify-token";

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The emulator did not start.
    #[error("the Meta emulator did not start")]
    Emulator(#[from] EmulatorError),
    /// The inbox could not be configured (the store, usually).
    #[error("the demo inbox could not be configured")]
    Config(#[from] ConfigError),
    /// A temporary directory for the demo's database could not be made.
    #[error("cannot create a temporary directory for the demo database")]
    TempDir(#[source] std::io::Error),
    /// Connecting the demo accounts failed.
    #[error("connecting the demo Page and Instagram account failed")]
    Connect(#[source] Box<InboxError>),
    /// The emulator's Login dialog refused the connect flow's authorize URL.
    #[error("the emulator's Login dialog refused to connect the demo accounts")]
    Dialog(#[from] ControlError),
}

/// A running demo: the emulator and the demo database's temporary directory (removed when the
/// demo is dropped, unless `META_STORE` named a store).
pub struct Demo {
    emulator: Arc<RunningEmulator>,
    store: String,
    _dir: Option<tempfile::TempDir>,
    /// Where the demo keeps attachments, removed with the demo.
    media: tempfile::TempDir,
}

impl std::fmt::Debug for Demo {
    // Hand-written: `META_STORE` may be a `postgres://` URL with a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo")
            .field("emulator", &self.emulator)
            .field("store", &self.store())
            .finish_non_exhaustive()
    }
}

impl Demo {
    /// Starts the emulator delivering to `{base}{prefix}/webhook` and returns the inbox's
    /// configuration for it: the emulator's app secret, Graph API, Login dialog and app id, and
    /// the store (`store`, or a fresh SQLite file).
    pub(crate) async fn prepare(
        base: &str,
        prefix: &str,
        store: Option<String>,
        token_key: Option<String>,
    ) -> Result<(Self, InboxConfig), DemoError> {
        let world = cast::world().callback_url(format!("{base}{prefix}/webhook"));
        let (app_id, app_secret) = (world.app.id.clone(), world.app.secret.clone());
        let emulator = Emulator::start(world).await?;
        let (store, dir) = match store {
            Some(store) => (store, None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("unified-inbox-demo-")
                    .tempdir()
                    .map_err(DemoError::TempDir)?;
                let path = dir.path().join("inbox.db");
                (format!("sqlite://{}", path.display()), Some(dir))
            }
        };
        // The demo's tokens are the emulator's, reconnected on every start: a throwaway key
        // suits them, unless META_TOKEN_KEY names one for a store that outlives the demo.
        let token_key = token_key.unwrap_or_else(TokenKeyring::generate_key);
        let vars = HashMap::from([
            ("META_TOKEN_KEY", token_key),
            ("META_APP_SECRET", app_secret),
            ("META_VERIFY_TOKEN", VERIFY_TOKEN.to_owned()),
            ("META_STORE", store.clone()),
            ("META_GRAPH_URL", emulator.url()),
            ("META_DIALOG_URL", emulator.url()),
            ("META_APP_ID", app_id),
            (
                "META_OAUTH_REDIRECT_URI",
                format!("{base}{prefix}/oauth/callback"),
            ),
        ]);
        let config = InboxConfig::from_lookup(|name| vars.get(name).cloned())?;
        let media = tempfile::Builder::new()
            .prefix("unified-inbox-media-")
            .tempdir()
            .map_err(DemoError::TempDir)?;
        let demo = Self {
            emulator: Arc::new(emulator),
            store,
            _dir: dir,
            media,
        };
        Ok((demo, config))
    }

    /// The directory the demo keeps attachments in (unless `META_MEDIA` names another place).
    pub fn media_dir(&self) -> PathBuf {
        self.media.path().to_owned()
    }

    /// The emulator, to script more of the world.
    pub fn emulator(&self) -> &RunningEmulator {
        &self.emulator
    }

    /// The store URL the demo writes to, with any password hidden (for printing).
    pub fn store(&self) -> String {
        meta_messaging_core::store::redacted_url(&self.store)
    }

    /// Connects the demo Page and its Instagram account the way an operator would: the connect
    /// flow's Login dialog (the emulator consents at once), then its callback.
    pub(crate) async fn connect_accounts(&self, inbox: &Inbox) -> Result<(), DemoError> {
        let connect = |err| DemoError::Connect(Box::new(err));
        let start = inbox
            .start_connect(&TenantId::new(DEFAULT_TENANT))
            .map_err(connect)?;
        let callback = self.emulator.consent(&start.authorize_url)?;
        let query = callback.split_once('?').map_or("", |(_, q)| q);
        inbox
            .finish_connect(query, Some(&start.state))
            .await
            .map_err(connect)?;
        Ok(())
    }
}
