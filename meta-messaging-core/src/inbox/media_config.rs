//! [`MediaConfig`]: where and how the inbox keeps attachments, from the `META_MEDIA*`
//! environment variables (read by [`InboxConfig`](super::InboxConfig)).

use std::path::PathBuf;
use std::time::Duration;

use super::config::ConfigError;
use super::media::MediaOptions;
use crate::media::{DEFAULT_MAX_MEDIA_BYTES, FsMediaStore, MediaError};

/// The variable naming where attachments are kept.
const MEDIA: &str = "META_MEDIA";
/// The endpoint of an S3-compatible server other than AWS.
const S3_ENDPOINT: &str = "META_MEDIA_S3_ENDPOINT";
/// The largest attachment kept, in bytes.
const MAX_BYTES: &str = "META_MEDIA_MAX_BYTES";
/// How many days kept media is kept.
const RETENTION_DAYS: &str = "META_MEDIA_RETENTION_DAYS";

/// Where kept attachments live, from `META_MEDIA`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaLocation {
    /// A directory ([`FsMediaStore`]): `META_MEDIA=/var/lib/inbox/media` or `file:///var/...`.
    Directory(PathBuf),
    /// An S3-compatible bucket (`S3MediaStore`, feature `s3`): `META_MEDIA=s3://bucket/prefix`.
    S3 {
        /// The location, `s3://bucket` or `s3://bucket/prefix`.
        url: String,
        /// The server's endpoint when not AWS, from `META_MEDIA_S3_ENDPOINT`.
        endpoint: Option<String>,
    },
}

/// How the inbox keeps attachments, read from the environment by
/// [`InboxConfig`](super::InboxConfig) (see its table of variables); [`options`](Self::options)
/// turns it into the [`MediaOptions`] of [`InboxBuilder::media`](super::InboxBuilder::media).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MediaConfig {
    /// Where, from `META_MEDIA`.
    pub location: MediaLocation,
    /// The largest attachment kept, from `META_MEDIA_MAX_BYTES` (default 25 MiB).
    pub max_bytes: u64,
    /// How long kept media is kept, from `META_MEDIA_RETENTION_DAYS` (default: the
    /// [`MediaOptions`] default, 90 days).
    pub retention: Option<Duration>,
    /// Where the app mounts the inbox routes (`/api/meta`), for the attachments' `media_url`.
    /// Not read from the environment: the app knows it and sets it.
    pub mount: Option<String>,
}

impl MediaConfig {
    /// Attachments kept at `location`, with the defaults.
    pub fn new(location: MediaLocation) -> Self {
        Self {
            location,
            max_bytes: DEFAULT_MAX_MEDIA_BYTES,
            retention: None,
            mount: None,
        }
    }

    /// The same settings, the inbox routes mounted at `mount` (see [`MediaOptions::mount`]).
    #[must_use]
    pub fn mount(mut self, mount: impl Into<String>) -> Self {
        self.mount = Some(mount.into());
        self
    }

    /// Reads `META_MEDIA`, `META_MEDIA_S3_ENDPOINT`, `META_MEDIA_MAX_BYTES` and
    /// `META_MEDIA_RETENTION_DAYS` through `lookup` (blank values count as unset); `None` when
    /// `META_MEDIA` is unset.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the variable and the fix: an `s3://` location without
    /// the `s3` feature or not of the form `s3://bucket[/prefix]`, another URL scheme, a
    /// size or a number of days that is not a positive integer, or a `META_MEDIA_*` setting
    /// without `META_MEDIA`.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(media) = get(MEDIA) else {
            if let Some(orphan) = [S3_ENDPOINT, MAX_BYTES, RETENTION_DAYS]
                .into_iter()
                .find(|name| get(name).is_some())
            {
                return Err(invalid(
                    orphan,
                    format!(
                        "it has no effect without {MEDIA}: set {MEDIA} to where attachments are kept, or unset {orphan}"
                    ),
                ));
            }
            return Ok(None);
        };
        let endpoint = get(S3_ENDPOINT);
        let location = location(&media, endpoint)?;
        let max_bytes = match get(MAX_BYTES) {
            Some(value) => positive(MAX_BYTES, &value, "a number of bytes")?,
            None => DEFAULT_MAX_MEDIA_BYTES,
        };
        let retention = get(RETENTION_DAYS)
            .map(|value| positive(RETENTION_DAYS, &value, "a number of days"))
            .transpose()?
            .map(|days| Duration::from_secs(days.saturating_mul(24 * 3600)));
        Ok(Some(Self {
            location,
            max_bytes,
            retention,
            mount: None,
        }))
    }

    /// The media options: the store opened (a directory created if missing; an S3 client
    /// configured, credentials and region from the standard `AWS_*` variables), the limit, the
    /// retention and the mount.
    ///
    /// # Errors
    /// [`MediaError::Io`] when the directory cannot be created; for S3,
    /// [`MediaError::Configuration`] (an `http://` endpoint needs `AWS_ALLOW_HTTP=true`) or
    /// `MediaError::ObjectStore`.
    pub fn options(&self) -> Result<MediaOptions, MediaError> {
        let mut options = match &self.location {
            MediaLocation::Directory(dir) => MediaOptions::new(FsMediaStore::new(dir)?),
            MediaLocation::S3 { url, endpoint } => s3_options(url, endpoint.as_deref())?,
        };
        options = options.max_bytes(self.max_bytes);
        if let Some(retention) = self.retention {
            options = options.retention(retention);
        }
        if let Some(mount) = &self.mount {
            options = options.mount(mount.clone());
        }
        Ok(options)
    }
}

