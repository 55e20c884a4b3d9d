//! Keeping attachments: the downloads queued after a delivery's write, the background task
//! that runs them, serving a kept attachment, and deleting kept media (unsend, retention).

use crate::telemetry::record as telemetry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use super::Inbox;
use super::error::InboxError;
use crate::error::ErrorChain;
use crate::ids::{MessageId, TenantId};
use crate::media::{LowPriority, MediaDownloader, MediaError, MediaStore};
use crate::platform::Platform;
use crate::store::{
    MediaRecord, MessageStore, NewMedia, StoreError, StoredMediaId, StoredMessage, TenantEvent,
    now_ms,
};
use crate::webhook::{AttachmentType, EventDetails};

/// Downloads waiting for the background task, unless told otherwise; more are dropped
/// (logged), and their attachments stay `stored: false`. Downloads yield to deliveries, so a
/// burst of pictures waits here: this holds some 13 s of deliveries at 5,000 a second, in
/// about 30 MiB at most with Meta's long CDN URLs.
pub const DEFAULT_MEDIA_QUEUE: usize = 65_536;

/// Downloads at once, unless told otherwise.
pub const DEFAULT_MEDIA_CONCURRENCY: usize = 4;

/// Most finished downloads recorded in one write.
const RECORD_BATCH: usize = 256;

/// While deliveries come, the recorder pauses this many times as long as its last write took:
/// it holds the store's writer (which the deliveries' group commit needs) a twentieth of the
/// time at most, and less when the writer is busy, since a write that waits behind
/// deliveries takes longer. An inbox without deliveries records without pausing.
const RECORD_PAUSE_FACTOR: u32 = 19;

/// How often a paused recorder looks whether deliveries still come.
const RECORD_PAUSE_STEP: Duration = Duration::from_millis(100);

/// The longest pause of the recorder, should a write be slow for a reason of its own.
const RECORD_PAUSE_MAX: Duration = Duration::from_secs(30);

/// How long kept media is kept unless told otherwise: 90 days.
pub const DEFAULT_MEDIA_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

/// How the inbox keeps attachments: where, how large, how many at once, for how long, and
/// where it serves them. Given to [`InboxBuilder::media`](super::InboxBuilder::media).
#[derive(Debug, Clone)]
pub struct MediaOptions {
    files: Arc<dyn MediaStore>,
    downloader: Option<MediaDownloader>,
    max_bytes: Option<u64>,
    concurrency: usize,
    queue: usize,
    retention: Duration,
    mount: Option<String>,
}

impl MediaOptions {
    /// Keeps attachments in `files` (an [`FsMediaStore`](crate::media::FsMediaStore)), with
    /// the defaults: 25 MiB at most, 4 downloads at once, 65,536 queued, kept 90 days, served
    /// at the relative `media/{id}`.
    pub fn new(files: impl MediaStore + 'static) -> Self {
        Self::shared(Arc::new(files))
    }

    /// [`new`](Self::new) with a store you also keep.
    pub fn shared(files: Arc<dyn MediaStore>) -> Self {
        Self {
            files,
            downloader: None,
            max_bytes: None,
            concurrency: DEFAULT_MEDIA_CONCURRENCY,
            queue: DEFAULT_MEDIA_QUEUE,
            retention: DEFAULT_MEDIA_RETENTION,
            mount: None,
        }
    }

