//! How a history backfill paces itself and how far back it reads.

use std::time::Duration;

/// How far back a backfill reads by default: 30 days.
pub const DEFAULT_BACKFILL_HORIZON: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The default wait between two Graph pages of a backfill: keeps a backfill well under Meta's
/// per-Page call budget while webhooks and replies use the same token.
pub const DEFAULT_BACKFILL_PAGE_DELAY: Duration = Duration::from_millis(250);

/// The settings of history backfills ([`InboxBuilder::backfill`](super::InboxBuilder::backfill)).
///
/// ```
/// use std::time::Duration;
/// use meta_messaging_core::inbox::BackfillOptions;
///
/// let options = BackfillOptions::new()
///     .horizon(Duration::from_secs(7 * 24 * 3600))
///     .page_delay(Duration::from_millis(500))
///     .page_size(50);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BackfillOptions {
    /// Messages older than this are not imported, and conversations last active before it are
    /// not read.
    pub horizon: Duration,
    /// The wait between two Graph pages (the client's own throttle and retries come on top).
    pub page_delay: Duration,
    /// The page size asked of Meta (`limit`); `None` leaves Meta's default (25).
    pub page_size: Option<u32>,
    /// The most pages of conversations one run reads before it pauses (the next run resumes);
    /// `None`: no limit.
    pub max_pages: Option<u32>,
    /// Whether connecting an account through the OAuth callback starts its backfill.
    pub on_connect: bool,
    /// Whether the inbox resumes, when its background tasks start, the backfills a stop of
    /// the process interrupted ([`Inbox::resume_backfills`](super::Inbox::resume_backfills)).
    pub resume_on_start: bool,
}

impl Default for BackfillOptions {
    fn default() -> Self {
        Self {
            horizon: DEFAULT_BACKFILL_HORIZON,
            page_delay: DEFAULT_BACKFILL_PAGE_DELAY,
            page_size: None,
            max_pages: None,
            on_connect: true,
            resume_on_start: true,
        }
    }
}

impl BackfillOptions {
    /// The defaults: 30 days back, 250 ms between pages, Meta's page size, no page limit,
    /// started on connect, interrupted runs resumed on start.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how far back to read.
    #[must_use]
    pub fn horizon(mut self, horizon: Duration) -> Self {
        self.horizon = horizon;
        self
    }

    /// Sets the wait between two Graph pages.
    #[must_use]
    pub fn page_delay(mut self, delay: Duration) -> Self {
        self.page_delay = delay;
        self
    }

    /// Sets the page size asked of Meta.
    #[must_use]
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Sets the most pages of conversations one run reads before it pauses.
    #[must_use]
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = Some(pages);
        self
    }

    /// Sets whether connecting an account starts its backfill.
    #[must_use]
    pub fn on_connect(mut self, on: bool) -> Self {
        self.on_connect = on;
        self
    }

    /// Sets whether the inbox resumes interrupted backfills when it starts.
    #[must_use]
    pub fn resume_on_start(mut self, on: bool) -> Self {
        self.resume_on_start = on;
        self
    }
}
