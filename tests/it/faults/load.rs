//! What the fault tests share: a webhook load that goes on until told to stop and records how
//! each delivery was answered, and an SSE client that reconnects with `Last-Event-ID` as a
//! browser does and records every frame.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use meta_messaging_core::ids::MessageId;
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::webhook::{DeliveryBuilder, SIGNATURE_HEADER};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::support::graph_mock::{APP_SECRET, IG_ACCOUNT_ID};

/// Delivery `i` of a load: one Instagram message from one of 97 customers.
pub(crate) fn delivery(i: usize) -> (MessageId, Vec<u8>, String) {
    let builder = DeliveryBuilder::new(Platform::Instagram, IG_ACCOUNT_ID);
    let mid = builder.new_message_id();
    let (body, signature) = builder
        .message(
            format!("71000000000{:05}", i % 97),
            serde_json::json!({"mid": mid, "text": format!("fault test {i}")}),
        )
        .signed(&AppSecret::new(APP_SECRET));
    (mid, body, signature)
}

/// How the host answered one delivery.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    /// 200: Meta forgets the delivery, so it must be stored.
    Acknowledged,
    /// Any other status: Meta delivers it again later.
    Refused(u16),
    /// No answer at all (a reset connection, a timeout).
    Lost(String),
}

/// Every delivery a load sent, by message id, with its body for a redelivery.
pub(crate) type Sent = HashMap<MessageId, (Vec<u8>, String, Answer)>;

/// A webhook load from concurrent senders, each posting fresh deliveries one after the other.
pub(crate) struct Load {
    sent: Arc<Mutex<Sent>>,
    acknowledged: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    senders: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts `senders` tasks posting to `url`.
    pub(crate) fn start(url: &str, senders: usize) -> Load {
        let sent = Arc::new(Mutex::new(Sent::new()));
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicUsize::new(0));
        let client = crate::support::http::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let senders = (0..senders)
            .map(|_| {
                let (sent, acknowledged, stop, next, client, url) = (
                    sent.clone(),
                    acknowledged.clone(),
                    stop.clone(),
                    next.clone(),
                    client.clone(),
                    url.to_owned(),
                );
                tokio::spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        let (mid, body, signature) = delivery(next.fetch_add(1, Ordering::SeqCst));
                        let answer = match client
                            .post(&url)
                            .header(SIGNATURE_HEADER, &signature)
                            .body(body.clone())
                            .send()
                            .await
                        {
                            Ok(response) if response.status() == 200 => {
                                acknowledged.fetch_add(1, Ordering::SeqCst);
                                Answer::Acknowledged
                            }
                            Ok(response) => Answer::Refused(response.status().as_u16()),
                            Err(err) => Answer::Lost(err.to_string()),
                        };
                        sent.lock().await.insert(mid, (body, signature, answer));
                    }
                })
            })
            .collect();
        Load {
            sent,
            acknowledged,
            stop,
            senders,
        }
    }

    /// How many deliveries were answered 200 so far.
    pub(crate) fn acknowledged(&self) -> usize {
        self.acknowledged.load(Ordering::SeqCst)
    }

    /// Waits until `count` deliveries were answered 200, for at most 60 s.
    pub(crate) async fn wait_acknowledged(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.acknowledged() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} deliveries answered 200 in 60 s",
                self.acknowledged()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the senders once their requests in flight are answered.
    pub(crate) async fn stop(self) -> Sent {
        self.stop.store(true, Ordering::SeqCst);
        for sender in self.senders {
            sender.await.unwrap();
        }
        Arc::try_unwrap(self.sent).unwrap().into_inner()
    }
}

/// One SSE frame with an id: a change of the inbox.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub(crate) id: u64,
    pub(crate) event: String,
    pub(crate) data: Value,
}