    /// The largest attachment kept, in bytes (default
    /// [`DEFAULT_MAX_MEDIA_BYTES`](crate::media::DEFAULT_MAX_MEDIA_BYTES)); a larger one
    /// stays `stored: false`.
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = Some(max_bytes);
        self
    }

    /// Downloads at once (at least 1).
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Downloads waiting at most (at least 1).
    #[must_use]
    pub fn queue(mut self, queue: usize) -> Self {
        self.queue = queue.max(1);
        self
    }

    /// How long kept media is kept: [`Inbox::prune_media`] deletes older media.
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Where the inbox routes are mounted (`/api/meta`, or a full URL): attachments get
    /// `media_url` `{mount}/media/{id}`. Without it, `media/{id}`, relative to the mount.
    #[must_use]
    pub fn mount(mut self, mount: impl Into<String>) -> Self {
        self.mount = Some(mount.into().trim_end_matches('/').to_owned());
        self
    }

    /// The downloader (its HTTP client, tries and pause); its limit is replaced by
    /// [`max_bytes`](Self::max_bytes) when that is set. Default: one on a client from
    /// [`http_client_builder`](crate::graph::http_client_builder), 3 tries.
    #[must_use]
    pub fn downloader(mut self, downloader: MediaDownloader) -> Self {
        self.downloader = Some(downloader);
        self
    }
}

/// A download to run, or a message whose media to delete.
enum MediaJob {
    Keep {
        tenant: TenantId,
        platform: Platform,
        message_id: MessageId,
        index: u32,
        url: String,
    },
    Forget {
        tenant: TenantId,
        platform: Platform,
        message_id: MessageId,
    },
}

// Hand-written: a CDN URL's query is its signature (whoever has it may fetch the media until
// it expires), so logs get the URL without it.
impl std::fmt::Debug for MediaJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Keep {
                tenant,
                platform,
                message_id,
                index,
                url,
            } => f
                .debug_struct("Keep")
                .field("tenant", tenant)
                .field("platform", platform)
                .field("message_id", message_id)
                .field("index", index)
                .field("url", &url.split(['?', '#']).next().unwrap_or_default())
                .finish(),
            Self::Forget {
                tenant,
                platform,
                message_id,
            } => f
                .debug_struct("Forget")
                .field("tenant", tenant)
                .field("platform", platform)
                .field("message_id", message_id)
                .finish(),
        }
    }
}

/// A finished download waiting for the recorder, and where its outcome goes.
#[derive(Debug)]
struct Recording {
    tenant: TenantId,
    media: NewMedia,
    outcome: oneshot::Sender<Result<Option<StoredMessage>, NotRecorded>>,
}

/// Why the recorder did not record a download.
#[derive(Debug)]
enum NotRecorded {
    /// The message store's write failed.
    Store(StoreError),
    /// The media store could not flush the batch's files to disk (the recorder logged why).
    Unsynced,
}

/// What the background tasks need, apart from the inbox (which they must not keep alive).
#[derive(Debug)]
struct Keeper {
    files: Arc<dyn MediaStore>,
    store: Arc<dyn MessageStore>,
    downloader: MediaDownloader,
    mount: Option<String>,
    /// To the recorder task: it ends once every keeper is gone and what they sent is recorded.
    recorder: mpsc::Sender<Recording>,
}

/// What starts the background tasks: the download queue's receiving end, the downloads at
/// once, and the recorder's receiving end.
type Start = (mpsc::Receiver<MediaJob>, usize, mpsc::Receiver<Recording>);

/// The inbox's media settings, its queue, and the background tasks' start.
#[derive(Debug)]
pub(super) struct MediaKeeping {
    keeper: Arc<Keeper>,
    retention: Duration,
    queue: mpsc::Sender<MediaJob>,
    /// Jobs dropped because the queue was full, since the inbox was built.
    dropped: AtomicU64,
    /// Deliveries seen, so that the recorder knows whether to yield to them.
    deliveries: Arc<AtomicU64>,
    /// Taken by the first call that runs in a runtime, which starts the tasks.
    start: Mutex<Option<Start>>,
}

