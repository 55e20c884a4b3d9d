//! Who may call the tenant routes: [`Access`], the built-in [`ApiTokens`] check and the page's
//! session cookie.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Proof, RequestHeaders, bearer, session};
use crate::ids::TenantId;
use crate::secret::ApiToken;
use crate::secret::hmac_sha256;

/// The name of the session cookie the page signs in with.
pub const SESSION_COOKIE: &str = "mm_session";

/// How long a session cookie lasts unless [`ApiTokens::session_ttl`] says otherwise.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

impl ApiToken {
    /// A new random token: 32 bytes from the operating system's generator, as 64 hex digits.
    pub fn generate() -> Self {
        Self::new(random_hex(32))
    }
}

/// The built-in check of [`Access::api_tokens`]: one or more API tokens, each mapped to a tenant.
///
/// Several tokens for one tenant allow rotation: add the new one, move the clients, remove the
/// old one. A presented token is compared with every configured one in constant time, so the
/// response time tells nothing about how much of it was right.
///
/// ```
/// use meta_messaging_core::contract::{Access, ApiToken, ApiTokens};
/// use meta_messaging_core::ids::TenantId;
///
/// let tokens = ApiTokens::new()
///     .token(ApiToken::new("a-long-random-token-for-the-shop"), TenantId::new("shop"))
///     .token(ApiToken::new("a-long-random-token-for-the-cafe"), TenantId::new("cafe"));
/// let access = Access::api_tokens(tokens);
/// ```
#[derive(Clone)]
pub struct ApiTokens {
    tokens: Vec<Entry>,
    session_ttl: Duration,
    codes: Arc<Mutex<OneTimeCodes>>,
}

/// Unused one-time codes, by SHA-256: the tenant each signs in and when it expires (seconds).
type OneTimeCodes = HashMap<[u8; 32], (TenantId, u64)>;

#[derive(Clone)]
struct Entry {
    token: ApiToken,
    /// SHA-256 of the token: compared in constant time and named in session cookies.
    digest: [u8; 32],
    tenant: TenantId,
}

impl fmt::Debug for ApiTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiTokens")
            .field(
                "tenants",
                &self.tokens.iter().map(|e| &e.tenant).collect::<Vec<_>>(),
            )
            .field("session_ttl", &self.session_ttl)
            .finish_non_exhaustive()
    }
}

impl Default for ApiTokens {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiTokens {
    /// No tokens yet: add them with [`token`](Self::token). With none, every tenant request is
    /// refused.
    pub fn new() -> Self {
        Self {
            tokens: Vec::new(),
            session_ttl: DEFAULT_SESSION_TTL,
            codes: Arc::default(),
        }
    }

    /// Adds a token that acts for `tenant`. An empty token is ignored: it would be a key
    /// anyone has.
    #[must_use]
    pub fn token(mut self, token: ApiToken, tenant: TenantId) -> Self {
        if !token.expose().is_empty() {
            let digest = sha256(token.expose().as_bytes());
            self.tokens.push(Entry {
                token,
                digest,
                tenant,
            });
        }
        self
    }

    /// How long a session cookie signed in with a token lasts (default
    /// [`DEFAULT_SESSION_TTL`]).
    #[must_use]
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// Whether no token is configured.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// A one-time sign-in code for the page of `tenant`'s inbox, for a link the app prints
    /// (`http://127.0.0.1:3000/?token=<code>`): the page trades it for a session cookie at
    /// `POST /session`, and it then no longer works. Codes live in this process's memory and
    /// expire with [`session_ttl`](Self::session_ttl).
    ///
    /// `None` when no token acts for `tenant` (a code for it could never sign in).
    pub fn one_time_code(&self, tenant: &TenantId) -> Option<ApiToken> {
        if !self.tokens.iter().any(|entry| entry.tenant == *tenant) {
            return None;
        }
        let code = random_hex(24);
        let now = now_secs();
        let mut codes = self.codes.lock().ok()?;
        // Codes nobody used are dropped once expired, so printing links never grows the map.
        codes.retain(|_, (_, expires)| *expires > now);
        codes.insert(
            sha256(code.as_bytes()),
            (tenant.clone(), now + self.session_ttl.as_secs()),
        );
        Some(ApiToken::new(code))
    }

