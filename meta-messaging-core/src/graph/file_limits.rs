//! What Meta takes in an uploaded attachment, per platform: checked before any call, so a file
//! Meta would refuse never leaves the server.
//!
//! Messenger (Attachment Upload API): any kind up to 25 MB; an `audio` upload must have an
//! `audio/*` content type, `image` and `video` likewise theirs. Instagram (Upload Media for
//! Instagram Messaging, through the linked Page): images PNG, JPEG or GIF up to 8 MB; videos
//! MP4, OGG, AVI, MOV or WebM up to 25 MB; audio AAC, M4A, WAV or MP4 up to 25 MB; files PDF up
//! to 25 MB. The Instagram API with Instagram Login has no upload: send media there by URL.

use crate::Platform;

use super::error::InvalidRequest;
use super::outgoing::AttachmentKind;

/// The largest attachment Meta takes: 25 MB (read as MiB, like
/// [`DEFAULT_MAX_MEDIA_BYTES`](crate::media::DEFAULT_MAX_MEDIA_BYTES), so the two agree).
pub const MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;

/// The largest image Instagram takes: 8 MB.
pub const INSTAGRAM_MAX_IMAGE_BYTES: u64 = 8 * 1024 * 1024;

const INSTAGRAM_IMAGE: &[&str] = &["image/png", "image/jpeg", "image/gif"];
const INSTAGRAM_VIDEO: &[&str] = &[
    "video/mp4",
    "video/ogg",
    "video/x-msvideo",
    "video/avi",
    "video/quicktime",
    "video/webm",
];
const INSTAGRAM_AUDIO: &[&str] = &[
    "audio/aac",
    "audio/mp4",
    "audio/m4a",
    "audio/x-m4a",
    "audio/wav",
    "audio/x-wav",
    "audio/wave",
];
const INSTAGRAM_FILE: &[&str] = &["application/pdf"];

/// The attachment kind a file of media type `mime` is sent as: `image/*`, `video/*` and
/// `audio/*` as themselves, anything else as a `file`.
pub fn attachment_kind_of(mime: &str) -> AttachmentKind {
    match essence(mime).split('/').next().unwrap_or_default() {
        "image" => AttachmentKind::Image,
        "video" => AttachmentKind::Video,
        "audio" => AttachmentKind::Audio,
        _ => AttachmentKind::File,
    }
}

/// Checks an upload of `size` bytes of media type `mime`, sent as `kind`, against what
/// `platform` takes.
///
/// # Errors
/// [`InvalidRequest::EmptyAttachment`] for no bytes, [`InvalidRequest::AttachmentTooLarge`]
/// past the platform's size limit for the kind, [`InvalidRequest::AttachmentTypeNotAllowed`]
/// for a media type the platform does not take as that kind.
pub fn check_upload(
    platform: Platform,
    kind: AttachmentKind,
    filename: &str,
    mime: &str,
    size: u64,
) -> Result<(), InvalidRequest> {
    if size == 0 {
        return Err(InvalidRequest::EmptyAttachment {
            filename: filename.to_owned(),
        });
    }
    let mime = essence(mime);
    let (allowed, max): (Option<&[&str]>, u64) = match (platform, kind) {
        (Platform::Instagram, AttachmentKind::Image) => {
            (Some(INSTAGRAM_IMAGE), INSTAGRAM_MAX_IMAGE_BYTES)
        }
        (Platform::Instagram, AttachmentKind::Video) => {
            (Some(INSTAGRAM_VIDEO), MAX_ATTACHMENT_BYTES)
        }
        (Platform::Instagram, AttachmentKind::Audio) => {
            (Some(INSTAGRAM_AUDIO), MAX_ATTACHMENT_BYTES)
        }
        (Platform::Instagram, _) => (Some(INSTAGRAM_FILE), MAX_ATTACHMENT_BYTES),
        _ => (None, MAX_ATTACHMENT_BYTES),
    };
    let type_ok = match allowed {
        Some(types) => types.contains(&mime.as_str()),
        // Messenger takes any file; a media kind must carry its own top-level type (Meta
        // requires `audio/*` for audio, and plays an image or video only when it is one).
        None => kind == AttachmentKind::File || attachment_kind_of(&mime) == kind,
    };
    if !type_ok {
        return Err(InvalidRequest::AttachmentTypeNotAllowed {
            platform,
            kind,
            mime,
            allowed: allowed_text(platform, kind),
        });
    }
    if size > max {
        return Err(InvalidRequest::AttachmentTooLarge {
            platform,
            kind,
            size,
            max,
        });
    }
    Ok(())
}