impl MediaKeeping {
    pub(super) fn new(
        options: MediaOptions,
        store: Arc<dyn MessageStore>,
    ) -> Result<Self, crate::graph::GraphError> {
        let downloader = match options.downloader {
            Some(d) => d,
            None => {
                MediaDownloader::new(crate::graph::http_client_builder()?.build().map_err(|e| {
                    crate::graph::GraphError::Configuration {
                        message: "the media download client could not be built".to_owned(),
                        source: Some(Box::new(e.without_url())),
                    }
                })?)
            }
        };
        let downloader = match options.max_bytes {
            Some(max) => downloader.max_bytes(max),
            None => downloader,
        };
        let (queue, jobs) = mpsc::channel(options.queue);
        let (recorder, recordings) = mpsc::channel(RECORD_BATCH);
        Ok(Self {
            keeper: Arc::new(Keeper {
                files: options.files,
                store,
                downloader,
                mount: options.mount,
                recorder,
            }),
            retention: options.retention,
            queue,
            dropped: AtomicU64::new(0),
            deliveries: Arc::default(),
            start: Mutex::new(Some((jobs, options.concurrency, recordings))),
        })
    }

    pub(super) fn ensure_started(&self) {
        let taken = self
            .start
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some((jobs, concurrency, recordings)) = taken {
            let downloads = LowPriority::start("meta-media")
                .inspect_err(|err| {
                    tracing::warn!(%err, "media: downloads run beside the deliveries, at their priority");
                })
                .ok();
            tokio::spawn(record(
                Arc::clone(&self.keeper.store),
                Arc::clone(&self.keeper.files),
                recordings,
                Arc::clone(&self.deliveries),
            ));
            tokio::spawn(run(Arc::clone(&self.keeper), jobs, concurrency, downloads));
        }
    }

    /// Queues the downloads of imported history, waiting for room: a backfill reads at its
    /// own pace, and dropping its jobs would leave a month of pictures to expire.
    async fn queue_waiting(&self, events: &[TenantEvent]) {
        for job in events.iter().flat_map(jobs_of) {
            if self.queue.send(job).await.is_err() {
                // The background task has ended: the runtime is shutting down.
                return;
            }
        }
    }

    /// Where kept files live.
    pub(super) fn files(&self) -> &Arc<dyn MediaStore> {
        &self.keeper.files
    }

    /// Where the inbox serves the kept attachment `id`.
    pub(super) fn media_url(&self, id: &StoredMediaId) -> String {
        self.keeper.media_url(id)
    }

    /// Queues the downloads and deletions a delivery's events call for. Never waits: a full
    /// queue drops the job (the attachment stays `stored: false`).
    fn queue(&self, events: &[TenantEvent]) {
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        for job in events.iter().flat_map(jobs_of) {
            if let Err(mpsc::error::TrySendError::Full(job)) = self.queue.try_send(job) {
                telemetry::media_download("dropped", 0);
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // In a flood a line per job would cost more than the job: 1, 2, 4, 8, ...
                if dropped.is_power_of_two() {
                    tracing::warn!(
                        ?job,
                        dropped,
                        "media: the download queue is full; jobs are dropped"
                    );
                }
            }
        }
    }
}

/// Whether an attachment of this kind points at media (rather than a link, a place or a
/// template).
fn is_media(kind: &AttachmentType) -> bool {
    matches!(
        kind,
        AttachmentType::Image
            | AttachmentType::Video
            | AttachmentType::Audio
            | AttachmentType::File
            | AttachmentType::StoryMention
            | AttachmentType::Share
            | AttachmentType::IgReel
            | AttachmentType::Reel
            | AttachmentType::IgPost
    )
}

fn jobs_of(e: &TenantEvent) -> Vec<MediaJob> {
    let event = &e.event;
    match &event.details {
        EventDetails::Message(m) | EventDetails::Echo(m) => m
            .attachments
            .iter()
            .enumerate()
            .filter(|(_, a)| is_media(&a.kind))
            .filter_map(|(i, a)| {
                Some(MediaJob::Keep {
                    tenant: e.tenant_id.clone(),
                    platform: event.platform,
                    message_id: m.mid.clone(),
                    index: u32::try_from(i).ok()?,
                    url: a.url.clone()?,
                })
            })
            .collect(),
        EventDetails::Delete(d) => vec![MediaJob::Forget {
            tenant: e.tenant_id.clone(),
            platform: event.platform,
            message_id: d.mid.clone(),
        }],
        _ => Vec::new(),
    }
}

