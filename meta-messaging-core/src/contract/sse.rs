//! Server-Sent Events framing of live inbox events.

use std::time::Duration;

use futures_util::Stream;

use super::EventStream;
use crate::inbox::InboxEvent;

/// How often an idle event stream sends a comment, so proxies and browsers keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One SSE frame: `event: <type>` and `data: <json>`.
pub fn frame(event: &InboxEvent) -> String {
    // Serializing these types cannot fail (no maps with non-string keys, no custom errors); an
    // empty object keeps the stream well-formed if it ever did.
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".to_owned());
    format!("event: {}\ndata: {data}\n\n", event.name())
}

/// An event stream as SSE text chunks: a `retry` hint first, then one frame per event, and a
/// `: keep-alive` comment after every [`KEEP_ALIVE`] of silence. Ends after a `lagged` frame.
pub fn stream(events: EventStream) -> impl Stream<Item = String> + Send + 'static {
    let state = (Some(events.subscription), true);
    futures_util::stream::unfold(state, |(subscription, first)| async move {
        if first {
            return Some(("retry: 2000\n\n".to_owned(), (subscription, false)));
        }
        let mut subscription = subscription?;
        match tokio::time::timeout(KEEP_ALIVE, subscription.next()).await {
            Ok(Some(event)) => Some((frame(&event), (Some(subscription), false))),
            Ok(None) => None,
            Err(_idle) => Some((": keep-alive\n\n".to_owned(), (Some(subscription), false))),
        }
    })
}