    /// The tenant a request's credentials act for, and how they proved it: the bearer token
    /// when there is an `Authorization: Bearer` header (a wrong one is not made up for by a cookie),
    /// otherwise the session cookie.
    pub(crate) fn credentials(&self, headers: &RequestHeaders<'_>) -> Option<(&TenantId, Proof)> {
        // Only a Bearer header counts as the caller's token: a proxy's `Basic` credentials in
        // front of the page must not shut the session cookie out.
        match headers.authorization.and_then(bearer) {
            Some(token) => self.tenant_of(token).map(|tenant| (tenant, Proof::Bearer)),
            None => session::cookie(headers.cookie)
                .and_then(|value| self.session_tenant(value))
                .map(|tenant| (tenant, Proof::SessionCookie)),
        }
    }

    /// The tenant a request's bearer token or session cookie acts for, checked as the inbox
    /// routes check them: for read-only routes a host serves beside the inbox's (the page's own
    /// data), so they are guarded alike. A route of the host's that changes state must also
    /// refuse cross-site requests, as the inbox's do.
    pub fn tenant_of_request(&self, headers: &RequestHeaders<'_>) -> Option<&TenantId> {
        self.credentials(headers).map(|(tenant, _)| tenant)
    }

    /// The tenant of a presented bearer token.
    pub(crate) fn tenant_of(&self, presented: &str) -> Option<&TenantId> {
        self.entry_of(presented).map(|entry| &entry.tenant)
    }

    /// Trades a token or a one-time code for a session cookie's value.
    pub(crate) fn sign_in(&self, presented: &str) -> Option<(TenantId, String)> {
        let entry = self.entry_of(presented).or_else(|| {
            let (tenant, expires) = self
                .codes
                .lock()
                .ok()?
                .remove(&sha256(presented.as_bytes()))?;
            (expires > now_secs())
                .then(|| self.tokens.iter().find(|e| e.tenant == tenant))
                .flatten()
        })?;
        let expires = now_secs() + self.session_ttl.as_secs();
        Some((entry.tenant.clone(), session_value(entry, expires)))
    }

    fn entry_of(&self, presented: &str) -> Option<&Entry> {
        // Every entry is compared, so the time taken does not depend on which one matched.
        let digest = sha256(presented.as_bytes());
        let mut found = None;
        for entry in &self.tokens {
            if bool::from(entry.digest.ct_eq(&digest)) {
                found = Some(entry);
            }
        }
        found
    }

    /// The tenant of a session cookie's value, while it is unexpired and the token that signed it
    /// is still configured (removing a token ends its sessions).
    pub(crate) fn session_tenant(&self, value: &str) -> Option<&TenantId> {
        let mut parts = value.splitn(3, '.');
        let (expires, id, _mac) = (parts.next()?, parts.next()?, parts.next()?);
        let expires: u64 = expires.parse().ok()?;
        if expires <= now_secs() {
            return None;
        }
        let entry = self
            .tokens
            .iter()
            .find(|e| hex::encode(&e.digest[..8]) == id)?;
        let expected = session_value(entry, expires);
        bool::from(expected.as_bytes().ct_eq(value.as_bytes())).then_some(&entry.tenant)
    }

