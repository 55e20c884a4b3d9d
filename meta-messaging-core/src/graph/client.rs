//! [`GraphClient`] and its builder.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::secret::AppSecret;

use super::error::{GraphError, Result};
use super::retry::RetryPolicy;
use super::throttle::Throttle;
use super::token::Host;
use super::usage::RateLimitUsage;

/// The Graph API version used when none is configured.
pub const DEFAULT_VERSION: &str = "v23.0";
/// The default base URL of the Graph API.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
/// The default base URL of the Instagram API with Instagram Login.
pub const DEFAULT_INSTAGRAM_URL: &str = "https://graph.instagram.com";
/// The default base URL of the Facebook Login dialog.
pub const DEFAULT_DIALOG_URL: &str = "https://www.facebook.com";

/// A client of Meta's Graph API: cheap to clone (an `Arc` inside), `Send + Sync`, one per
/// application.
///
/// Given the app secret, every call made with an access token also carries `appsecret_proof`,
/// so the app can turn on Meta's "Require App Secret" setting.
///
/// ```
/// use std::time::Duration;
/// use meta_messaging_core::graph::{GraphClient, RetryPolicy, Throttle};
/// use meta_messaging_core::secret::AppSecret;
///
/// let client = GraphClient::builder()
///     .app_secret(AppSecret::new("app-secret"))
///     .version("v23.0")
///     .timeout(Duration::from_secs(20))
///     .retry(RetryPolicy::default().max_retries(2))
///     .throttle(Throttle::per_second(200))
///     .build()?;
/// assert_eq!(client.version(), "v23.0");
/// # Ok::<(), meta_messaging_core::graph::GraphError>(())
/// ```
#[derive(Clone, Debug)]
pub struct GraphClient {
    pub(crate) inner: Arc<Inner>,
    /// The key of `appsecret_proof`. Outside `Inner` so an inbox can give a client it was handed
    /// its own app secret without rebuilding the connection pool, throttle and usage.
    pub(crate) app_secret: Option<AppSecret>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) graph_url: String,
    pub(crate) instagram_url: String,
    pub(crate) dialog_url: String,
    pub(crate) version: String,
    pub(crate) timeout: Duration,
    pub(crate) user_agent: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) throttle: Option<Throttle>,
    pub(crate) last_usage: Mutex<RateLimitUsage>,
}

impl GraphClient {
    /// A builder with the defaults: version `v23.0`, graph.facebook.com, 30 s timeout, three
    /// retries of transient failures, no throttle.
    pub fn builder() -> GraphClientBuilder {
        GraphClientBuilder::default()
    }

    /// A client with every default.
    ///
    /// # Errors
    /// [`GraphError::Configuration`] when no HTTP client can be built (no TLS backend enabled).
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// The Graph API version calls use (`v23.0`).
    pub fn version(&self) -> &str {
        &self.inner.version
    }

