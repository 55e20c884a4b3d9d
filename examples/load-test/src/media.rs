//! The attachments of a `<target>+media` run: a stand-in for Meta's CDN in this process (so
//! serving the pictures does not count against the server under load), and the count of the
//! files the server kept.

use std::path::Path;

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