/// Runs the jobs, `concurrency` at once. The downloads and file writes run on `downloads`, a
/// thread at the lowest priority (when it could be started); the store's reads and writes stay
/// here, on the host's runtime, where the store's connections live.
async fn run(
    keeper: Arc<Keeper>,
    mut jobs: mpsc::Receiver<MediaJob>,
    concurrency: usize,
    downloads: Option<LowPriority>,
) {
    let slots = Arc::new(Semaphore::new(concurrency));
    while let Some(job) = jobs.recv().await {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let keeper = Arc::clone(&keeper);
        let downloads = downloads.clone();
        tokio::spawn(async move {
            if let Err(err) = keeper.run(&job, slot, downloads.as_ref()).await {
                tracing::warn!(?job, error = %ErrorChain(&err), "media: a job failed");
            }
        });
    }
}

/// Records the finished downloads, everything waiting at once (up to [`RECORD_BATCH`]) in one
/// write, so that pictures arriving together cost one flush of their files and one durable
/// commit, not one each. Ends once every sender is gone and all they sent is recorded.
async fn record(
    store: Arc<dyn MessageStore>,
    files: Arc<dyn MediaStore>,
    mut waiting: mpsc::Receiver<Recording>,
    deliveries: Arc<AtomicU64>,
) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while waiting.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let (items, outcomes): (Vec<_>, Vec<_>) = batch
            .drain(..)
            .map(|r| ((r.tenant, r.media), r.outcome))
            .unzip();
        let (started, seen) = (
            std::time::Instant::now(),
            deliveries.load(Ordering::Relaxed),
        );
        // A record must never name a file that a crash could lose.
        let recorded: Vec<_> = match files.sync().await {
            Ok(()) => store
                .record_media_batch(&items)
                .await
                .into_iter()
                .map(|r| r.map_err(NotRecorded::Store))
                .collect(),
            Err(err) => {
                tracing::error!(
                    error = %ErrorChain(&err),
                    files = items.len(),
                    "media: the downloaded files could not be flushed to disk; they are not recorded"
                );
                items.iter().map(|_| Err(NotRecorded::Unsynced)).collect()
            }
        };
        let took = started.elapsed();
        for (outcome, recorded) in outcomes.into_iter().zip(recorded) {
            // A worker that went away (the runtime is stopping) needs no answer.
            let _ = outcome.send(recorded);
        }
        if deliveries.load(Ordering::Relaxed) != seen {
            yield_to(
                &deliveries,
                (took * RECORD_PAUSE_FACTOR).min(RECORD_PAUSE_MAX),
            )
            .await;
        }
    }
}

/// Pauses for `pause` at most, and no longer than the deliveries keep coming: a recorder
/// paused at the end of a flood records what waits soon after the flood ends.
async fn yield_to(deliveries: &AtomicU64, pause: Duration) {
    let until = tokio::time::Instant::now() + pause;
    let mut seen = deliveries.load(Ordering::Relaxed);
    while tokio::time::Instant::now() < until {
        tokio::time::sleep(RECORD_PAUSE_STEP.min(pause)).await;
        let now = deliveries.load(Ordering::Relaxed);
        if now == seen {
            return;
        }
        seen = now;
    }
}

impl Keeper {
    /// Runs a job in a download `slot`, which a download gives back once its file is written
    /// and handed to the recorder: waiting for the record is no download.
    async fn run(
        &self,
        job: &MediaJob,
        slot: OwnedSemaphorePermit,
        downloads: Option<&LowPriority>,
    ) -> Result<(), InboxError> {
        match job {
            MediaJob::Keep {
                tenant,
                platform,
                message_id,
                index,
                url,
            } => {
                let attachment = (tenant, *platform, message_id, *index);
                self.keep(attachment, url, slot, downloads).await
            }
            MediaJob::Forget {
                tenant,
                platform,
                message_id,
            } => {
                let Some(message) = self
                    .store
                    .find_message(tenant, *platform, message_id)
                    .await?
                else {
                    return Ok(());
                };
                let gone = self.store.delete_message_media(tenant, message.id).await?;
                self.delete_unused(&gone).await
            }
        }
    }