/// The media types `platform` takes as `kind`, for an error message.
fn allowed_text(platform: Platform, kind: AttachmentKind) -> &'static str {
    match (platform, kind) {
        (Platform::Instagram, AttachmentKind::Image) => "PNG, JPEG or GIF",
        (Platform::Instagram, AttachmentKind::Video) => "MP4, OGG, AVI, MOV or WebM",
        (Platform::Instagram, AttachmentKind::Audio) => "AAC, M4A, WAV or MP4 audio",
        (Platform::Instagram, _) => "PDF",
        (_, AttachmentKind::Image) => "an image/* type",
        (_, AttachmentKind::Video) => "a video/* type",
        (_, AttachmentKind::Audio) => "an audio/* type",
        _ => "any type",
    }
}

/// The media type without parameters, lower case (`Image/PNG; q=1` is `image/png`).
fn essence(mime: &str) -> String {
    mime.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1024 * 1024;

    #[test]
    fn instagram_images_are_png_jpeg_or_gif_up_to_8_mb() {
        let ig = Platform::Instagram;
        assert_eq!(
            check_upload(ig, AttachmentKind::Image, "a.png", "image/png", 8 * MB),
            Ok(())
        );
        assert!(matches!(
            check_upload(ig, AttachmentKind::Image, "a.png", "image/png", 8 * MB + 1),
            Err(InvalidRequest::AttachmentTooLarge { max, .. }) if max == 8 * MB
        ));
        assert!(matches!(
            check_upload(ig, AttachmentKind::Image, "a.webp", "image/webp", MB),
            Err(InvalidRequest::AttachmentTypeNotAllowed {
                allowed: "PNG, JPEG or GIF",
                ..
            })
        ));
        assert!(matches!(
            check_upload(ig, AttachmentKind::File, "a.zip", "application/zip", MB),
            Err(InvalidRequest::AttachmentTypeNotAllowed { allowed: "PDF", .. })
        ));
        assert_eq!(
            check_upload(
                ig,
                AttachmentKind::Video,
                "a.mov",
                "video/quicktime",
                25 * MB
            ),
            Ok(())
        );
    }

    #[test]
    fn messenger_takes_any_file_up_to_25_mb_and_media_of_its_own_type() {
        let fb = Platform::Messenger;
        assert_eq!(
            check_upload(
                fb,
                AttachmentKind::File,
                "a.zip",
                "application/zip",
                25 * MB
            ),
            Ok(())
        );
        assert!(matches!(
            check_upload(
                fb,
                AttachmentKind::File,
                "a.zip",
                "application/zip",
                25 * MB + 1
            ),
            Err(InvalidRequest::AttachmentTooLarge { .. })
        ));
        // A 9 MB image is fine on Messenger, not on Instagram.
        assert_eq!(
            check_upload(fb, AttachmentKind::Image, "a.png", "image/png", 9 * MB),
            Ok(())
        );
        assert!(matches!(
            check_upload(
                fb,
                AttachmentKind::Audio,
                "a.bin",
                "application/octet-stream",
                MB
            ),
            Err(InvalidRequest::AttachmentTypeNotAllowed { .. })
        ));
        assert!(matches!(
            check_upload(fb, AttachmentKind::File, "a.txt", "text/plain", 0),
            Err(InvalidRequest::EmptyAttachment { .. })
        ));
    }

    #[test]
    fn the_kind_follows_the_media_type() {
        assert_eq!(attachment_kind_of("Image/PNG"), AttachmentKind::Image);
        assert_eq!(
            attachment_kind_of("video/mp4; codecs=x"),
            AttachmentKind::Video
        );
        assert_eq!(attachment_kind_of("audio/aac"), AttachmentKind::Audio);
        assert_eq!(attachment_kind_of("application/pdf"), AttachmentKind::File);
        assert_eq!(attachment_kind_of(""), AttachmentKind::File);
    }
}
