//! [`InboxConfig`]: an inbox configured from environment variables, for apps and examples.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::builder::BuildError;
use super::media_config::{MediaConfig, MediaLocation};
use super::{DEFAULT_SHUTDOWN_TIMEOUT, Inbox, InboxBuilder, OAuthSettings, Tenancy};
use crate::contract::{Access, ApiToken, ApiTokens};
use crate::graph::{GraphClient, GraphError};
use crate::ids::TenantId;
use crate::media::MediaError;
use crate::secret::{AppSecret, VerifyToken};
use crate::store::{InMemoryStore, MessageStore, StoreError, TokenKeyError, TokenKeyring};

/// The store URL used when `META_STORE` is not set.
pub const DEFAULT_STORE: &str = "sqlite://inbox.db";

/// The address an app listens on when `BIND` is not set ([`InboxConfig::for_app`]).
pub const DEFAULT_BIND: &str = "127.0.0.1:3000";

/// The tenant of a single-tenant app configured from the environment.
pub const DEFAULT_TENANT: &str = "default";

/// Settings read from the environment:
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `META_APP_SECRET` | the app secret; several, comma-separated, while rotating (the first also keys `appsecret_proof`) | required |
/// | `META_VERIFY_TOKEN` | the webhook verify token | required |
/// | `META_STORE` | `memory`, `sqlite://PATH` or `postgres://...` | `sqlite://inbox.db` |
/// | `META_GRAPH_URL` | the Graph API base URL (a local emulator, say) | Meta's |
/// | `META_APP_ID` | the Meta app id: turns on the OAuth connect flow (`/oauth/start`) | off |
/// | `META_OAUTH_REDIRECT_URI` | the callback URL registered in the app's Facebook Login settings (where the app serves `GET /oauth/callback`) | required with `META_APP_ID` |
/// | `META_DIALOG_URL` | the Login dialog's base URL (the emulator's URL, to connect offline) | Meta's |
/// | `META_API_TOKEN` | the API tokens of the inbox routes (`Authorization: Bearer ...`); several, comma-separated, while rotating | a random one, made at start ([`InboxConfig::access`]) |
/// | `META_ALLOWED_HOSTS` | the host names (with port, if not 80/443) the inbox routes and page answer to, comma-separated | loopback names only |
/// | `META_TOKEN_KEY` | the key that seals account tokens at rest: base64 of 32 bytes; several, comma-separated, while rotating (the first seals) | SQLite: a key file beside the database; PostgreSQL: required |
/// | `META_MEDIA` | keeps inbound attachments past Meta's expiring URLs: a directory path, `file://DIR`, or `s3://bucket[/prefix]` (feature `s3`) | off |
/// | `META_MEDIA_S3_ENDPOINT` | the endpoint of an S3-compatible server other than AWS (MinIO, Ceph, R2, ...); an `http://` one also needs `AWS_ALLOW_HTTP=true` | AWS |
/// | `META_MEDIA_MAX_BYTES` | the largest attachment kept, in bytes | 26214400 (25 MiB) |
/// | `META_MEDIA_RETENTION_DAYS` | how many days kept media is kept ([`Inbox::prune_media`] deletes older media) | 90 |
/// | `META_METRICS_BIND` | serve the metrics (`GET /metrics`, Prometheus text) on this address of their own, without credentials, for a scraper on a private network; unset, the apps serve them under the inbox routes behind the API token ([`InboxBuilder::metrics_endpoint`](super::InboxBuilder::metrics_endpoint)) | unset |
/// | `META_SHUTDOWN_TIMEOUT_SECS` | how long a graceful shutdown (SIGTERM, Ctrl-C) may take, in whole seconds: requests in flight, event handlers, queued writes ([`Inbox::serve_gracefully`]) | 25 ([`DEFAULT_SHUTDOWN_TIMEOUT`]) |
///
/// With an `s3://` `META_MEDIA`, credentials and region come from the standard `AWS_*`
/// variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
/// web identity, container or instance credentials), as the AWS tools read them. See
/// [`MediaConfig`] and `docs/media.md`.
///
/// An error names the variable and what to set it to. [`InboxConfig`]'s `Display` shows the
/// effective settings with every secret redacted (`unified-inbox --check-config` prints it).
/// A `postgres://` store that does not answer fails within
/// [`PostgresOptions::connect_timeout`](crate::store::PostgresOptions::connect_timeout) (5 s),
/// with the database's own error (connection refused, unknown host, password refused) as the
/// cause.
///
/// Where to listen is the app's own setting: the examples read `BIND` and, when
/// `META_OAUTH_REDIRECT_URI` is unset, pass the callback route on that address through
/// [`from_lookup`](Self::from_lookup).
///
/// Without `META_TOKEN_KEY`, a `sqlite://PATH` store keeps its key in `PATH.key` (created with
/// mode 0600 on first use) and logs a warning: the key then sits next to the data it protects,
/// which suits a development machine, not production. A PostgreSQL store is shared by several
/// instances and usually backed up elsewhere, so it refuses to start without the variable
/// ([`ConfigError::TokenKeyRequired`]). Generate a key with `meta-messaging token-key generate`.
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
    /// The connect flow's settings, when `META_APP_ID` is set.
    pub oauth: Option<OAuthSettings>,
    /// The Login dialog's base URL, when not Meta's.
    pub dialog_url: Option<String>,
    /// The keys that seal account tokens, from `META_TOKEN_KEY`.
    pub token_keys: Option<TokenKeyring>,
    /// The API tokens of the inbox routes, from `META_API_TOKEN` (several while rotating).
    pub api_tokens: Vec<ApiToken>,
    /// The host names the inbox routes answer to, from `META_ALLOWED_HOSTS` (empty: loopback
    /// names only).
    pub allowed_hosts: Vec<String>,
    /// How attachments are kept, from `META_MEDIA` and the `META_MEDIA_*` variables (`None`:
    /// not kept). Set its [`mount`](MediaConfig::mount) to where the app mounts the routes.
    pub media: Option<MediaConfig>,
    /// How long a graceful shutdown may take, from `META_SHUTDOWN_TIMEOUT_SECS`.
    pub shutdown_timeout: Duration,
    /// Where an app serves its metrics on an address of their own, from `META_METRICS_BIND`
    /// (`None`: under the inbox routes, behind the API token).
    pub metrics_bind: Option<SocketAddr>,
}

