//! [`S3MediaStore`]: kept attachments as objects of an S3-compatible bucket.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::client::{HttpClient, HttpConnector};
use object_store::path::Path;
use object_store::{ClientConfigKey, ClientOptions, ObjectStoreExt as _, PutPayload};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};

use super::error::MediaError;
use super::store::{MediaStore, is_sha256};

/// How long one request to the bucket may take, connecting included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting to the bucket's endpoint may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`MediaStore`] in an S3-compatible bucket (AWS S3, MinIO, Ceph, Cloudflare R2, ...): each
/// file is the object `{prefix}/{first two hex digits}/{sha256}`, as
/// [`FsMediaStore`](super::FsMediaStore) lays out its files.
///
/// An S3 PUT is atomic (a reader sees the whole object or none), and the same key always holds
/// the same bytes, so [`put`](MediaStore::put) skips the upload when the object is there.
/// Requests go through the core's HTTP client ([`http_client_builder`](crate::graph::http_client_builder)),
/// so the TLS feature chosen for the Graph client serves the bucket too.
///
/// ```no_run
/// # fn main() -> Result<(), meta_messaging_core::media::MediaError> {
/// use meta_messaging_core::media::S3MediaStore;
///
/// // Credentials and region from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, ...
/// let files = S3MediaStore::builder("s3://inbox-media/attachments")?
///     .from_env()
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct S3MediaStore {
    s3: Arc<AmazonS3>,
    bucket: String,
    prefix: Path,
    endpoint: Option<String>,
}

impl S3MediaStore {
    /// A builder for the bucket and key prefix of `url`: `s3://bucket` or `s3://bucket/prefix`.
    ///
    /// # Errors
    /// [`MediaError::Configuration`] when `url` is not of that form.
    pub fn builder(url: &str) -> Result<S3MediaStoreBuilder, MediaError> {
        let (bucket, prefix) = parse_url(url)?;
        Ok(S3MediaStoreBuilder {
            bucket,
            prefix,
            endpoint: None,
            region: None,
            credentials: None,
            from_env: false,
            allow_http: false,
        })
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key prefix (empty: keys start at the bucket's root).
    pub fn prefix(&self) -> &str {
        self.prefix.as_ref()
    }

    /// The object key of `sha256`.
    ///
    /// # Errors
    /// [`MediaError::InvalidKey`] when `sha256` is not a lower-case hex SHA-256: no other text
    /// ever becomes a key.
    pub fn key_of(&self, sha256: &str) -> Result<String, MediaError> {
        self.path_of(sha256).map(|path| path.to_string())
    }

    fn path_of(&self, sha256: &str) -> Result<Path, MediaError> {
        if !is_sha256(sha256) {
            return Err(MediaError::InvalidKey(sha256.to_owned()));
        }
        Ok(self.prefix.clone().join(&sha256[..2]).join(sha256))
    }
}

// Hand-written: the client's own Debug shows its configuration, credentials included.
impl fmt::Debug for S3MediaStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3MediaStore")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix.as_ref())
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// The settings of an [`S3MediaStore`], from [`S3MediaStore::builder`].
#[derive(Clone)]
#[must_use]
pub struct S3MediaStoreBuilder {
    bucket: String,
    prefix: Path,
    endpoint: Option<String>,
    region: Option<String>,
    credentials: Option<(String, SecretString, Option<SecretString>)>,
    from_env: bool,
    allow_http: bool,
}

impl S3MediaStoreBuilder {
    /// The endpoint of an S3-compatible server other than AWS (`https://minio.internal:9000`);
    /// requests name the bucket in the path. An `http://` endpoint also needs
    /// [`allow_http`](Self::allow_http).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into().trim_end_matches('/').to_owned());
        self
    }

    /// The bucket's region (default: `AWS_REGION` with [`from_env`](Self::from_env), else
    /// `us-east-1`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// A static access key, instead of the credentials of the environment.
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.credentials = Some((
            access_key_id.into(),
            SecretString::from(secret_access_key.into()),
            None,
        ));
        self
    }

    /// The session token that goes with temporary [`credentials`](Self::credentials).
    pub fn session_token(mut self, token: impl Into<String>) -> Self {
        if let Some((_, _, session)) = &mut self.credentials {
            *session = Some(SecretString::from(token.into()));
        }
        self
    }

    /// Reads the standard `AWS_*` variables first (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT`,
    /// `AWS_ALLOW_HTTP`, web identity and container credentials, ...); the settings of this
    /// builder win over them. Without it, and without [`credentials`](Self::credentials), the
    /// instance metadata service is asked for credentials.
    pub fn from_env(mut self) -> Self {
        self.from_env = true;
        self
    }

