//! One Graph API call: building it, sending it with retries, reading the answer.

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::client::GraphClient;
use super::error::{BODY_PREFIX_LEN, GraphError, MetaError, Result};
use super::retry::Idempotency;
use super::token::{Credential, Host};
use super::usage::RateLimitUsage;
use crate::secret::{AppSecret, hmac_sha256};
use crate::telemetry::record as telemetry;

/// The response header in which Meta sends the `fbtrace_id` of a call.
const FB_TRACE_ID_HEADER: &str = "x-fb-trace-id";

/// The query parameter that carries the proof of the app secret.
pub(crate) const APPSECRET_PROOF: &str = "appsecret_proof";

/// A part of a multipart body, kept as bytes so each retry can rebuild the form.
#[derive(Debug, Clone)]
pub(crate) enum Part {
    Text(&'static str, String),
    File {
        name: &'static str,
        bytes: Bytes,
        filename: String,
        mime: String,
    },
}

#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Bytes),
    Multipart(Vec<Part>),
}

/// A call, described once and sent as many times as the retry policy allows.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    method: Method,
    host: Host,
    path: String,
    query: Vec<(&'static str, String)>,
    /// An `application/x-www-form-urlencoded` body (where secrets go, never the query string);
    /// only for calls without a JSON or multipart body.
    form: Vec<(&'static str, String)>,
    body: Body,
    idempotency: Idempotency,
    credential: Option<&'a Credential>,
    masked: Vec<String>,
    throttle_key: Option<&'a str>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: Method, path: impl Into<String>) -> Self {
        let idempotency = if method == Method::GET {
            Idempotency::Idempotent
        } else {
            Idempotency::NotIdempotent
        };
        Self {
            method,
            host: Host::Facebook,
            path: path.into(),
            query: Vec::new(),
            form: Vec::new(),
            body: Body::None,
            idempotency,
            credential: None,
            masked: Vec::new(),
            throttle_key: None,
        }
    }

    pub(crate) fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    pub(crate) fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    /// Sends the token as `Authorization: Bearer` and routes to the token's host.
    pub(crate) fn auth(mut self, credential: &'a Credential) -> Self {
        self.host = credential.host();
        self.credential = Some(credential);
        self
    }

    pub(crate) fn host(mut self, host: Host) -> Self {
        self.host = host;
        self
    }

    pub(crate) fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    /// A query parameter that is a secret: masked in any error body that echoes it.
    pub(crate) fn secret_query(mut self, key: &'static str, value: &str) -> Self {
        self.masked.push(value.to_owned());
        self.query.push((key, value.to_owned()));
        self
    }

    /// A field of an `application/x-www-form-urlencoded` body.
    pub(crate) fn form(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.form.push((key, value.into()));
        self
    }

    /// A form field that is a secret: sent in the body (never in the URL, which proxies and
    /// access logs keep) and masked in any error body that echoes it.
    pub(crate) fn secret_form(mut self, key: &'static str, value: &str) -> Self {
        self.masked.push(value.to_owned());
        self.form.push((key, value.to_owned()));
        self
    }

    pub(crate) fn json(mut self, body: &impl serde::Serialize) -> Result<Self> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            GraphError::InvalidRequest(super::error::InvalidRequest::Other(e.to_string()))
        })?;
        self.body = Body::Json(Bytes::from(bytes));
        Ok(self)
    }

    pub(crate) fn multipart(mut self, parts: Vec<Part>) -> Self {
        self.body = Body::Multipart(parts);
        self
    }

    /// Marks a write as safe to repeat.
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotency = Idempotency::Idempotent;
        self
    }

    pub(crate) fn throttle(mut self, account: &'a str) -> Self {
        self.throttle_key = Some(account);
        self
    }
}

impl GraphClient {
    /// Sends `call`, retrying transient failures as the policy allows, and decodes the answer.
    ///
    /// One `graph.call` span covers the attempts: its method, endpoint (ids as `{id}`),
    /// account, attempts, last HTTP status, Meta's `fbtrace_id` and the error kind; never a
    /// token or a message.
    pub(crate) async fn execute<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T> {
        let endpoint = telemetry::endpoint(&call.path);
        let span = tracing::info_span!(
            "graph.call",
            method = %call.method,
            endpoint = %endpoint,
            account_id = call.throttle_key,
            attempts = tracing::field::Empty,
            status = tracing::field::Empty,
            fbtrace_id = tracing::field::Empty,
            error_kind = tracing::field::Empty,
        );
        let result = self
            .attempts(&call, &endpoint)
            .instrument(span.clone())
            .await;
        if let Err(error) = &result {
            span.record("error_kind", error.kind().as_str());
            if let Some(trace) = error.fbtrace_id() {
                span.record("fbtrace_id", trace);
            }
        }
        telemetry::graph_call(&endpoint, result.as_ref().err());
        result
    }

