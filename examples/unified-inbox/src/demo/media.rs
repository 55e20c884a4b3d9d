//! What the demo's customers attach, served by the app itself so the demo works offline: a
//! picture, a voice note and a receipt.

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;

/// Where the files are served.
pub(crate) const PATH: &str = "/demo-media";

const SNEAKER: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 200" width="320" height="200">
<rect width="320" height="200" rx="18" fill="#f1f4f9"/>
<path d="M40 132c10-32 36-58 70-60 18-1 26 14 44 18 26 6 50 4 74 16 22 11 40 20 52 30 8 7 6 22-8 22H52c-12 0-16-12-12-26z" fill="#e1306c"/>
<path d="M52 146h212" stroke="#fff" stroke-width="8" stroke-linecap="round"/>
<circle cx="118" cy="104" r="6" fill="#fff"/><circle cx="140" cy="110" r="6" fill="#fff"/><circle cx="162" cy="116" r="6" fill="#fff"/>
<text x="160" y="186" font-family="sans-serif" font-size="16" text-anchor="middle" fill="#4b5563">Runner 2, size 42</text>
</svg>"##;

const RECEIPT: &str = "ACME SHOES - order 10042\nRunner 2, size 42 ......... 89.00 EUR\nShipping ................... 0.00 EUR\nTotal ..................... 89.00 EUR\n";

/// `GET /demo-media/{sneaker.svg, voice-note.wav, receipt.txt}`.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            &format!("{PATH}/sneaker.svg"),
            get(|| async { file("image/svg+xml", SNEAKER.as_bytes().to_vec()) }),
        )
        .route(
            &format!("{PATH}/voice-note.wav"),
            get(|| async { file("audio/wav", voice_note()) }),
        )
        .route(
            &format!("{PATH}/receipt.txt"),
            get(|| async { file("text/plain; charset=utf-8", RECEIPT.as_bytes().to_vec()) }),
        )
}

fn file(content_type: &'static str, body: Vec<u8>) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

/// A short two-tone chime as 8-bit mono PCM WAV: an audio attachment without shipping a file.
fn voice_note() -> Vec<u8> {
    const RATE: u32 = 8_000;
    let samples: Vec<u8> = (0..RATE)
        .map(|i| {
            let t = f64::from(i) / f64::from(RATE);
            let tone = if t < 0.5 { 660.0 } else { 880.0 };
            let fade = 1.0 - (t * 2.0).fract();
            let level = (t * tone * std::f64::consts::TAU).sin() * fade * 60.0;
            // 8-bit WAV samples are unsigned around 128; `level` stays within +-60.
            (128.0 + level).round().clamp(0.0, 255.0) as u8
        })
        .collect();
    let data_len = u32::try_from(samples.len()).unwrap_or(u32::MAX);
    let mut wav = Vec::with_capacity(44 + samples.len());
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&RATE.to_le_bytes()); // bytes per second
    wav.extend_from_slice(&1u16.to_le_bytes()); // block align
    wav.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.extend_from_slice(&samples);
    wav
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_voice_note_is_a_complete_wav() {
        let wav = super::voice_note();
        assert_eq!(&wav[..4], b"RIFF");
        let riff_len = u32::from_le_bytes([wav[4], wav[5], wav[6], wav[7]]) as usize;
        assert_eq!(riff_len + 8, wav.len());
    }
}