#[cfg(feature = "s3")]
fn s3_options(url: &str, endpoint: Option<&str>) -> Result<MediaOptions, MediaError> {
    let mut builder = crate::media::S3MediaStore::builder(url)?.from_env();
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint(endpoint);
    }
    Ok(MediaOptions::new(builder.build()?))
}

// `MediaConfig::from_lookup` refuses an S3 location without the feature, so only a
// hand-built configuration gets here.
#[cfg(not(feature = "s3"))]
fn s3_options(url: &str, _endpoint: Option<&str>) -> Result<MediaOptions, MediaError> {
    Err(MediaError::Configuration(format!(
        "{url:?} {}",
        NEEDS_S3_FEATURE
    )))
}

#[cfg(not(feature = "s3"))]
const NEEDS_S3_FEATURE: &str = "needs meta-messaging-core's `s3` feature: build with it \
    (`meta-messaging-core = { features = [\"s3\"] }`), or keep attachments in a directory";

fn invalid(variable: &'static str, reason: String) -> ConfigError {
    ConfigError::Invalid { variable, reason }
}

fn positive(variable: &'static str, value: &str, what: &str) -> Result<u64, ConfigError> {
    match value.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(invalid(
            variable,
            format!("{value:?} is not {what}: set a positive integer"),
        )),
    }
}

/// `META_MEDIA` (with `META_MEDIA_S3_ENDPOINT`) as a location.
fn location(media: &str, endpoint: Option<String>) -> Result<MediaLocation, ConfigError> {
    if let Some(dir) = media.strip_prefix("file://") {
        return directory(dir, endpoint);
    }
    if media.starts_with("s3://") {
        return s3_location(media, endpoint);
    }
    if let Some((scheme, _)) = media.split_once("://") {
        return Err(invalid(
            MEDIA,
            format!(
                "the scheme {scheme:?} is not one of a directory path, file://DIR or \
                 s3://bucket[/prefix]"
            ),
        ));
    }
    directory(media, endpoint)
}

fn directory(dir: &str, endpoint: Option<String>) -> Result<MediaLocation, ConfigError> {
    if endpoint.is_some() {
        return Err(invalid(
            S3_ENDPOINT,
            format!("it is for an s3:// {MEDIA}, and {MEDIA} names a directory: unset it"),
        ));
    }
    if dir.is_empty() {
        return Err(invalid(MEDIA, "file:// names no directory".to_owned()));
    }
    Ok(MediaLocation::Directory(PathBuf::from(dir)))
}