    async fn keep(
        &self,
        (tenant, platform, message_id, index): (&TenantId, Platform, &MessageId, u32),
        url: &str,
        slot: OwnedSemaphorePermit,
        downloads: Option<&LowPriority>,
    ) -> Result<(), InboxError> {
        let Some(message) = self
            .store
            .find_message(tenant, platform, message_id)
            .await?
        else {
            return Ok(());
        };
        let kept = usize::try_from(index)
            .ok()
            .and_then(|i| message.attachments.get(i))
            .is_none_or(|a| a.stored);
        if message.deleted || kept {
            return Ok(());
        }
        let work = download_and_write(self.downloader.clone(), Arc::clone(&self.files), url);
        let written = match downloads {
            Some(downloads) => downloads
                .run(work)
                .await
                .unwrap_or(Err(MediaError::Cancelled)),
            None => work.await,
        };
        let Written { sha256, size, mime } = match written {
            Ok(written) => written,
            Err(err @ (MediaError::TooLarge { .. } | MediaError::Status { .. })) => {
                telemetry::media_download("refused", 0);
                tracing::info!(%message_id, index, error = %ErrorChain(&err), "media: attachment not kept");
                return Ok(());
            }
            Err(err) => {
                telemetry::media_download("failed", 0);
                return Err(err.into());
            }
        };
        let id = StoredMediaId::of_attachment(tenant, message.id, index);
        let media_url = self.media_url(&id);
        let mime = mime.unwrap_or_else(|| "application/octet-stream".to_owned());
        let media = NewMedia::new(message.id, index, &sha256, mime, size, media_url, now_ms());
        let recorded = match self.record(tenant, media, slot).await {
            Ok(recorded) => recorded,
            Err(not_recorded) => {
                telemetry::media_download("failed", 0);
                return match not_recorded {
                    NotRecorded::Store(err) => Err(err.into()),
                    NotRecorded::Unsynced => Ok(()),
                };
            }
        };
        if recorded.is_some() {
            telemetry::media_download("kept", size);
        } else if !self.store.media_in_use(&sha256).await? {
            // The message was unsent meanwhile: its file goes unless another message has it.
            self.files.delete(&sha256).await?;
        }
        Ok(())
    }

    /// Hands a finished download to the recorder, gives the download `slot` back, and waits
    /// for the record.
    async fn record(
        &self,
        tenant: &TenantId,
        media: NewMedia,
        slot: OwnedSemaphorePermit,
    ) -> Result<Option<StoredMessage>, NotRecorded> {
        let stopped = || NotRecorded::Store(StoreError::WriterStopped);
        let (outcome, recorded) = oneshot::channel();
        let recording = Recording {
            tenant: tenant.clone(),
            media,
            outcome,
        };
        // Both fail only when the recorder has ended: the runtime is stopping.
        self.recorder.send(recording).await.map_err(|_| stopped())?;
        drop(slot);
        recorded.await.map_err(|_| stopped())?
    }

    /// Where the inbox serves the kept attachment `id`.
    fn media_url(&self, id: &StoredMediaId) -> String {
        match &self.mount {
            Some(mount) => format!("{mount}/media/{id}"),
            None => format!("media/{id}"),
        }
    }

    /// Deletes the files of deleted records that no other record names.
    async fn delete_unused(&self, gone: &[MediaRecord]) -> Result<(), InboxError> {
        for record in gone {
            if !self.store.media_in_use(&record.sha256).await? {
                self.files.delete(&record.sha256).await?;
            }
        }
        Ok(())
    }
}