impl std::fmt::Debug for InboxConfig {
    // Hand-written so a `postgres://user:password@...` store URL never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxConfig")
            .field("app_secrets", &self.app_secrets)
            .field("verify_token", &self.verify_token)
            .field("store", &crate::store::redacted_url(&self.store))
            .field("graph_url", &self.graph_url)
            .field("oauth", &self.oauth)
            .field("dialog_url", &self.dialog_url)
            .field("token_keys", &self.token_keys)
            .field("api_tokens", &self.api_tokens)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("media", &self.media)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("metrics_bind", &self.metrics_bind)
            .finish()
    }
}

/// `set (redacted)` with how many values a list holds, or `unset`, for secrets.
fn secret_count(count: usize, what: &str) -> String {
    match count {
        0 => "unset".to_owned(),
        1 => format!("set (1 {what}, redacted)"),
        n => format!("set ({n} {what}s, redacted)"),
    }
}

/// The effective settings, one `VARIABLE  value` line each, secrets redacted: what
/// `unified-inbox --check-config` prints. Unset optional settings show their default.
impl fmt::Display for InboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or = |value: Option<&String>, default: &str| {
            value.map_or_else(|| default.to_owned(), Clone::clone)
        };
        let token_keys = match &self.token_keys {
            Some(_) => "set (redacted)".to_owned(),
            None if is_postgres(&self.store) => "unset: required by a PostgreSQL store".to_owned(),
            None if self.store.starts_with("sqlite://") => {
                "unset: a key file beside the SQLite database".to_owned()
            }
            None => "unset".to_owned(),
        };
        let api_tokens = if self.api_tokens.is_empty() {
            "unset: a random one is made and printed at start".to_owned()
        } else {
            secret_count(self.api_tokens.len(), "token")
        };
        let allowed_hosts = if self.allowed_hosts.is_empty() {
            "unset: loopback names only".to_owned()
        } else {
            self.allowed_hosts.join(",")
        };
        // Neither a directory nor a bucket URL holds a secret (credentials in them are refused).
        let (media_location, media_endpoint, media_max_bytes, media_retention) = match &self.media {
            None => (
                "unset: attachments are not kept".to_owned(),
                "unset".to_owned(),
                "unset".to_owned(),
                "unset".to_owned(),
            ),
            Some(media) => {
                let (location, endpoint) = match &media.location {
                    MediaLocation::Directory(dir) => {
                        (dir.display().to_string(), "unset".to_owned())
                    }
                    MediaLocation::S3 { url, endpoint } => (
                        url.clone(),
                        endpoint.clone().unwrap_or_else(|| "unset: AWS".to_owned()),
                    ),
                };
                let retention = media.retention.map_or_else(
                    || "unset: 90".to_owned(),
                    |r| (r.as_secs() / 86_400).to_string(),
                );
                (location, endpoint, media.max_bytes.to_string(), retention)
            }
        };
        let rows = [
            (
                "META_APP_SECRET",
                secret_count(self.app_secrets.len(), "secret"),
            ),
            ("META_VERIFY_TOKEN", "set (redacted)".to_owned()),
            ("META_STORE", crate::store::redacted_url(&self.store)),
            ("META_TOKEN_KEY", token_keys),
            (
                "META_GRAPH_URL",
                or(self.graph_url.as_ref(), "unset: Meta's"),
            ),
            (
                "META_APP_ID",
                self.oauth.as_ref().map_or_else(
                    || "unset: the connect flow is off".to_owned(),
                    |oauth| oauth.app_id.as_str().to_owned(),
                ),
            ),
            (
                "META_OAUTH_REDIRECT_URI",
                self.oauth
                    .as_ref()
                    .map_or_else(|| "unset".to_owned(), |o| o.redirect_uri.clone()),
            ),
            (
                "META_DIALOG_URL",
                or(self.dialog_url.as_ref(), "unset: Meta's"),
            ),
            ("META_API_TOKEN", api_tokens),
            ("META_ALLOWED_HOSTS", allowed_hosts),
            ("META_MEDIA", media_location),
            ("META_MEDIA_S3_ENDPOINT", media_endpoint),
            ("META_MEDIA_MAX_BYTES", media_max_bytes),
            ("META_MEDIA_RETENTION_DAYS", media_retention),
            (
                "META_METRICS_BIND",
                self.metrics_bind.map_or_else(
                    || "unset: GET /metrics under the inbox routes".to_owned(),
                    |addr| addr.to_string(),
                ),
            ),
            (
                "META_SHUTDOWN_TIMEOUT_SECS",
                self.shutdown_timeout.as_secs().to_string(),
            ),
        ];
        for (variable, value) in rows {
            writeln!(f, "{variable:<28}{value}")?;
        }
        Ok(())
    }
}

