//! [`MediaDownloader`]: one attachment from Meta's CDN, bounded in size, with a few retries.

use std::time::Duration;

use super::error::MediaError;

/// The largest attachment kept unless told otherwise: 25 MiB (Messenger's own upload limit).
pub const DEFAULT_MAX_MEDIA_BYTES: u64 = 25 * 1024 * 1024;

/// Tries per download unless told otherwise.
const DEFAULT_ATTEMPTS: u32 = 3;

/// The pause before the second try; it doubles for each later one.
const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(250);

/// A downloaded attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Downloaded {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// The media type the server answered with (its parameters left out), if any.
    pub mime: Option<String>,
}

/// Downloads attachments: refuses those larger than a limit (by `Content-Length`, and while
/// reading, for servers that do not send one), and tries again after transport failures,
/// 429 and 5xx answers.
#[derive(Debug, Clone)]
pub struct MediaDownloader {
    http: reqwest::Client,
    max_bytes: u64,
    attempts: u32,
    retry_delay: Duration,
}

impl MediaDownloader {
    /// A downloader on `http` (start one from
    /// [`graph::http_client_builder`](crate::graph::http_client_builder)), with the default
    /// limit ([`DEFAULT_MAX_MEDIA_BYTES`]) and 3 tries.
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            max_bytes: DEFAULT_MAX_MEDIA_BYTES,
            attempts: DEFAULT_ATTEMPTS,
            retry_delay: DEFAULT_RETRY_DELAY,
        }
    }

    /// The largest attachment kept, in bytes.
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Tries per download (at least 1).
    #[must_use]
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The pause before the second try (doubling for each later one).
    #[must_use]
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// The limit in bytes.
    pub fn limit(&self) -> u64 {
        self.max_bytes
    }

    /// Downloads `url`.
    ///
    /// # Errors
    /// [`MediaError::TooLarge`], [`MediaError::Status`] (an expired CDN URL answers 403 or
    /// 404) and [`MediaError::Transport`], the last one after every try failed.
    pub async fn fetch(&self, url: &str) -> Result<Downloaded, MediaError> {
        let mut delay = self.retry_delay;
        let mut tries = self.attempts;
        loop {
            tries -= 1;
            match self.fetch_once(url).await {
                Err(e) if e.is_transient() && tries > 0 => {
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
                done => return done,
            }
        }
    }

    async fn fetch_once(&self, url: &str) -> Result<Downloaded, MediaError> {
        let transport = |e: reqwest::Error| MediaError::Transport(e.without_url());
        let mut response = self.http.get(url).send().await.map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(MediaError::Status {
                status: status.as_u16(),
            });
        }
        let too_large = MediaError::TooLarge {
            limit: self.max_bytes,
        };
        if response
            .content_length()
            .is_some_and(|n| n > self.max_bytes)
        {
            return Err(too_large);
        }
        let mime = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty());
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if (bytes.len() + chunk.len()) as u64 > self.max_bytes {
                return Err(too_large);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Downloaded { bytes, mime })
    }
}