    /// Allows an `http://` endpoint: for a server on the same host or a test, never across a
    /// network (the attachments would travel in clear). Off by default.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// The store. Nothing is sent yet: a wrong bucket or credentials show on the first request.
    ///
    /// # Errors
    /// [`MediaError::Configuration`] for an `http://` endpoint without
    /// [`allow_http`](Self::allow_http) (or `AWS_ALLOW_HTTP=true` with
    /// [`from_env`](Self::from_env)); [`MediaError::ObjectStore`] when the client cannot be
    /// configured.
    pub fn build(self) -> Result<S3MediaStore, MediaError> {
        let mut s3 = if self.from_env {
            AmazonS3Builder::from_env()
        } else {
            AmazonS3Builder::new()
        };
        s3 = s3
            .with_bucket_name(&self.bucket)
            // Path-style requests: what MinIO and most S3-compatible servers expect, and AWS
            // still serves.
            .with_virtual_hosted_style_request(false)
            .with_http_connector(CoreHttpConnector);
        if self.allow_http {
            s3 = s3.with_allow_http(true);
        }
        if let Some(endpoint) = &self.endpoint {
            s3 = s3.with_endpoint(endpoint);
        }
        if let Some(region) = &self.region {
            s3 = s3.with_region(region);
        }
        if let Some((key_id, secret, session)) = &self.credentials {
            s3 = s3
                .with_access_key_id(key_id)
                .with_secret_access_key(secret.expose_secret());
            if let Some(session) = session {
                s3 = s3.with_token(session.expose_secret());
            }
        }
        let endpoint = s3.get_config_value(&AmazonS3ConfigKey::Endpoint);
        let http_allowed = s3
            .get_config_value(&AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if let Some(endpoint) = &endpoint
            && endpoint.starts_with("http://")
            && !http_allowed
        {
            return Err(MediaError::Configuration(format!(
                "the S3 endpoint {endpoint} is plain HTTP: allow it explicitly \
                 (`allow_http(true)`, or AWS_ALLOW_HTTP=true) for a local server, or use https"
            )));
        }
        let s3 = s3.build().map_err(|source| MediaError::ObjectStore {
            operation: "configure the S3 client",
            source,
        })?;
        Ok(S3MediaStore {
            s3: Arc::new(s3),
            bucket: self.bucket,
            prefix: self.prefix,
            endpoint,
        })
    }
}

impl fmt::Debug for S3MediaStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3MediaStoreBuilder")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix.as_ref())
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field(
                "access_key_id",
                &self.credentials.as_ref().map(|(id, _, _)| id),
            )
            .field("from_env", &self.from_env)
            .field("allow_http", &self.allow_http)
            .finish_non_exhaustive()
    }
}

/// `s3://bucket[/prefix]` as the bucket and the key prefix.
fn parse_url(url: &str) -> Result<(String, Path), MediaError> {
    let refuse = |why: &str| {
        MediaError::Configuration(format!(
            "{url:?} is not an S3 location: {why} (expected s3://bucket or s3://bucket/prefix)"
        ))
    };
    let parsed = url::Url::parse(url).map_err(|_| refuse("it does not parse as a URL"))?;
    if parsed.scheme() != "s3" {
        return Err(refuse("its scheme is not s3"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Credentials in the URL would end up in logs: they go in the builder or AWS_*.
        return Err(MediaError::Configuration(
            "an S3 location holds no credentials: give them to the builder or in AWS_ACCESS_KEY_ID \
             and AWS_SECRET_ACCESS_KEY"
                .to_owned(),
        ));
    }
    if parsed.port().is_some() || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(refuse(
            "it has a port, query or fragment (the endpoint is set apart)",
        ));
    }
    let bucket = parsed.host_str().unwrap_or_default();
    if bucket.is_empty() {
        return Err(refuse("it names no bucket"));
    }
    // The prefix as written: the parsed URL has resolved `..` segments away, and a prefix that
    // climbs is a mistake to report, not to fix silently.
    let written = url.get("s3://".len()..).unwrap_or_default();
    let prefix = written
        .find('/')
        .map_or("", |i| &written[i..])
        .trim_matches('/');
    let prefix = Path::parse(prefix).map_err(|_| refuse("its prefix is not a valid key prefix"))?;
    Ok((bucket.to_owned(), prefix))
}

/// Builds the bucket's HTTP client from the core's, so the TLS provider and certificate
/// verification are the Graph client's; object_store's own would need a process-wide rustls
/// provider under the `rustls` feature.
#[derive(Debug)]
struct CoreHttpConnector;

impl HttpConnector for CoreHttpConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let generic =
            |source: Box<dyn std::error::Error + Send + Sync>| object_store::Error::Generic {
                store: "S3",
                source,
            };
        // object_store turns plain HTTP on for the instance metadata service only, and for
        // the endpoint when allowed: its options say which.
        let allow_http = options
            .get_config_value(&ClientConfigKey::AllowHttp)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let client = crate::graph::http_client_builder()
            .map_err(|e| generic(Box::new(e)))?
            .https_only(!allow_http)
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| generic(Box::new(e.without_url())))?;
        Ok(HttpClient::new(client))
    }
}

