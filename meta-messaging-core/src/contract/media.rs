//! `GET /media/{id}`: a kept attachment's bytes, to the tenant that owns it.

use super::{ApiResponse, ResponseBody};
use crate::ids::TenantId;
use crate::inbox::{Inbox, InboxError};
use crate::store::StoredMediaId;

/// The media types served as themselves; anything else (HTML, SVG and other types a browser
/// would run) is served as `application/octet-stream`, to download.
const SERVED_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "image/bmp",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/3gpp",
    "audio/mpeg",
    "audio/mp4",
    "audio/aac",
    "audio/ogg",
    "audio/wav",
    "audio/webm",
    "audio/x-m4a",
    "audio/amr",
    "application/pdf",
    "application/zip",
    "text/plain",
];

const OCTET_STREAM: &str = "application/octet-stream";

/// The `Content-Type` a kept attachment of media type `mime` is served with.
fn served_type(mime: &str) -> &'static str {
    SERVED_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(mime))
        .copied()
        .unwrap_or(OCTET_STREAM)
}

/// A byte range of a `Range` header, against a body of `len` bytes: `Ok(None)` to serve it
/// whole (no header, a unit other than bytes, several ranges), `Err(())` when it cannot be
/// satisfied.
fn byte_range(range: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (start, end) = spec.split_once('-').ok_or(())?;
    let number = |s: &str| s.trim().parse::<u64>().map_err(|_| ());
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let suffix = number(suffix)?;
            if suffix == 0 {
                return Err(());
            }
            (len.saturating_sub(suffix), len.saturating_sub(1))
        }
        (start, "") => (number(start)?, len.saturating_sub(1)),
        (start, end) => (number(start)?, number(end)?.min(len.saturating_sub(1))),
    };
    if len == 0 || start > end || start >= len {
        return Err(());
    }
    Ok(Some((start, end)))
}

/// Serves the tenant's kept attachment `id`: 200 with its bytes, or 206 with the part a
/// `Range` header asks for (video and audio), 416 when that part is beyond the end.
pub(super) async fn get(
    inbox: &Inbox,
    tenant: &TenantId,
    id: Option<&str>,
    range: Option<&str>,
) -> Result<ApiResponse, InboxError> {
    let id = StoredMediaId::new(id.unwrap_or_default());
    let media = inbox.media(tenant, &id).await?;
    let content_type = served_type(&media.record.mime);
    let playable = content_type.starts_with("video/") || content_type.starts_with("audio/");
    let inline = playable || content_type.starts_with("image/");
    let disposition = if inline { "inline" } else { "attachment" };
    let mut headers = vec![
        ("content-disposition", disposition.to_owned()),
        ("x-content-type-options", "nosniff".to_owned()),
        ("content-security-policy", "sandbox".to_owned()),
        ("cache-control", "private, max-age=86400".to_owned()),
        ("etag", format!("\"{}\"", media.record.sha256)),
    ];
    let mut bytes = media.bytes;
    let len = bytes.len() as u64;
    let mut status = 200;
    if playable {
        headers.push(("accept-ranges", "bytes".to_owned()));
        match byte_range(range, len) {
            Ok(None) => {}
            Ok(Some((start, end))) => {
                status = 206;
                headers.push(("content-range", format!("bytes {start}-{end}/{len}")));
                // Both bounds are within `bytes`: `byte_range` checked them against its length.
                bytes = bytes
                    .get(start as usize..=end as usize)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default();
            }
            Err(()) => {
                status = 416;
                headers.push(("content-range", format!("bytes */{len}")));
                bytes = Vec::new();
            }
        }
    }
    Ok(ApiResponse {
        status,
        content_type,
        headers,
        body: ResponseBody::Bytes(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(byte_range(None, 10), Ok(None));
        assert_eq!(byte_range(Some("bytes=0-3"), 10), Ok(Some((0, 3))));
        assert_eq!(byte_range(Some("bytes=4-"), 10), Ok(Some((4, 9))));
        assert_eq!(byte_range(Some("bytes=-3"), 10), Ok(Some((7, 9))));
        assert_eq!(byte_range(Some("bytes=5-100"), 10), Ok(Some((5, 9))));
        assert_eq!(byte_range(Some("bytes=-100"), 10), Ok(Some((0, 9))));
        assert_eq!(byte_range(Some("bytes=0-1,4-5"), 10), Ok(None));
        assert_eq!(byte_range(Some("items=0-1"), 10), Ok(None));
        assert_eq!(byte_range(Some("bytes=10-"), 10), Err(()));
        assert_eq!(byte_range(Some("bytes=5-2"), 10), Err(()));
        assert_eq!(byte_range(Some("bytes=-0"), 10), Err(()));
        assert_eq!(byte_range(Some("bytes=x-"), 10), Err(()));
    }

    #[test]
    fn only_known_types_are_served_as_themselves() {
        assert_eq!(served_type("image/PNG"), "image/png");
        assert_eq!(served_type("text/html"), OCTET_STREAM);
        assert_eq!(served_type("image/svg+xml"), OCTET_STREAM);
    }
}
