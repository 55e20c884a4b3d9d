//! [`InboxConfig`]: an inbox configured from environment variables, for apps and examples.

use std::sync::Arc;

use super::builder::BuildError;
use super::{Inbox, InboxBuilder, OAuthSettings, Tenancy};
use crate::graph::{GraphClient, GraphError};
use crate::ids::TenantId;
use crate::secret::{AppSecret, VerifyToken};
use crate::store::{InMemoryStore, MessageStore, StoreError};

/// The store URL used when `META_STORE` is not set.
pub const DEFAULT_STORE: &str = "sqlite://inbox.db";

/// The address used when `BIND` is not set.
pub const DEFAULT_BIND: &str = "127.0.0.1:3000";

/// Where the examples mount the OAuth callback; the default `META_OAUTH_REDIRECT_URI` is this
/// path on `BIND`.
pub const DEFAULT_OAUTH_CALLBACK_PATH: &str = "/api/meta/oauth/callback";

/// The tenant of a single-tenant app configured from the environment.
pub const DEFAULT_TENANT: &str = "default";

/// Settings read from the environment:
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `META_APP_SECRET` | the app secret; several, comma-separated, while rotating | required |
/// | `META_VERIFY_TOKEN` | the webhook verify token | required |
/// | `META_STORE` | `memory`, `sqlite://PATH` or `postgres://...` | `sqlite://inbox.db` |
/// | `META_GRAPH_URL` | the Graph API base URL (a local emulator, say) | Meta's |
/// | `BIND` | the address to listen on | `127.0.0.1:3000` |
/// | `META_APP_ID` | the Meta app id: turns on the OAuth connect flow (`/oauth/start`) | off |
/// | `META_OAUTH_REDIRECT_URI` | the callback URL registered in the app's Facebook Login settings | `http://{BIND}/api/meta/oauth/callback` |
/// | `META_DIALOG_URL` | the Login dialog's base URL (the emulator's URL, to connect offline) | Meta's |
///
/// The inbox it builds is single-tenant (tenant `default`). With a `postgres://` store it also
/// shares live events with every other instance on the same database (LISTEN/NOTIFY, see
/// `docs/scaling.md`), so several instances can run behind a load balancer.
#[derive(Clone)]
#[non_exhaustive]
pub struct InboxConfig {
    /// The app secrets.
    pub app_secrets: Vec<AppSecret>,
    /// The verify token.
    pub verify_token: VerifyToken,
    /// The store URL.
    pub store: String,
    /// The Graph API base URL, when not Meta's.
    pub graph_url: Option<String>,
    /// The address to listen on.
    pub bind: String,
    /// The connect flow's settings, when `META_APP_ID` is set.
    pub oauth: Option<OAuthSettings>,
    /// The Login dialog's base URL, when not Meta's.
    pub dialog_url: Option<String>,
}

impl std::fmt::Debug for InboxConfig {
    // Hand-written so a `postgres://user:password@...` store URL never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxConfig")
            .field("app_secrets", &self.app_secrets)
            .field("verify_token", &self.verify_token)
            .field("store", &crate::store::redacted_url(&self.store))
            .field("graph_url", &self.graph_url)
            .field("bind", &self.bind)
            .field("oauth", &self.oauth)
            .field("dialog_url", &self.dialog_url)
            .finish()
    }
}