fn object_store_error(operation: &'static str) -> impl FnOnce(object_store::Error) -> MediaError {
    move |source| MediaError::ObjectStore { operation, source }
}

#[async_trait]
impl MediaStore for S3MediaStore {
    async fn put(&self, bytes: &[u8]) -> Result<String, MediaError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let path = self.path_of(&sha256)?;
        // Same key, same bytes: an object already there is this one.
        match self.s3.head(&path).await {
            Ok(_) => return Ok(sha256),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(object_store_error("look up a media object")(e)),
        }
        self.s3
            .put(&path, PutPayload::from(bytes.to_vec()))
            .await
            .map_err(object_store_error("upload a media object"))?;
        Ok(sha256)
    }

    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, MediaError> {
        let path = self.path_of(sha256)?;
        let found = match self.s3.get(&path).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(object_store_error("download a media object")(e)),
        };
        let bytes = found
            .bytes()
            .await
            .map_err(object_store_error("download a media object"))?;
        Ok(Some(bytes.to_vec()))
    }

    async fn delete(&self, sha256: &str) -> Result<(), MediaError> {
        let path = self.path_of(sha256)?;
        match self.s3.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(object_store_error("delete a media object")(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_a_bucket_and_a_prefix() {
        let (bucket, prefix) = parse_url("s3://inbox-media").expect("bucket only");
        assert_eq!((bucket.as_str(), prefix.as_ref()), ("inbox-media", ""));
        let (bucket, prefix) = parse_url("s3://inbox-media/a/b/").expect("with a prefix");
        assert_eq!((bucket.as_str(), prefix.as_ref()), ("inbox-media", "a/b"));
        for bad in [
            "s3://",
            "https://bucket/x",
            "s3://bucket:9000/x",
            "s3://bucket/x?region=eu",
            "s3://bucket/../x",
            "bucket/x",
        ] {
            assert!(
                matches!(parse_url(bad), Err(MediaError::Configuration(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn credentials_in_a_location_are_refused_without_being_shown() {
        let err = parse_url("s3://AKIDEXAMPLE:s3cr3t-k3y@bucket/x").expect_err("no credentials");
        assert!(!err.to_string().contains("s3cr3t-k3y"), "{err}");
        assert!(err.to_string().contains("AWS_ACCESS_KEY_ID"), "{err}");
    }

    #[test]
    fn keys_are_content_addressed_under_the_prefix() {
        let store = S3MediaStore::builder("s3://b/media/inbox")
            .expect("url")
            .credentials("id", "secret")
            .build()
            .expect("store");
        let sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert_eq!(
            store.key_of(sha).expect("key"),
            format!("media/inbox/2c/{sha}")
        );
        let root = S3MediaStore::builder("s3://b")
            .expect("url")
            .credentials("id", "secret")
            .build()
            .expect("store");
        assert_eq!(root.key_of(sha).expect("key"), format!("2c/{sha}"));
        for key in ["../x", "", &"A".repeat(64)] {
            assert!(matches!(store.key_of(key), Err(MediaError::InvalidKey(_))));
        }
    }

    #[test]
    fn plain_http_needs_to_be_allowed_and_debug_hides_the_secret() {
        let builder = S3MediaStore::builder("s3://b")
            .expect("url")
            .endpoint("http://127.0.0.1:9000")
            .credentials("AKIDEXAMPLE", "wJalrXUtnFEMI-secret")
            .session_token("session-t0ken");
        let err = builder.clone().build().expect_err("http is not allowed");
        assert!(err.to_string().contains("allow"), "{err}");
        let store = builder.clone().allow_http(true).build().expect("allowed");
        for shown in [format!("{builder:?}"), format!("{store:?}")] {
            assert!(!shown.contains("wJalrXUtnFEMI-secret"), "{shown}");
            assert!(!shown.contains("session-t0ken"), "{shown}");
        }
        assert!(format!("{store:?}").contains("127.0.0.1:9000"));
    }
}