/// Why an [`InboxConfig`] could not be read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is not set, or holds nothing but blanks and commas.
    #[error(
        "{0} is not set or is empty: export it (see the `InboxConfig` documentation for every \
         variable)"
    )]
    Missing(&'static str),
    /// A variable has a value this crate cannot use.
    #[error("{variable} is invalid: {reason}")]
    Invalid {
        /// The variable.
        variable: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `META_TOKEN_KEY` (or the key file used in its place) does not hold valid keys.
    #[error("cannot read the token keys")]
    TokenKey(#[source] TokenKeyError),
    /// A PostgreSQL store needs `META_TOKEN_KEY`.
    #[error(
        "META_TOKEN_KEY is not set: a PostgreSQL store seals account tokens with it. Generate a key \
         with `meta-messaging token-key generate` and set META_TOKEN_KEY to it on every instance"
    )]
    TokenKeyRequired,
    /// The store could not be opened.
    #[error(
        "cannot open the store named by META_STORE: check that the database runs and that the \
         URL's host, port, user, password and database (or the SQLite file's directory) are \
         right; the cause follows"
    )]
    Store(#[source] StoreError),
    /// The Graph client could not be built.
    #[error("cannot build the Graph client")]
    Graph(#[source] GraphError),
    /// The inbox could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The media store named by `META_MEDIA` could not be set up.
    #[error("cannot set up the media store named by META_MEDIA")]
    Media(#[source] MediaError),
    /// The live-event fan-out between instances could not start.
    #[cfg(feature = "postgres")]
    #[error("cannot start the live-event fan-out on the PostgreSQL store")]
    Fanout(#[source] super::FanoutError),
}

/// The variable of [`InboxConfig::metrics_bind`].
const METRICS_BIND_VAR: &str = "META_METRICS_BIND";

/// The variable of [`InboxConfig::shutdown_timeout`].
const SHUTDOWN_TIMEOUT_VAR: &str = "META_SHUTDOWN_TIMEOUT_SECS";

/// A duration given in whole seconds.
fn seconds(variable: &'static str, value: &str) -> Result<Duration, ConfigError> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| ConfigError::Invalid {
            variable,
            reason: format!("{value:?} is not a whole number of seconds: set it to e.g. 25"),
        })
}

/// The comma-separated items of a variable, trimmed, empty ones left out.
fn list(value: Option<String>) -> Vec<String> {
    value
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The access an app configured by [`InboxConfig`] mounts the inbox routes with, from
/// [`InboxConfig::access`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConfiguredAccess {
    /// The bearer-token access, limited to the allowed hosts.
    pub access: Access,
    /// The token generated because `META_API_TOKEN` was unset: print it once for the operator
    /// (it changes at every start).
    pub generated: Option<ApiToken>,
}

impl InboxConfig {
    /// Every variable [`from_env`](Self::from_env) reads, in the order of the table above.
    pub const VARIABLES: &'static [&'static str] = &[
        "META_APP_SECRET",
        "META_VERIFY_TOKEN",
        "META_STORE",
        "META_GRAPH_URL",
        "META_APP_ID",
        "META_OAUTH_REDIRECT_URI",
        "META_DIALOG_URL",
        "META_API_TOKEN",
        "META_ALLOWED_HOSTS",
        "META_TOKEN_KEY",
        "META_MEDIA",
        "META_MEDIA_S3_ENDPOINT",
        "META_MEDIA_MAX_BYTES",
        "META_MEDIA_RETENTION_DAYS",
        METRICS_BIND_VAR,
        SHUTDOWN_TIMEOUT_VAR,
    ];

    /// Whether `lookup` sets none of [`VARIABLES`](Self::VARIABLES) (blank counts as unset):
    /// an app started with no configuration at all, which can say how to try it instead of
    /// naming the first missing variable.
    pub fn is_unconfigured(lookup: impl Fn(&str) -> Option<String>) -> bool {
        Self::VARIABLES
            .iter()
            .all(|name| lookup(name).is_none_or(|value| value.trim().is_empty()))
    }

    /// The inbox routes' access: the tokens of `META_API_TOKEN` for the single tenant, or, when
    /// it is unset, one random token made now and returned in
    /// [`generated`](ConfiguredAccess::generated) so the app can print it (as Jupyter does);
    /// limited to the hosts of `META_ALLOWED_HOSTS` (loopback names when unset). No
    /// configuration serves the routes open.
    pub fn access(&self) -> ConfiguredAccess {
        let tenant = TenantId::new(DEFAULT_TENANT);
        let (tokens, generated) = if self.api_tokens.is_empty() {
            let token = ApiToken::generate();
            (ApiTokens::new().token(token.clone(), tenant), Some(token))
        } else {
            let tokens = self.api_tokens.iter().fold(ApiTokens::new(), |all, t| {
                all.token(t.clone(), tenant.clone())
            });
            (tokens, None)
        };
        let mut access = Access::api_tokens(tokens);
        if !self.allowed_hosts.is_empty() {
            access = access.allowed_hosts(self.allowed_hosts.iter().cloned());
        }
        ConfiguredAccess { access, generated }
    }

    /// Reads the settings from the process environment.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] when `META_APP_SECRET` (or every item of it) or
    /// `META_VERIFY_TOKEN` is not set or empty, or
    /// `META_APP_ID` is set without `META_OAUTH_REDIRECT_URI`;
    /// [`ConfigError::TokenKey`] when `META_TOKEN_KEY` is set but not valid;
    /// [`ConfigError::Invalid`] for a `META_MEDIA*` variable that cannot be used (see
    /// [`MediaConfig::from_lookup`]).
    /// [`ConfigError::Invalid`] when `META_SHUTDOWN_TIMEOUT_SECS` is not a whole number.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The listening address and the settings of an app that serves the inbox routes at
    /// `mount` (`/api/meta`), read through `lookup` (`|name| std::env::var(name).ok()` for the
    /// environment): the address is `BIND`, or [`DEFAULT_BIND`]; without
    /// `META_OAUTH_REDIRECT_URI`, the connect flow's callback is
    /// `http://{BIND}{mount}/oauth/callback`; kept attachments get their `media_url` under
    /// `mount`. The examples read their settings this way.
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn for_app(
        lookup: impl Fn(&str) -> Option<String>,
        mount: &str,
    ) -> Result<(String, Self), ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let bind = get("BIND").unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let mount = mount.trim_end_matches('/');
        let mut config = Self::from_lookup(|name| match name {
            "META_OAUTH_REDIRECT_URI" => {
                get(name).or_else(|| Some(format!("http://{bind}{mount}/oauth/callback")))
            }
            _ => lookup(name),
        })?;
        config.media = config.media.map(|media| media.mount(mount));
        Ok((bind, config))
    }

    /// Reads the settings through `lookup` (the environment, a file, a test's map).
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let app_secrets: Vec<AppSecret> = list(get("META_APP_SECRET"))
            .into_iter()
            .map(AppSecret::new)
            .collect();
        if app_secrets.is_empty() {
            return Err(ConfigError::Missing("META_APP_SECRET"));
        }
        let verify_token = VerifyToken::new(
            get("META_VERIFY_TOKEN").ok_or(ConfigError::Missing("META_VERIFY_TOKEN"))?,
        );
        let oauth = match get("META_APP_ID") {
            Some(app_id) => {
                let redirect_uri = get("META_OAUTH_REDIRECT_URI")
                    .ok_or(ConfigError::Missing("META_OAUTH_REDIRECT_URI"))?;
                Some(OAuthSettings::new(app_id.trim(), redirect_uri))
            }
            None => None,
        };
        Ok(Self {
            app_secrets,
            verify_token,
            store: get("META_STORE").unwrap_or_else(|| DEFAULT_STORE.to_owned()),
            graph_url: get("META_GRAPH_URL"),
            oauth,
            dialog_url: get("META_DIALOG_URL"),
            api_tokens: list(get("META_API_TOKEN"))
                .into_iter()
                .map(ApiToken::new)
                .collect(),
            allowed_hosts: list(get("META_ALLOWED_HOSTS")),
            shutdown_timeout: match get(SHUTDOWN_TIMEOUT_VAR) {
                Some(value) => seconds(SHUTDOWN_TIMEOUT_VAR, &value)?,
                None => DEFAULT_SHUTDOWN_TIMEOUT,
            },
            token_keys: get(crate::store::TOKEN_KEY_VAR)
                .map(|keys| keys.parse())
                .transpose()
                .map_err(ConfigError::TokenKey)?,
            media: MediaConfig::from_lookup(get)?,
            metrics_bind: get(METRICS_BIND_VAR)
                .map(|value| {
                    value.trim().parse().map_err(|_| ConfigError::Invalid {
                        variable: METRICS_BIND_VAR,
                        reason: format!(
                            "{value:?} is not an address to listen on: set it to e.g. \
                             127.0.0.1:9464, or unset it to serve GET /metrics behind the API token"
                        ),
                    })
                })
                .transpose()?,
        })
    }

    /// An inbox builder with the secrets, the opened store, the Graph client, single-tenant
    /// routing and, with `META_MEDIA`, kept attachments set; add handlers or limits, then
    /// `build()`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for an unknown `META_STORE` scheme, [`ConfigError::Store`] when
    /// the store cannot be opened, [`ConfigError::TokenKeyRequired`] for a PostgreSQL store
    /// without `META_TOKEN_KEY`, [`ConfigError::TokenKey`] when a SQLite store's key file cannot
    /// be used, [`ConfigError::Graph`] when `META_GRAPH_URL` is unusable,
    /// [`ConfigError::Media`] when the media store cannot be set up.
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
            .store(open_store(&self.store, self.token_keys.as_ref()).await?)
            .graph(graph.build().map_err(ConfigError::Graph)?)
            .tenancy(Tenancy::Single(TenantId::new(DEFAULT_TENANT)));
        for secret in &self.app_secrets {
            builder = builder.app_secret(secret.clone());
        }
        if let Some(oauth) = &self.oauth {
            builder = builder.oauth(oauth.clone());
        }
        if let Some(media) = &self.media {
            builder = builder.media(media.options().map_err(ConfigError::Media)?);
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

/// Opens the store a `META_STORE` URL names, sealing tokens with `token_keys` (see
/// [`InboxConfig`] for what happens without them).
async fn open_store(
    url: &str,
    token_keys: Option<&TokenKeyring>,
) -> Result<Arc<dyn MessageStore>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        variable: "META_STORE",
        reason,
    };
    if url == "memory" {
        return Ok(Arc::new(InMemoryStore::new()));
    }
    if let Some(path) = url.strip_prefix("sqlite://") {
        #[cfg(feature = "sqlite")]
        {
            let keys = match token_keys {
                Some(keys) => keys.clone(),
                None => sqlite_key_file(path)?,
            };
            let options = crate::store::SqliteOptions::new(path).token_sealer(keys);
            return Ok(Arc::new(
                crate::store::SqliteStore::open_with(options)
                    .await
                    .map_err(ConfigError::Store)?,
            ));
        }
        #[cfg(not(feature = "sqlite"))]
        return Err(invalid(format!(
            "{path:?} needs SQLite, but meta-messaging-core was built without its `sqlite` feature"
        )));
    }
    if is_postgres(url) {
        #[cfg(feature = "postgres")]
        {
            // A key file in whatever directory the process started in would be lost, or differ
            // between instances: refuse rather than guess.
            let keys = token_keys.ok_or(ConfigError::TokenKeyRequired)?.clone();
            let options = crate::store::PostgresOptions::new(url).token_sealer(keys);
            return Ok(Arc::new(
                crate::store::PostgresStore::connect_with(options)
                    .await
                    .map_err(ConfigError::Store)?,
            ));
        }
        #[cfg(not(feature = "postgres"))]
        return Err(invalid(
            "PostgreSQL needs meta-messaging-core's `postgres` feature".to_owned(),
        ));
    }
    #[cfg(not(any(feature = "sqlite", feature = "postgres")))]
    let _ = token_keys;
    // The URL may hold a password: never show it whole.
    Err(invalid(format!(
        "{:?} is not `memory`, `sqlite://PATH` or `postgres://...`",
        crate::store::redacted_url(url)
    )))
}