    /// The rate-limit usage reported by the most recent response that carried usage headers.
    pub fn last_usage(&self) -> RateLimitUsage {
        self.inner
            .last_usage
            .lock()
            .map(|u| u.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Whether calls carry `appsecret_proof` (the client was given the app secret).
    pub fn sends_appsecret_proof(&self) -> bool {
        self.app_secret.is_some()
    }

    /// This client, with `secret` as the key of `appsecret_proof` unless it already has one.
    /// It shares the connection pool, throttle and rate-limit usage of `self`.
    #[must_use]
    pub(crate) fn or_app_secret(mut self, secret: &AppSecret) -> Self {
        if self.app_secret.is_none() {
            self.app_secret = Some(secret.clone());
        }
        self
    }

    pub(crate) fn base(&self, host: Host) -> &str {
        match host {
            Host::Facebook => &self.inner.graph_url,
            Host::Instagram => &self.inner.instagram_url,
        }
    }

    /// `{base}/{version}/{path}`.
    pub(crate) fn url(&self, host: Host, path: &str) -> String {
        format!(
            "{}/{}/{}",
            self.base(host),
            self.inner.version,
            path.trim_start_matches('/')
        )
    }
}

/// Builds a [`GraphClient`].
#[derive(Debug)]
#[must_use]
pub struct GraphClientBuilder {
    version: String,
    graph_url: String,
    instagram_url: String,
    dialog_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    throttle: Option<Throttle>,
    app_secret: Option<AppSecret>,
}

impl Default for GraphClientBuilder {
    fn default() -> Self {
        Self {
            version: DEFAULT_VERSION.to_owned(),
            graph_url: DEFAULT_GRAPH_URL.to_owned(),
            instagram_url: DEFAULT_INSTAGRAM_URL.to_owned(),
            dialog_url: DEFAULT_DIALOG_URL.to_owned(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("meta-messaging/", env!("CARGO_PKG_VERSION")).to_owned(),
            http: None,
            retry: RetryPolicy::default(),
            throttle: None,
            app_secret: None,
        }
    }
}

impl GraphClientBuilder {
    /// The Graph API version (`v23.0`); versions live about two years.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The base URL of the Graph API (`https://graph.facebook.com`), for a proxy or a mock.
    pub fn graph_url(mut self, url: impl Into<String>) -> Self {
        self.graph_url = url.into();
        self
    }

    /// The base URL for Instagram Login tokens (`https://graph.instagram.com`).
    pub fn instagram_url(mut self, url: impl Into<String>) -> Self {
        self.instagram_url = url.into();
        self
    }

    /// The base URL of the Login dialog in authorize URLs (`https://www.facebook.com`).
    pub fn dialog_url(mut self, url: impl Into<String>) -> Self {
        self.dialog_url = url.into();
        self
    }

    /// The timeout of one attempt, from sending to reading the whole body (30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The connect timeout (10 s); ignored when [`http_client`](Self::http_client) is given.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` header (`meta-messaging/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Uses your own `reqwest::Client` (its TLS, proxy and pool settings); start it from
    /// [`http_client_builder`](super::http_client_builder) for the TLS backend of this crate's
    /// features. The timeout and user agent configured here are still applied to each request.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The retry policy ([`RetryPolicy::default`]; [`RetryPolicy::none`] to disable).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Spaces sends of each account; off by default.
    pub fn throttle(mut self, throttle: Throttle) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// The app secret: every call made with an access token to `graph.facebook.com` then
    /// carries `appsecret_proof` (hex HMAC-SHA256 of the token keyed with this secret), which
    /// Meta checks, and demands once "Require App Secret" is on in the app's advanced settings.
    /// Calls with an Instagram Login token (`graph.instagram.com`) carry none: those tokens
    /// belong to the app's Instagram app, whose secret is a different one.
    pub fn app_secret(mut self, secret: AppSecret) -> Self {
        self.app_secret = Some(secret);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`GraphError::Configuration`] when a base URL is not an absolute http(s) URL, the version
    /// is empty, or the HTTP client cannot be built.
    pub fn build(self) -> Result<GraphClient> {
        let graph_url = base_url(&self.graph_url)?;
        let instagram_url = base_url(&self.instagram_url)?;
        let dialog_url = base_url(&self.dialog_url)?;
        let version = self.version.trim().trim_matches('/').to_owned();
        if version.is_empty() || version.contains('/') {
            return Err(GraphError::config(format!(
                "API version {:?} is not of the form v23.0",
                self.version
            )));
        }
        let http = match self.http {
            Some(http) => http,
            None => super::http_client_builder()?
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| GraphError::Configuration {
                    message: "cannot build the HTTP client (is a TLS feature enabled?)".into(),
                    source: Some(Box::new(e.without_url())),
                })?,
        };
        Ok(GraphClient {
            inner: Arc::new(Inner {
                http,
                graph_url,
                instagram_url,
                dialog_url,
                version,
                timeout: self.timeout,
                user_agent: self.user_agent,
                retry: self.retry,
                throttle: self.throttle,
                last_usage: Mutex::new(RateLimitUsage::default()),
            }),
            app_secret: self.app_secret,
        })
    }
}

fn base_url(raw: &str) -> Result<String> {
    let parsed = url::Url::parse(raw).map_err(|e| GraphError::Configuration {
        message: format!("base URL {raw:?} does not parse"),
        source: Some(Box::new(e)),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
        return Err(GraphError::config(format!(
            "base URL {raw:?} must be http(s) without a query"
        )));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<GraphClient>();
    }

    #[test]
    fn urls_join_base_version_and_path() {
        let client = GraphClient::builder()
            .graph_url("http://127.0.0.1:9/")
            .version("v24.0")
            .build()
            .unwrap();
        assert_eq!(
            client.url(Host::Facebook, "/123/messages"),
            "http://127.0.0.1:9/v24.0/123/messages"
        );
        assert_eq!(
            client.url(Host::Instagram, "me/messages"),
            "https://graph.instagram.com/v24.0/me/messages"
        );
    }

    #[test]
    fn bad_configuration_is_an_error() {
        for builder in [
            GraphClient::builder().graph_url("not a url"),
            GraphClient::builder().graph_url("ftp://example.com"),
            GraphClient::builder().version(""),
        ] {
            let err = builder.build().unwrap_err();
            assert_eq!(err.kind(), crate::graph::ErrorKind::Configuration, "{err}");
        }
    }
}