/// A downloaded attachment, written to the media store.
struct Written {
    sha256: String,
    size: u64,
    mime: Option<String>,
}

/// Downloads `url` and writes its file: the part of keeping an attachment that takes CPU
/// (HTTP, SHA-256, the write), run on the low-priority thread.
fn download_and_write(
    downloader: MediaDownloader,
    files: Arc<dyn MediaStore>,
    url: &str,
) -> impl std::future::Future<Output = Result<Written, MediaError>> + Send + 'static {
    let url = url.to_owned();
    async move {
        let downloaded = downloader.fetch(&url).await?;
        // Made durable by the recorder, once for a batch.
        let sha256 = files.put_unsynced(&downloaded.bytes).await?;
        Ok(Written {
            sha256,
            size: downloaded.bytes.len() as u64,
            mime: downloaded.mime,
        })
    }
}

/// A kept attachment and its bytes, from [`Inbox::media`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeptMedia {
    /// Its record (media type, size, SHA-256).
    pub record: MediaRecord,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl Inbox {
    pub(super) fn queue_media(&self, events: &[TenantEvent]) {
        if let Some(media) = &self.inner.media {
            media.queue(events);
        }
    }

    /// [`queue_media`](Self::queue_media) for a backfill's page: waits for room in the queue.
    pub(super) async fn queue_history_media(&self, events: &[TenantEvent]) {
        if let Some(media) = &self.inner.media {
            media.ensure_started();
            media.queue_waiting(events).await;
        }
    }

    /// A tenant's kept attachment (what `GET /media/{id}` serves).
    ///
    /// # Errors
    /// [`InboxError::Store`] with [`StoreError::NotFound`] when the tenant has no such media
    /// (another tenant's, pruned, unsent, or the inbox keeps no media);
    /// [`InboxError::Media`] when its file cannot be read.
    pub async fn media(
        &self,
        tenant: &TenantId,
        id: &StoredMediaId,
    ) -> Result<KeptMedia, InboxError> {
        let not_found = || StoreError::NotFound {
            what: "media",
            id: id.to_string(),
        };
        let media = self.inner.media.as_ref().ok_or_else(not_found)?;
        let record = self
            .inner
            .store
            .get_media(tenant, id)
            .await?
            .ok_or_else(not_found)?;
        let bytes = media
            .keeper
            .files
            .get(&record.sha256)
            .await?
            .ok_or_else(not_found)?;
        Ok(KeptMedia { record, bytes })
    }

    /// Deletes kept media older than the retention
    /// ([`MediaOptions::retention`]), records and then the files no record names any more;
    /// returns how many records were deleted. Call it now and then (say, daily); an inbox that
    /// keeps no media deletes nothing.
    ///
    /// # Errors
    /// [`InboxError::Store`] or [`InboxError::Media`]: a later call deletes what is left.
    pub async fn prune_media(&self) -> Result<u64, InboxError> {
        let Some(media) = &self.inner.media else {
            return Ok(0);
        };
        let retention = i64::try_from(media.retention.as_millis()).unwrap_or(i64::MAX);
        let gone = self
            .inner
            .store
            .prune_media(now_ms().saturating_sub(retention))
            .await?;
        media.keeper.delete_unused(&gone).await?;
        Ok(gone.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_in_a_log_has_no_cdn_signature() {
        let job = MediaJob::Keep {
            tenant: TenantId::new("t"),
            platform: Platform::Instagram,
            message_id: MessageId::new("m"),
            index: 0,
            url: "https://scontent.xx.fbcdn.net/v/t1/a.jpg?_nc_ohc=SECRET&oh=SIGNATURE&oe=1".into(),
        };
        let shown = format!("{job:?}");
        assert!(
            shown.contains("https://scontent.xx.fbcdn.net/v/t1/a.jpg"),
            "{shown}"
        );
        assert!(
            !shown.contains("SECRET") && !shown.contains("SIGNATURE"),
            "{shown}"
        );
    }
}