/// The key of a SQLite store configured without `META_TOKEN_KEY`: kept in `PATH.key`, or a
/// throwaway one for an in-memory database.
#[cfg(feature = "sqlite")]
fn sqlite_key_file(path: &str) -> Result<TokenKeyring, ConfigError> {
    if path == ":memory:" {
        return Ok(TokenKeyring::generate());
    }
    let key_file = std::path::PathBuf::from(format!("{path}.key"));
    let keys = TokenKeyring::from_key_file(&key_file).map_err(ConfigError::TokenKey)?;
    tracing::warn!(
        key_file = %key_file.display(),
        "META_TOKEN_KEY is not set: account tokens are sealed with the key in {}, next to the \
         database; for production, set META_TOKEN_KEY (`meta-messaging token-key generate`; add \
         this file's key after the new one until `meta-messaging token-key reseal` has run)",
        key_file.display()
    );
    Ok(keys)
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
    fn an_app_listens_on_bind_and_takes_its_callback_and_media_urls_under_its_mount() {
        let app = |vars: &[(&str, &str)]| {
            let vars: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            InboxConfig::for_app(|name| vars.get(name).cloned(), "/api/meta/").unwrap()
        };
        let (bind, plain) = app(&REQUIRED);
        assert_eq!(bind, DEFAULT_BIND);
        assert!(plain.oauth.is_none() && plain.media.is_none());

        let (bind, config) = app(&[
            REQUIRED[0],
            REQUIRED[1],
            ("BIND", "0.0.0.0:8080"),
            ("META_APP_ID", "1234"),
            ("META_MEDIA", "/var/lib/inbox/media"),
        ]);
        assert_eq!(bind, "0.0.0.0:8080");
        assert_eq!(
            config.oauth.unwrap().redirect_uri,
            "http://0.0.0.0:8080/api/meta/oauth/callback"
        );
        assert_eq!(config.media.unwrap().mount.as_deref(), Some("/api/meta"));

        let (_, config) = app(&[
            REQUIRED[0],
            REQUIRED[1],
            ("META_APP_ID", "1234"),
            (
                "META_OAUTH_REDIRECT_URI",
                "https://inbox.example.com/meta/oauth/callback",
            ),
        ]);
        assert_eq!(
            config.oauth.unwrap().redirect_uri,
            "https://inbox.example.com/meta/oauth/callback",
            "a callback set is kept"
        );
    }

    #[test]
    fn api_tokens_come_from_a_list_or_are_generated() {
        let listed = config(&[REQUIRED[0], REQUIRED[1], ("META_API_TOKEN", " new , old,,")])
            .expect("valid")
            .access();
        assert!(listed.generated.is_none());
        let tokens = listed.access.tokens().expect("API tokens");
        assert!(tokens.tenant_of("new").is_some() && tokens.tenant_of("old").is_some());
        assert!(tokens.tenant_of("").is_none());
        let blank = config(&[REQUIRED[0], REQUIRED[1], ("META_API_TOKEN", " , ")])
            .expect("valid")
            .access();
        let generated = blank
            .generated
            .expect("a token is generated when none is listed");
        let tokens = blank.access.tokens().expect("API tokens");
        assert!(tokens.tenant_of(generated.expose()).is_some());
        assert!(!tokens.is_empty());
    }

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
    fn the_metrics_address_is_a_socket_address_naming_the_variable_when_not() {
        assert_eq!(config(&REQUIRED).expect("valid").metrics_bind, None);
        let mut vars = REQUIRED.to_vec();
        vars.push(("META_METRICS_BIND", "127.0.0.1:9464"));
        assert_eq!(
            config(&vars).expect("valid").metrics_bind,
            Some(SocketAddr::from(([127, 0, 0, 1], 9464)))
        );
        vars.pop();
        vars.push(("META_METRICS_BIND", "localhost"));
        let err = config(&vars).expect_err("not an address");
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    variable: "META_METRICS_BIND",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("127.0.0.1:9464"), "{err}");
    }

    #[test]
    fn the_shutdown_timeout_is_whole_seconds_naming_the_variable_when_not() {
        let defaults = config(&REQUIRED).expect("valid");
        assert_eq!(defaults.shutdown_timeout, DEFAULT_SHUTDOWN_TIMEOUT);
        let mut vars = REQUIRED.to_vec();
        vars.push(("META_SHUTDOWN_TIMEOUT_SECS", " 7 "));
        assert_eq!(
            config(&vars).expect("valid").shutdown_timeout,
            Duration::from_secs(7)
        );
        vars.pop();
        vars.push(("META_SHUTDOWN_TIMEOUT_SECS", "7s"));
        let err = config(&vars).expect_err("not a number");
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    variable: "META_SHUTDOWN_TIMEOUT_SECS",
                    ..
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("META_SHUTDOWN_TIMEOUT_SECS") && text.contains("set it to e.g. 25"),
            "{text}"
        );
    }

    #[test]
    fn the_effective_configuration_shows_every_variable_and_no_secret() {
        let key = TokenKeyring::generate_key();
        let vars = [
            ("META_APP_SECRET", "app-secret-1,app-secret-2"),
            ("META_VERIFY_TOKEN", "verify-token-3"),
            ("META_STORE", "postgres://app:pg-pass-4@db:5432/inbox"),
            ("META_API_TOKEN", "api-token-5"),
            ("META_TOKEN_KEY", key.as_str()),
            ("META_APP_ID", "1234567890"),
            ("META_OAUTH_REDIRECT_URI", "https://inbox.example.com/cb"),
            ("META_ALLOWED_HOSTS", "inbox.example.com"),
        ];
        let shown = config(&vars).expect("valid").to_string();
        for secret in [
            "app-secret-1",
            "app-secret-2",
            "verify-token-3",
            "pg-pass-4",
            "api-token-5",
            key.as_str(),
        ] {
            assert!(!shown.contains(secret), "{secret} shown in\n{shown}");
        }
        for variable in InboxConfig::VARIABLES {
            assert!(shown.contains(variable), "{variable} missing from\n{shown}");
        }
        for value in [
            "set (2 secrets, redacted)",
            "postgres://app:REDACTED@db:5432/inbox",
            "1234567890",
            "https://inbox.example.com/cb",
            "inbox.example.com",
            "25",
        ] {
            assert!(shown.contains(value), "{value} missing from\n{shown}");
        }
    }

    #[test]
    fn no_variable_at_all_is_unconfigured() {
        assert!(InboxConfig::is_unconfigured(|_| None));
        assert!(InboxConfig::is_unconfigured(
            |name| (name == "META_STORE").then(|| " ".to_owned())
        ));
        assert!(!InboxConfig::is_unconfigured(
            |name| (name == "META_STORE").then(|| "memory".to_owned())
        ));
        assert!(!InboxConfig::is_unconfigured(|name| (name
            == "META_SHUTDOWN_TIMEOUT_SECS")
            .then(|| "5".to_owned())));
    }

    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn an_unreachable_postgres_fails_fast_with_its_cause() {
        let key = TokenKeyring::generate_key();
        let mut vars = REQUIRED.to_vec();
        vars.push(("META_STORE", "postgres://postgres@127.0.0.1:1/test"));
        vars.push(("META_TOKEN_KEY", &key));
        let started = std::time::Instant::now();
        let err = config(&vars)
            .expect("read")
            .build()
            .await
            .expect_err("nothing listens on port 1");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(matches!(err, ConfigError::Store(_)), "{err:?}");
        let chain = crate::error::ErrorChain(&err).to_string();
        assert!(chain.contains("META_STORE"), "{chain}");
        assert!(chain.to_lowercase().contains("refused"), "{chain}");
        assert!(!chain.contains("timed out"), "{chain}");
    }

    #[test]
    fn a_secret_list_without_a_secret_is_missing() {
        assert!(matches!(
            config(&[("META_APP_SECRET", " , ,"), ("META_VERIFY_TOKEN", "v")]),
            Err(ConfigError::Missing("META_APP_SECRET"))
        ));
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
        vars.push(("META_APP_ID", "1234567890"));
        // Where Meta redirects to depends on where the app serves the callback: the app says.
        assert!(matches!(
            config(&vars),
            Err(ConfigError::Missing("META_OAUTH_REDIRECT_URI"))
        ));

        vars.extend([
            ("META_OAUTH_REDIRECT_URI", "https://inbox.example.com/cb"),
            ("META_DIALOG_URL", "http://127.0.0.1:8787"),
        ]);
        let explicit = config(&vars).expect("valid");
        let oauth = explicit.oauth.expect("OAuth is on");
        assert_eq!(oauth.app_id.as_str(), "1234567890");
        assert_eq!(oauth.redirect_uri, "https://inbox.example.com/cb");
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

    #[tokio::test]
    async fn an_unknown_store_url_is_not_shown_with_its_password() {
        let mut vars = REQUIRED.to_vec();
        vars.push(("META_STORE", "redis://app:redis-pass-7@localhost/0"));
        let err = config(&vars)
            .expect("read")
            .build()
            .await
            .expect_err("redis is not a store");
        assert!(!err.to_string().contains("redis-pass-7"), "{err}");
    }

    #[tokio::test]
    async fn meta_media_turns_keeping_attachments_on() {
        let dir = tempfile::tempdir().expect("dir");
        let kept = dir.path().join("kept");
        let mut vars = REQUIRED.to_vec();
        let location = format!("file://{}", kept.display());
        vars.extend([
            ("META_STORE", "memory"),
            ("META_MEDIA", &location),
            ("META_MEDIA_MAX_BYTES", "1000"),
        ]);
        let read = config(&vars).expect("valid");
        let media = read.media.as_ref().expect("media is on");
        assert_eq!(
            media.location,
            super::super::MediaLocation::Directory(kept.clone())
        );
        assert_eq!(media.max_bytes, 1000);
        read.build().await.expect("build");
        assert!(kept.is_dir(), "building the inbox opens the media store");

        assert!(config(&REQUIRED).expect("valid").media.is_none());
        vars.push(("META_MEDIA_RETENTION_DAYS", "a week"));
        let err = config(&vars).expect_err("not a number of days");
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    variable: "META_MEDIA_RETENTION_DAYS",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn an_invalid_token_key_is_refused_naming_the_variable() {
        let mut vars = REQUIRED.to_vec();
        vars.push(("META_TOKEN_KEY", "too-short"));
        let err = config(&vars).expect_err("not a key");
        assert!(matches!(err, ConfigError::TokenKey(_)), "{err:?}");
        let source = std::error::Error::source(&err)
            .expect("the key error")
            .to_string();
        assert!(source.contains("META_TOKEN_KEY"), "{source}");
        assert!(source.contains("token-key generate"), "{source}");

        let key = TokenKeyring::generate_key();
        vars.pop();
        vars.push(("META_TOKEN_KEY", &key));
        let read = config(&vars).expect("a valid key");
        let shown = format!("{read:?}");
        assert!(!shown.contains(&key), "{shown}");
        assert!(read.token_keys.is_some());
    }

    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn a_postgres_store_needs_a_token_key() {
        let mut vars = REQUIRED.to_vec();
        vars.push(("META_STORE", "postgres://app@127.0.0.1:1/inbox"));
        let err = config(&vars)
            .expect("read")
            .build()
            .await
            .expect_err("no key");
        assert!(matches!(err, ConfigError::TokenKeyRequired), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("META_TOKEN_KEY") && text.contains("token-key generate"),
            "{text}"
        );
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sqlite_store_without_a_token_key_keeps_one_beside_it() {
        use crate::platform::Platform;
        use crate::store::{AccountToken, NewAccount};

        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("inbox.db");
        let mut vars = REQUIRED.to_vec();
        let url = format!("sqlite://{}", db.display());
        vars.push(("META_STORE", &url));
        let inbox = config(&vars).expect("read").build().await.expect("build");
        let key_file = dir.path().join("inbox.db.key");
        let keys = TokenKeyring::from_key_file(&key_file).expect("the key file was created");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let tenant = TenantId::new(DEFAULT_TENANT);
        let account = NewAccount::new(Platform::Messenger, "104417552380421").with_token(
            AccountToken::Page(crate::secret::PageAccessToken::new("EAAB-config-token")),
            None,
        );
        let saved = inbox
            .store()
            .upsert_account(&tenant, &account)
            .await
            .expect("save");
        let token = saved.token.expect("kept");
        assert_eq!(
            token.scheme(),
            Some(crate::store::TokenSealer::scheme(&keys)),
            "sealed with the key file's key"
        );
    }
}