/// Why an [`InboxConfig`] could not be read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("{0} is not set: export it (see the example's header comment for every variable)")]
    Missing(&'static str),
    /// A variable has a value this crate cannot use.
    #[error("{variable} is invalid: {reason}")]
    Invalid {
        /// The variable.
        variable: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The store could not be opened.
    #[error("cannot open the store named by META_STORE")]
    Store(#[source] StoreError),
    /// The Graph client could not be built.
    #[error("cannot build the Graph client")]
    Graph(#[source] GraphError),
    /// The inbox could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The live-event fan-out between instances could not start.
    #[cfg(feature = "postgres")]
    #[error("cannot start the live-event fan-out on the PostgreSQL store")]
    Fanout(#[source] super::FanoutError),
}

impl InboxConfig {
    /// Reads the settings from the process environment.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] when `META_APP_SECRET` or `META_VERIFY_TOKEN` is not set.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, a file, a test's map).
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let app_secrets: Vec<AppSecret> = get("META_APP_SECRET")
            .ok_or(ConfigError::Missing("META_APP_SECRET"))?
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(AppSecret::new)
            .collect();
        let bind = get("BIND").unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let oauth = get("META_APP_ID").map(|app_id| {
            let redirect_uri = get("META_OAUTH_REDIRECT_URI")
                .unwrap_or_else(|| format!("http://{bind}{DEFAULT_OAUTH_CALLBACK_PATH}"));
            OAuthSettings::new(app_id.trim(), redirect_uri)
        });
        Ok(Self {
            app_secrets,
            verify_token: VerifyToken::new(
                get("META_VERIFY_TOKEN").ok_or(ConfigError::Missing("META_VERIFY_TOKEN"))?,
            ),
            store: get("META_STORE").unwrap_or_else(|| DEFAULT_STORE.to_owned()),
            graph_url: get("META_GRAPH_URL"),
            bind,
            oauth,
            dialog_url: get("META_DIALOG_URL"),
        })
    }

    /// An inbox builder with the secrets, the opened store, the Graph client and single-tenant
    /// routing set; add handlers or limits, then `build()`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for an unknown `META_STORE` scheme, [`ConfigError::Store`] when
    /// the store cannot be opened, [`ConfigError::Graph`] when `META_GRAPH_URL` is unusable.
    pub async fn builder(&self) -> Result<InboxBuilder, ConfigError> {
        let mut graph = GraphClient::builder();
        if let Some(url) = &self.graph_url {
            graph = graph.graph_url(url.clone()).instagram_url(url.clone());
        }
        if let Some(url) = &self.dialog_url {
            graph = graph.dialog_url(url.clone());
        }
        let mut builder = Inbox::builder()
            .verify_token(self.verify_token.clone())
            .store(open_store(&self.store).await?)
            .graph(graph.build().map_err(ConfigError::Graph)?)
            .tenancy(Tenancy::Single(TenantId::new(DEFAULT_TENANT)));
        for secret in &self.app_secrets {
            builder = builder.app_secret(secret.clone());
        }
        if let Some(oauth) = &self.oauth {
            builder = builder.oauth(oauth.clone());
        }
        #[cfg(feature = "postgres")]
        if is_postgres(&self.store) {
            let fanout = super::LiveFanout::connect(super::FanoutOptions::new(self.store.clone()))
                .await
                .map_err(ConfigError::Fanout)?;
            builder = builder.live_fanout(fanout);
        }
        Ok(builder)
    }

    /// The inbox, as [`builder`](Self::builder) configures it.
    ///
    /// # Errors
    /// As [`builder`](Self::builder).
    pub async fn build(&self) -> Result<Inbox, ConfigError> {
        Ok(self.builder().await?.build()?)
    }
}

/// Opens the store a `META_STORE` URL names.
async fn open_store(url: &str) -> Result<Arc<dyn MessageStore>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        variable: "META_STORE",
        reason,
    };
    if url == "memory" {
        return Ok(Arc::new(InMemoryStore::new()));
    }
    if let Some(path) = url.strip_prefix("sqlite://") {
        #[cfg(feature = "sqlite")]
        return Ok(Arc::new(
            crate::store::SqliteStore::open(path)
                .await
                .map_err(ConfigError::Store)?,
        ));
        #[cfg(not(feature = "sqlite"))]
        return Err(invalid(format!(
            "{path:?} needs SQLite, but meta-messaging-core was built without its `sqlite` feature"
        )));
    }
    if is_postgres(url) {
        #[cfg(feature = "postgres")]
        return Ok(Arc::new(
            crate::store::PostgresStore::connect(url)
                .await
                .map_err(ConfigError::Store)?,
        ));
        #[cfg(not(feature = "postgres"))]
        return Err(invalid(
            "PostgreSQL needs meta-messaging-core's `postgres` feature".to_owned(),
        ));
    }
    Err(invalid(format!(
        "{url:?} is not `memory`, `sqlite://PATH` or `postgres://...`"
    )))
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<InboxConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        InboxConfig::from_lookup(|name| vars.get(name).cloned())
    }

    const REQUIRED: [(&str, &str); 2] = [("META_APP_SECRET", "s1"), ("META_VERIFY_TOKEN", "v")];

    #[test]
    fn secrets_are_required_and_everything_else_has_a_default() {
        assert!(matches!(
            config(&[("META_VERIFY_TOKEN", "v")]),
            Err(ConfigError::Missing("META_APP_SECRET"))
        ));
        assert!(matches!(
            config(&[("META_APP_SECRET", "s"), ("META_VERIFY_TOKEN", " ")]),
            Err(ConfigError::Missing("META_VERIFY_TOKEN"))
        ));
        let defaults = config(&REQUIRED).expect("the required variables are set");
        assert_eq!(defaults.store, DEFAULT_STORE);
        assert_eq!(defaults.bind, DEFAULT_BIND);
        assert!(defaults.graph_url.is_none() && defaults.dialog_url.is_none());
        assert!(defaults.oauth.is_none(), "no META_APP_ID, no connect flow");
    }

    #[test]
    fn debug_hides_the_secrets_and_the_database_password() {
        let mut vars = REQUIRED.to_vec();
        vars.push(("META_STORE", "postgres://app:pg-pass-42@db/inbox"));
        let shown = format!("{:?}", config(&vars).expect("valid"));
        for secret in ["s1", "pg-pass-42"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("postgres://app:REDACTED@db/inbox"),
            "{shown}"
        );
    }

    #[test]
    fn several_secrets_while_rotating() {
        let rotating =
            config(&[("META_APP_SECRET", "new, old,"), ("META_VERIFY_TOKEN", "v")]).expect("valid");
        assert_eq!(rotating.app_secrets.len(), 2);
    }

    #[test]
    fn an_app_id_turns_on_the_connect_flow() {
        let mut vars = REQUIRED.to_vec();
        vars.extend([("META_APP_ID", "1234567890"), ("BIND", "0.0.0.0:8080")]);
        let oauth = config(&vars).expect("valid").oauth.expect("OAuth is on");
        assert_eq!(oauth.app_id.as_str(), "1234567890");
        assert_eq!(
            oauth.redirect_uri,
            "http://0.0.0.0:8080/api/meta/oauth/callback"
        );

        vars.extend([
            ("META_OAUTH_REDIRECT_URI", "https://inbox.example.com/cb"),
            ("META_DIALOG_URL", "http://127.0.0.1:8787"),
        ]);
        let explicit = config(&vars).expect("valid");
        assert_eq!(
            explicit.oauth.expect("OAuth is on").redirect_uri,
            "https://inbox.example.com/cb"
        );
        assert_eq!(
            explicit.dialog_url.as_deref(),
            Some("http://127.0.0.1:8787")
        );
    }

    #[tokio::test]
    async fn an_unknown_store_scheme_is_refused_with_the_accepted_ones() {
        let mut vars = REQUIRED.to_vec();
        vars.push(("META_STORE", "redis://localhost"));
        let err = config(&vars)
            .expect("read")
            .build()
            .await
            .expect_err("redis is not a store");
        assert!(matches!(
            err,
            ConfigError::Invalid {
                variable: "META_STORE",
                ..
            }
        ));
        assert!(err.to_string().contains("sqlite://PATH"), "{err}");
    }
}
