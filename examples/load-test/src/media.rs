//! The attachments of a `<target>+media` run: a stand-in for Meta's CDN in this process (so
//! serving the pictures does not count against the server under load), the count of the
//! files the server kept, and how long its downloads take to catch up once the load stops.

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;

/// The size of each picture: a small photo's.
const PICTURE_BYTES: usize = 16 * 1024;

/// Serves `GET /cdn/{n}.jpg` on a free port, different bytes for each `n` (so each is kept as
/// a file of its own), and returns its base URL.
pub(crate) async fn start_cdn() -> Result<String, Box<dyn std::error::Error>> {
    let app = Router::new().route("/cdn/{file}", get(picture));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/cdn", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            eprintln!("the stand-in CDN stopped: {err}");
        }
    });
    Ok(base)
}

async fn picture(UrlPath(file): UrlPath<String>) -> impl IntoResponse {
    let n: u64 = file
        .strip_suffix(".jpg")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut bytes = vec![0_u8; PICTURE_BYTES];
    for (i, b) in bytes.iter_mut().enumerate() {
        // Unique per picture, cheap to make: the number's bytes spread over a pattern.
        *b = (i as u64)
            .wrapping_mul(31)
            .wrapping_add(n.rotate_left((i % 64) as u32)) as u8;
    }
    ([(CONTENT_TYPE, "image/jpeg")], bytes)
}

/// The files under `dir` (the media store's two-level layout), or 0 when it is missing.
pub(crate) fn kept_files(dir: &Path) -> u64 {
    let Ok(shards) = std::fs::read_dir(dir) else {
        return 0;
    };
    shards
        .filter_map(Result::ok)
        .filter_map(|shard| std::fs::read_dir(shard.path()).ok())
        .map(|files| files.filter_map(Result::ok).count() as u64)
        .sum()
}

/// How long the downloads may go on after the load stopped before the count is taken as it is.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(120);

/// How long the count may stay the same before the downloads are taken as finished.
const CATCH_UP_IDLE: Duration = Duration::from_secs(5);

/// The pictures a `+media` target kept.
pub(crate) struct Kept {
    /// Deliveries answered 200, warm-up included: one picture each.
    answered: u64,
    /// Files kept by the end of the measured period.
    under_load: u64,
    /// Files kept once the downloads stopped (all kept, no progress for a while, or the limit).
    after: u64,
    /// How long after the load that took.
    catch_up: Duration,
}

impl fmt::Display for Kept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} pictures kept under load; {} kept {:.1} s after the load stopped",
            self.under_load,
            self.answered,
            self.after,
            self.catch_up.as_secs_f64()
        )
    }
}

/// Waits for the server's downloads to catch up after the load stopped: until every picture
/// is kept, the count stops growing for [`CATCH_UP_IDLE`], or [`CATCH_UP_LIMIT`].
pub(crate) async fn catch_up(dir: &Path, answered: u64, under_load: u64) -> Kept {
    let started = Instant::now();
    let (mut after, mut grew) = (kept_files(dir), Instant::now());
    while after < answered && grew.elapsed() < CATCH_UP_IDLE && started.elapsed() < CATCH_UP_LIMIT {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = kept_files(dir);
        if now > after {
            (after, grew) = (now, Instant::now());
        }
    }
    let catch_up = if after >= answered {
        started.elapsed()
    } else {
        grew.duration_since(started)
    };
    Kept {
        answered,
        under_load,
        after,
        catch_up,
    }
}