/// An SSE client of `GET /events` that reconnects with the last id it saw, as a browser does.
pub(crate) struct LiveClient {
    frames: Arc<Mutex<Vec<Frame>>>,
    /// The id of the first `ready` frame: the change frames go on from it.
    pub(crate) start: u64,
    reconnects: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl LiveClient {
    /// Connects to `url` (with the API token) and follows it until dropped.
    pub(crate) async fn follow(url: &str) -> LiveClient {
        let frames = Arc::new(Mutex::new(Vec::new()));
        let reconnects = Arc::new(AtomicUsize::new(0));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let task = {
            let (frames, reconnects, url) = (frames.clone(), reconnects.clone(), url.to_owned());
            tokio::spawn(follow(url, frames, reconnects, ready_tx))
        };
        let start = tokio::time::timeout(Duration::from_secs(10), ready_rx)
            .await
            .expect("no ready frame within 10 s")
            .unwrap();
        LiveClient {
            frames,
            start,
            reconnects,
            task,
        }
    }

    /// The change frames received so far.
    pub(crate) async fn frames(&self) -> Vec<Frame> {
        self.frames.lock().await.clone()
    }

    /// How many times the stream ended or failed and the client reconnected.
    pub(crate) fn reconnects(&self) -> usize {
        self.reconnects.load(Ordering::SeqCst)
    }

    /// Waits (up to 60 s) until the client has a `message_stored` frame for each of `mids`,
    /// then checks the frames: ids one after the other from [`LiveClient::start`] (no gap,
    /// no repeat), one `message_stored` per message, none for another message.
    pub(crate) async fn expect_messages(&self, mids: &HashSet<MessageId>) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let frames = self.frames().await;
            let stored: Vec<&str> = frames
                .iter()
                .filter(|f| f.event == "message_stored")
                .filter_map(|f| f.data["message"]["message_id"].as_str())
                .collect();
            if stored.len() >= mids.len() {
                for (expected, frame) in (self.start + 1..).zip(&frames) {
                    assert_eq!(
                        frame.id,
                        expected,
                        "SSE ids must follow each other with no gap and no repeat ({} reconnects)",
                        self.reconnects()
                    );
                }
                let unique: HashSet<&str> = stored.iter().copied().collect();
                assert_eq!(
                    unique.len(),
                    stored.len(),
                    "a message_stored frame repeated"
                );
                let expected: HashSet<&str> = mids.iter().map(MessageId::as_str).collect();
                assert_eq!(unique, expected, "message_stored frames against the store");
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} of {} message_stored frames after 60 s ({} reconnects)",
                stored.len(),
                mids.len(),
                self.reconnects()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for LiveClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn follow(
    url: String,
    frames: Arc<Mutex<Vec<Frame>>>,
    reconnects: Arc<AtomicUsize>,
    ready: tokio::sync::oneshot::Sender<u64>,
) {
    let client = crate::support::servers::client();
    let mut ready = Some(ready);
    let mut last: Option<u64> = None;
    loop {
        let mut request = client.get(&url);
        if let Some(last) = last {
            request = request.header("last-event-id", last.to_string());
        }
        if let Ok(response) = request.send().await
            && response.status() == 200
        {
            let mut stream = response.bytes_stream();
            let mut buffer = String::new();
            while let Some(Ok(chunk)) = stream.next().await {
                buffer.push_str(std::str::from_utf8(&chunk).unwrap());
                while let Some(end) = buffer.find("\n\n") {
                    let text: String = buffer.drain(..end + 2).collect();
                    let field = |name: &str| {
                        text.lines()
                            .find_map(|l| l.strip_prefix(name))
                            .map(str::to_owned)
                    };
                    let (Some(event), Some(data)) = (field("event: "), field("data: ")) else {
                        continue; // a keep-alive comment
                    };
                    assert_ne!(event, "reset", "the stream told the client to reload");
                    let id: u64 = field("id: ").unwrap().parse().unwrap();
                    if event == "ready" {
                        if let Some(ready) = ready.take() {
                            let _ = ready.send(id);
                        }
                    } else {
                        frames.lock().await.push(Frame {
                            id,
                            event,
                            data: serde_json::from_str(&data).unwrap(),
                        });
                    }
                    last = Some(id);
                }
            }
        }
        reconnects.fetch_add(1, Ordering::SeqCst);
        // The `retry:` hint the stream gives is 2 s; shorter here to keep the test short.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