    pub(crate) fn session_max_age(&self) -> u64 {
        self.session_ttl.as_secs()
    }
}

/// `expires.tokenid.mac`: the MAC is keyed by the token itself, so the cookie is as strong as the
/// token, works on every instance that knows the token, and dies with it.
fn session_value(entry: &Entry, expires: u64) -> String {
    let id = hex::encode(&entry.digest[..8]);
    let payload = format!("session|{}|{expires}", entry.tenant);
    let mac = hex::encode(hmac_sha256(
        entry.token.expose().as_bytes(),
        payload.as_bytes(),
    ));
    format!("{expires}.{id}.{mac}")
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn random_hex(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The access decision for the tenant routes: every route but `GET/POST /webhook` (Meta calls
/// it, and the signature check guards it) and `GET /oauth/callback` (its tenant travels in the
/// signed state).
///
/// | decision | who is let in | use it when |
/// |---|---|---|
/// | [`Access::api_tokens`] | requests with `Authorization: Bearer <token>` of one of the tokens, or the session cookie a token signed in | the inbox is its own service, or its page is served by your app |
/// | the adapters' `router_with_tenants` / `configure_with_tenants` | whoever your tenant resolver accepts | your app has users and sessions of its own |
/// | [`Access::trusted_upstream`] | everyone who reaches the port | a gateway in front already authenticates every request; logged at start-up as a warning |
///
/// The host's own authentication is the third choice: the adapters' `router_with_tenants` and
/// `configure_with_tenants` take a tenant resolver instead of an `Access`.
#[derive(Debug, Clone)]
pub struct Access {
    pub(crate) kind: AccessKind,
    pub(crate) hosts: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum AccessKind {
    Tokens(ApiTokens),
    TrustedUpstream,
    HostResolver,
}

impl Access {
    /// The built-in bearer-token check: a tenant request needs `Authorization: Bearer <token>`
    /// with one of `tokens`, or the session cookie that `POST /session` sets for one.
    pub fn api_tokens(tokens: ApiTokens) -> Self {
        Self {
            kind: AccessKind::Tokens(tokens),
            hosts: Vec::new(),
        }
    }

    /// No check at all: every request that reaches the routes acts for the inbox's single
    /// tenant. Only for a host that authenticates every request before it gets here (a gateway,
    /// a reverse proxy with single sign-on); anyone who can reach the port can read every
    /// message and send as your Pages. The adapters log a warning when they mount it.
    pub fn trusted_upstream() -> Self {
        Self {
            kind: AccessKind::TrustedUpstream,
            hosts: Vec::new(),
        }
    }

    /// The host's tenant resolver decides; what the adapters' `router_with_tenants` and
    /// `configure_with_tenants` use. A request the resolver did not map to a tenant is refused.
    pub(crate) fn tenant_resolver() -> Self {
        Self {
            kind: AccessKind::HostResolver,
            hosts: Vec::new(),
        }
    }

    /// The host names (with the port, when it is not the scheme's default:
    /// `inbox.example.com`, `127.0.0.1:3000`) the tenant routes answer to; any other `Host`
    /// is refused with 421, so a DNS-rebinding page that points its own name at your server
    /// gets nothing. Without this setting only loopback names (`localhost`, `127.0.0.1`,
    /// `[::1]`, any port) are accepted, except on routes guarded by a tenant resolver, which
    /// accept any host: set it to your public name when you deploy.
    #[must_use]
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hosts = hosts
            .into_iter()
            .map(|h| h.into().to_ascii_lowercase())
            .collect();
        self
    }

    /// Whether this is [`trusted_upstream`](Self::trusted_upstream), which adapters log.
    pub fn is_trusted_upstream(&self) -> bool {
        matches!(self.kind, AccessKind::TrustedUpstream)
    }

    /// The API tokens, for [`api_tokens`](Self::api_tokens).
    pub fn tokens(&self) -> Option<&ApiTokens> {
        match &self.kind {
            AccessKind::Tokens(tokens) => Some(tokens),
            _ => None,
        }
    }

    /// Whether a `Host` header value names this server.
    pub(crate) fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(host) = host.map(str::to_ascii_lowercase) else {
            // HTTP/1.1 requires Host; a request without one is not from a browser.
            return self.hosts.is_empty();
        };
        if self.hosts.is_empty() {
            // The host's own session cookies are bound to its own name, so a rebinding page
            // gets nothing from routes its resolver guards; the others keep to loopback.
            return matches!(self.kind, AccessKind::HostResolver) || is_loopback_host(&host);
        }
        self.hosts.contains(&host)
    }
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                host
            }
        })
    };
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> ApiTokens {
        ApiTokens::new()
            .token(ApiToken::new("token-a"), TenantId::new("a"))
            .token(ApiToken::new("token-b"), TenantId::new("b"))
            .token(ApiToken::new(""), TenantId::new("nobody"))
    }

    #[test]
    fn each_token_acts_for_its_tenant_and_empty_ones_are_ignored() {
        let t = tokens();
        assert_eq!(t.tenant_of("token-a").map(TenantId::as_str), Some("a"));
        assert_eq!(t.tenant_of("token-b").map(TenantId::as_str), Some("b"));
        assert_eq!(t.tenant_of("token-c"), None);
        assert_eq!(t.tenant_of(""), None);
    }

    #[test]
    fn sessions_are_signed_by_their_token_and_die_with_it() {
        let t = tokens();
        let (tenant, cookie) = t.sign_in("token-b").expect("signed in");
        assert_eq!(tenant.as_str(), "b");
        assert_eq!(t.session_tenant(&cookie).map(TenantId::as_str), Some("b"));
        // Tampering with the expiry or the MAC fails.
        let (expires, rest) = cookie.split_once('.').expect("dotted");
        let later = format!("{}.{rest}", expires.parse::<u64>().expect("number") + 1000);
        assert_eq!(t.session_tenant(&later), None);
        assert_eq!(t.session_tenant(&format!("{cookie}0")), None);
        // Rotating the token out ends the session.
        let rotated = ApiTokens::new().token(ApiToken::new("token-c"), TenantId::new("b"));
        assert_eq!(rotated.session_tenant(&cookie), None);
        assert!(t.sign_in("wrong").is_none());
    }

    #[test]
    fn an_expired_session_is_refused() {
        let t = tokens().session_ttl(Duration::ZERO);
        let (_, cookie) = t.sign_in("token-a").expect("signed in");
        assert_eq!(t.session_tenant(&cookie), None);
    }

    #[test]
    fn one_time_codes_work_once() {
        let t = tokens();
        let code = t.one_time_code(&TenantId::new("a")).expect("a has a token");
        assert!(
            t.tenant_of(code.expose()).is_none(),
            "a code is not a bearer token"
        );
        let (tenant, _) = t.sign_in(code.expose()).expect("first use");
        assert_eq!(tenant.as_str(), "a");
        assert!(t.sign_in(code.expose()).is_none(), "second use");
        assert!(
            t.one_time_code(&TenantId::new("c")).is_none(),
            "no code for a tenant no token acts for"
        );
    }

    #[test]
    fn a_proxy_s_basic_credentials_leave_the_session_cookie_in_charge() {
        let t = tokens();
        let (_, value) = t.sign_in("token-a").expect("a token signs in");
        let cookie = format!("{SESSION_COOKIE}={value}");
        let behind_basic = RequestHeaders {
            authorization: Some("Basic dXNlcjpwYXNz"),
            cookie: Some(&cookie),
            ..RequestHeaders::default()
        };
        let (tenant, proof) = t.credentials(&behind_basic).expect("the cookie counts");
        assert_eq!(tenant.as_str(), "a");
        assert!(matches!(proof, Proof::SessionCookie));
        let wrong_bearer = RequestHeaders {
            authorization: Some("Bearer token-x"),
            cookie: Some(&cookie),
            ..RequestHeaders::default()
        };
        assert!(
            t.credentials(&wrong_bearer).is_none(),
            "a wrong bearer token is not made up for by a cookie"
        );
    }

    #[test]
    fn hosts() {
        let open = Access::api_tokens(tokens());
        for host in [
            "127.0.0.1:3000",
            "localhost",
            "LOCALHOST:80",
            "[::1]:8080",
            "127.1.2.3",
        ] {
            assert!(open.host_allowed(Some(host)), "{host}");
        }
        for host in ["evil.example", "127.0.0.1.evil.example:3000", "10.0.0.1"] {
            assert!(!open.host_allowed(Some(host)), "{host}");
        }
        assert!(Access::tenant_resolver().host_allowed(Some("inbox.example.com")));
        let named = Access::trusted_upstream().allowed_hosts(["Inbox.Example.com"]);
        assert!(named.host_allowed(Some("inbox.example.com")));
        assert!(!named.host_allowed(Some("127.0.0.1:3000")));
        assert!(!named.host_allowed(None));
    }

    #[test]
    fn debug_shows_no_token() {
        let debug = format!("{:?} {:?}", tokens(), ApiToken::new("token-a"));
        assert!(!debug.contains("token-a"), "{debug}");
    }
}
