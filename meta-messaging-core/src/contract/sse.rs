//! Server-Sent Events framing of live inbox events.

use std::time::Duration;

use futures_util::Stream;

use super::EventStream;
use crate::inbox::{InboxEvent, LiveEvent};

/// How often an idle event stream sends a comment, so proxies and browsers keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One SSE frame: `id: <seq>` (the browser sends it back as `Last-Event-ID` when it
/// reconnects), `event: <type>` and `data: <json>`. A `reset` frame has no id: the client
/// must not resume from it.
pub fn frame(live: &LiveEvent) -> String {
    // Serializing these types cannot fail (no maps with non-string keys, no custom errors); an
    // empty object keeps the stream well-formed if it ever did.
    let data = serde_json::to_string(&live.event).unwrap_or_else(|_| "{}".to_owned());
    match live.event {
        InboxEvent::Reset => format!("event: reset\ndata: {data}\n\n"),
        _ => format!(
            "id: {}\nevent: {}\ndata: {data}\n\n",
            live.seq,
            live.event.name()
        ),
    }
}

/// The first frame of a stream: `event: ready` with the place the stream starts after as its
/// `id`, so a client that reconnects before any change resumes from there.
pub fn ready_frame(position: u64) -> String {
    format!(
        "retry: 2000\nid: {position}\nevent: ready\ndata: {{\"type\":\"ready\",\"after\":{position}}}\n\n"
    )
}

/// The last frame of a stream the server closes because it is shutting down: a `retry` hint
/// of one to three seconds (spread, so the clients of a stopping instance do not all come back
/// at once) and a comment saying why. The browser reconnects after it, to another instance or
/// this one restarted, and resumes from the last `id` it saw.
pub fn closing_frame() -> String {
    let retry_ms = 1000 + rand::random::<u64>() % 2000;
    format!("retry: {retry_ms}\n: the server is shutting down; reconnect\n\n")
}

/// An event stream as SSE text chunks: a [`ready_frame`] (with a `retry` hint), then the
/// [`frame`]s of the events, every frame ready at once in one chunk (one write however many
/// changes a busy tenant has), and a `: keep-alive` comment after every [`KEEP_ALIVE`] of
/// silence. Ends after a `reset` frame, and with a [`closing_frame`] when the inbox drains
/// ([`Inbox::drain`](crate::inbox::Inbox::drain)), so a graceful shutdown is not held up by
/// open streams.
pub fn stream(events: EventStream) -> impl Stream<Item = String> + Send + 'static {
    let EventStream {
        subscription,
        draining,
    } = events;
    let state = (Some(subscription), true, draining);
    futures_util::stream::unfold(state, |(subscription, first, mut draining)| async move {
        let mut subscription = subscription?;
        if first {
            let ready = ready_frame(subscription.position());
            return Some((ready, (Some(subscription), false, draining)));
        }
        let drained = async {
            // The inbox was dropped: nothing will drain it, the subscription ends by itself.
            if draining.wait_for(|draining| *draining).await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            biased;
            () = drained => Some((closing_frame(), (None, false, draining))),
            next = tokio::time::timeout(KEEP_ALIVE, subscription.next()) => match next {
                Ok(Some(event)) => {
                    let mut chunk = frame(&event);
                    while let Some(event) = subscription.try_next() {
                        chunk.push_str(&frame(&event));
                    }
                    Some((chunk, (Some(subscription), false, draining)))
                }
                Ok(None) => None,
                Err(_idle) => Some((
                    ": keep-alive\n\n".to_owned(),
                    (Some(subscription), false, draining),
                )),
            },
        }
    })
}