#[cfg(feature = "s3")]
fn s3_location(url: &str, endpoint: Option<String>) -> Result<MediaLocation, ConfigError> {
    // Checked now, so a wrong location stops the app at start with the variable named.
    crate::media::S3MediaStore::builder(url)
        .map(drop)
        .map_err(|e| invalid(MEDIA, e.to_string()))?;
    if let Some(endpoint) = &endpoint {
        let parsed = url::Url::parse(endpoint).map_err(|_| {
            invalid(
                S3_ENDPOINT,
                format!("{endpoint:?} is not a URL: set it to the server's base URL, e.g. https://minio.internal:9000"),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(invalid(
                S3_ENDPOINT,
                format!("{endpoint:?} is not an http(s) URL of a server"),
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid(
                S3_ENDPOINT,
                "credentials do not go in the endpoint: set AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY"
                    .to_owned(),
            ));
        }
    }
    Ok(MediaLocation::S3 {
        url: url.to_owned(),
        endpoint,
    })
}

#[cfg(not(feature = "s3"))]
fn s3_location(url: &str, _endpoint: Option<String>) -> Result<MediaLocation, ConfigError> {
    Err(invalid(MEDIA, format!("{url:?} {NEEDS_S3_FEATURE}")))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Option<MediaConfig>, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        MediaConfig::from_lookup(|name| vars.get(name).cloned())
    }

    fn refused(vars: &[(&str, &str)], variable: &str) -> String {
        match read(vars) {
            Err(ConfigError::Invalid {
                variable: v,
                reason,
            }) if v == variable => reason,
            other => panic!("{vars:?}: expected {variable} refused, got {other:?}"),
        }
    }

    #[test]
    fn unset_is_off_and_a_directory_gets_the_defaults() {
        assert_eq!(read(&[]).expect("valid"), None);
        assert_eq!(read(&[(MEDIA, "  ")]).expect("valid"), None);
        for value in ["/var/lib/inbox/media", "file:///var/lib/inbox/media"] {
            let media = read(&[(MEDIA, value)]).expect("valid").expect("on");
            assert_eq!(
                media.location,
                MediaLocation::Directory("/var/lib/inbox/media".into())
            );
            assert_eq!(media.max_bytes, 25 * 1024 * 1024);
            assert_eq!((media.retention, media.mount), (None, None));
        }
        let relative = read(&[(MEDIA, "media")]).expect("valid").expect("on");
        assert_eq!(relative.location, MediaLocation::Directory("media".into()));
    }

    #[test]
    fn the_limit_and_the_retention_are_positive_integers() {
        let media = read(&[
            (MEDIA, "/m"),
            (MAX_BYTES, "1048576"),
            (RETENTION_DAYS, "30"),
        ])
        .expect("valid")
        .expect("on");
        assert_eq!(media.max_bytes, 1_048_576);
        assert_eq!(media.retention, Some(Duration::from_secs(30 * 86_400)));
        for (variable, value) in [
            (MAX_BYTES, "25MiB"),
            (MAX_BYTES, "0"),
            (RETENTION_DAYS, "-1"),
            (RETENTION_DAYS, "0"),
        ] {
            let reason = refused(&[(MEDIA, "/m"), (variable, value)], variable);
            assert!(reason.contains("positive integer"), "{reason}");
        }
    }

    #[test]
    fn settings_without_a_location_and_unknown_schemes_are_refused() {
        let reason = refused(&[(MAX_BYTES, "100")], MAX_BYTES);
        assert!(reason.contains("set META_MEDIA"), "{reason}");
        refused(&[(S3_ENDPOINT, "https://minio:9000")], S3_ENDPOINT);
        let reason = refused(&[(MEDIA, "gs://bucket/x")], MEDIA);
        assert!(reason.contains("s3://bucket"), "{reason}");
        refused(&[(MEDIA, "file://")], MEDIA);
        let reason = refused(
            &[(MEDIA, "/m"), (S3_ENDPOINT, "https://minio:9000")],
            S3_ENDPOINT,
        );
        assert!(reason.contains("unset"), "{reason}");
    }

    #[tokio::test]
    async fn options_open_the_directory_with_the_settings() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("kept");
        let mut media = MediaConfig::new(MediaLocation::Directory(path.clone())).mount("/api/meta");
        media.max_bytes = 10;
        let options = media.options().expect("options");
        assert!(path.is_dir(), "the directory is created");
        let shown = format!("{options:?}");
        assert!(shown.contains("max_bytes: Some(10)"), "{shown}");
        assert!(shown.contains("\"/api/meta\""), "{shown}");
    }

    #[cfg(feature = "s3")]
    #[test]
    fn s3_locations_are_checked_and_keep_their_endpoint() {
        let media = read(&[
            (MEDIA, "s3://inbox-media/kept"),
            (S3_ENDPOINT, "https://minio.internal:9000"),
        ])
        .expect("valid")
        .expect("on");
        assert_eq!(
            media.location,
            MediaLocation::S3 {
                url: "s3://inbox-media/kept".to_owned(),
                endpoint: Some("https://minio.internal:9000".to_owned()),
            }
        );
        let reason = refused(&[(MEDIA, "s3://")], MEDIA);
        assert!(reason.contains("s3://bucket"), "{reason}");
        refused(
            &[(MEDIA, "s3://b"), (S3_ENDPOINT, "minio:9000")],
            S3_ENDPOINT,
        );
        let reason = refused(
            &[
                (MEDIA, "s3://b"),
                (S3_ENDPOINT, "https://id:s3cr3t@minio:9000"),
            ],
            S3_ENDPOINT,
        );
        assert!(!reason.contains("s3cr3t"), "{reason}");
    }

    #[cfg(feature = "s3")]
    #[test]
    fn a_plain_http_endpoint_needs_aws_allow_http() {
        if std::env::var("AWS_ALLOW_HTTP").is_ok() {
            eprintln!("skipped: AWS_ALLOW_HTTP is set in this environment");
            return;
        }
        let media = read(&[(MEDIA, "s3://b"), (S3_ENDPOINT, "http://127.0.0.1:9077")])
            .expect("valid")
            .expect("on");
        let err = media.options().expect_err("http is not allowed by default");
        assert!(err.to_string().contains("AWS_ALLOW_HTTP=true"), "{err}");
    }

    #[cfg(not(feature = "s3"))]
    #[test]
    fn an_s3_location_without_the_feature_names_it() {
        let reason = refused(&[(MEDIA, "s3://inbox-media")], MEDIA);
        assert!(reason.contains("`s3` feature"), "{reason}");
    }
}