    async fn attempts<T: DeserializeOwned>(&self, call: &Call<'_>, endpoint: &str) -> Result<T> {
        let mut attempt = 0;
        loop {
            if let (Some(throttle), Some(key)) = (&self.inner.throttle, call.throttle_key) {
                let started = Instant::now();
                throttle.acquire(key).await;
                telemetry::throttle_wait(started.elapsed());
            }
            tracing::Span::current().record("attempts", attempt + 1);
            let started = Instant::now();
            let result = self.attempt(call).await;
            telemetry::graph_attempt(endpoint, started.elapsed());
            let error = match result {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if !self
                .inner
                .retry
                .should_retry(&error, attempt, call.idempotency)
            {
                return Err(error);
            }
            let delay = self.inner.retry.backoff(attempt);
            telemetry::graph_retry(endpoint);
            tracing::debug!(
                method = %call.method, path = %call.path, attempt, ?delay, kind = %error.kind(),
                "retrying Graph API call"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn attempt<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T> {
        let proof = self.proof(call);
        let request = self.http_request(call, proof.as_deref())?;
        let response = request.send().await.map_err(|e| {
            // A failed connect never sent the request; anything later may have reached Meta.
            let delivered = !(e.is_connect() || e.is_builder());
            GraphError::transport(e, delivered)
        })?;
        let status = response.status().as_u16();
        let span = tracing::Span::current();
        span.record("status", status);
        // Meta tags every answer, successful or not, with the id its support asks for.
        if let Some(trace) = response
            .headers()
            .get(FB_TRACE_ID_HEADER)
            .and_then(|v| v.to_str().ok())
        {
            span.record("fbtrace_id", trace);
        }
        let usage = RateLimitUsage::from_headers(response.headers());
        telemetry::rate_limit_usage(&usage, call.throttle_key);
        let body = response
            .bytes()
            .await
            .map_err(|e| GraphError::transport(e, true))?;
        tracing::debug!(method = %call.method, path = %call.path, status, "Graph API call");
        self.read_answer(call, proof.as_deref(), status, usage, &body)
    }

    /// The HTTP request of one attempt at `call`, with its token and `appsecret_proof`.
    fn http_request(
        &self,
        call: &Call<'_>,
        proof: Option<&str>,
    ) -> Result<reqwest::RequestBuilder> {
        let inner = &self.inner;
        let mut request = inner
            .http
            .request(call.method.clone(), self.url(call.host, &call.path))
            .timeout(inner.timeout)
            .header(USER_AGENT, &inner.user_agent);
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(proof) = proof {
            request = request.query(&[(APPSECRET_PROOF, proof)]);
        }
        if let Some(credential) = call.credential {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", credential.expose()))
                .map_err(|_| {
                    GraphError::InvalidRequest(super::error::InvalidRequest::Other(
                        "the access token contains characters not allowed in an HTTP header".into(),
                    ))
                })?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        Ok(match &call.body {
            Body::None if call.form.is_empty() => request,
            Body::None => request.form(&call.form),
            Body::Json(bytes) => request
                .header(CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
            Body::Multipart(parts) => request.multipart(form(parts)?),
        })
    }

    /// The decoded answer, or Meta's error (else the HTTP status) with secrets masked; keeps
    /// the rate-limit usage Meta reported.
    fn read_answer<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        proof: Option<&str>,
        status: u16,
        usage: RateLimitUsage,
        body: &[u8],
    ) -> Result<T> {
        if (200..300).contains(&status) {
            self.keep_usage(usage);
            return serde_json::from_slice(body).map_err(|source| GraphError::Decode {
                status,
                body_prefix: prefix(&mask(call, proof, body)),
                source,
            });
        }
        let body = mask(call, proof, body);
        if let Some(mut api) = MetaError::from_body(status, body.as_bytes()) {
            api.usage = usage.clone();
            self.keep_usage(usage);
            return Err(api.into());
        }
        Err(GraphError::Http {
            status,
            body_prefix: prefix(&body),
        })
    }

    /// Keeps the latest rate-limit usage Meta reported (a response without any keeps the last).
    fn keep_usage(&self, usage: RateLimitUsage) {
        if !usage.is_empty() {
            *self
                .inner
                .last_usage
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = usage;
        }
    }

    /// The call's `appsecret_proof`: hex HMAC-SHA256 of its access token keyed with the app
    /// secret, when the client has the secret and the call goes to `graph.facebook.com` with a
    /// token.
    fn proof(&self, call: &Call<'_>) -> Option<String> {
        let credential = call.credential?;
        if call.host != Host::Facebook {
            return None;
        }
        self.app_secret
            .as_ref()
            .map(|secret| appsecret_proof(secret, credential.expose()))
    }
}

/// Meta's `appsecret_proof` of `token`: `hex(HMAC-SHA256(key = app secret, message = token))`.
pub(crate) fn appsecret_proof(secret: &AppSecret, token: &str) -> String {
    hex::encode(hmac_sha256(secret.expose().as_bytes(), token.as_bytes()))
}

/// The body as text with the call's token, proof and secret parameters replaced by
/// `[REDACTED]`.
fn mask(call: &Call<'_>, proof: Option<&str>, body: &[u8]) -> String {
    let mut text = String::from_utf8_lossy(body).into_owned();
    let secrets = call
        .credential
        .map(Credential::expose)
        .into_iter()
        .chain(proof)
        .chain(call.masked.iter().map(String::as_str));
    for secret in secrets.filter(|s| s.len() >= 4) {
        if text.contains(secret) {
            text = text.replace(secret, "[REDACTED]");
        }
    }
    text
}

fn prefix(text: &str) -> String {
    let mut end = text.len().min(BODY_PREFIX_LEN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

fn form(parts: &[Part]) -> Result<reqwest::multipart::Form> {
    let mut form = reqwest::multipart::Form::new();
    for part in parts {
        form = match part {
            Part::Text(name, value) => form.text(*name, value.clone()),
            Part::File {
                name,
                bytes,
                filename,
                mime,
            } => {
                let length = bytes.len() as u64;
                let file = reqwest::multipart::Part::stream_with_length(bytes.clone(), length)
                    .file_name(filename.clone())
                    .mime_str(mime)
                    .map_err(|_| {
                        GraphError::InvalidRequest(super::error::InvalidRequest::Other(format!(
                            "{mime:?} is not a valid MIME type"
                        )))
                    })?;
                form.part(*name, file)
            }
        };
    }
    Ok(form)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `printf %s 'EAAGtoken' | openssl dgst -sha256 -hmac 'app-secret'`
    const EXPECTED_PROOF: &str = "a4ce06bfe906a3dc23b52fe84057d5682332255492b579adf8a54fd53fe8d74e";

    #[test]
    fn appsecret_proof_is_the_hex_hmac_sha256_of_the_token() {
        assert_eq!(
            appsecret_proof(&AppSecret::new("app-secret"), "EAAGtoken"),
            EXPECTED_PROOF
        );
    }

    #[test]
    fn masking_covers_the_token_the_proof_and_secret_parameters() {
        let credential = Credential::Page(crate::secret::PageAccessToken::new("EAAGtoken"));
        let call = Call::post("oauth/access_token")
            .auth(&credential)
            .secret_form("client_secret", "the-client-secret");
        let body =
            format!(r#"{{"error":{{"message":"EAAGtoken {EXPECTED_PROOF} the-client-secret"}}}}"#);
        let masked = mask(&call, Some(EXPECTED_PROOF), body.as_bytes());
        assert_eq!(
            masked,
            r#"{"error":{"message":"[REDACTED] [REDACTED] [REDACTED]"}}"#
        );
    }

    #[test]
    fn proof_only_with_a_secret_a_token_and_the_facebook_host() {
        let page = Credential::Page(crate::secret::PageAccessToken::new("EAAGtoken"));
        let instagram =
            Credential::Instagram(crate::secret::InstagramAccessToken::new("IGQWtoken"));
        let with_secret = GraphClient::builder()
            .app_secret(AppSecret::new("app-secret"))
            .build()
            .unwrap();
        let without = GraphClient::new().unwrap();
        let call = Call::get("me").auth(&page);
        assert_eq!(with_secret.proof(&call).as_deref(), Some(EXPECTED_PROOF));
        assert_eq!(without.proof(&call), None);
        assert_eq!(with_secret.proof(&Call::get("oauth/access_token")), None);
        assert_eq!(with_secret.proof(&Call::get("me").auth(&instagram)), None);
        assert_eq!(
            without
                .or_app_secret(&AppSecret::new("app-secret"))
                .proof(&call)
                .as_deref(),
            Some(EXPECTED_PROOF)
        );
        let other = with_secret.or_app_secret(&AppSecret::new("other"));
        assert_eq!(
            other.proof(&call).as_deref(),
            Some(EXPECTED_PROOF),
            "a secret given explicitly wins"
        );
    }

    #[test]
    fn prefix_cuts_on_a_char_boundary() {
        let text = "é".repeat(400);
        let cut = prefix(&text);
        assert!(cut.len() <= BODY_PREFIX_LEN);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
