//! Webhook deliveries: Meta's envelope, signed with the app secret, POSTed in order.

use std::sync::{Arc, Mutex};

use meta_messaging_core::Platform;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::webhook::{DeliveryBuilder, SIGNATURE_HEADER, sign};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::state::{DeliveryRecord, State};

/// Deliveries waiting for the worker; bounded so a stuck callback slows the emulator down
/// instead of growing memory without limit.
const QUEUE: usize = 1024;

/// The sending side of the delivery queue.
#[derive(Clone)]
pub(crate) struct Outbox {
    queue: mpsc::Sender<Vec<u8>>,
}

impl Outbox {
    /// Starts the worker that POSTs queued deliveries one at a time, so they arrive in the
    /// order the events happened.
    pub(crate) fn start(state: Arc<Mutex<State>>, http: reqwest::Client) -> Self {
        let (queue, mut pending) = mpsc::channel::<Vec<u8>>(QUEUE);
        tokio::spawn(async move {
            while let Some(body) = pending.recv().await {
                let record = deliver(&state, &http, body).await;
                if let Ok(mut state) = state.lock() {
                    state.deliveries.push(record);
                }
            }
        });
        Self { queue }
    }

    /// Queues one `messaging[]` event for the Page or Instagram account `account_id`.
    pub(crate) async fn send(&self, platform: Platform, account_id: &str, event: Value) {
        let body = DeliveryBuilder::new(platform, account_id)
            .messaging_event(event)
            .build();
        // The worker only stops once every Outbox is gone, so this cannot fail while we hold one.
        let _ = self.queue.send(body).await;
    }
}

async fn deliver(state: &Mutex<State>, http: &reqwest::Client, body: Vec<u8>) -> DeliveryRecord {
    let target = state.lock().ok().and_then(|s| {
        let url = s.world.callback_url.clone()?;
        Some((url, AppSecret::new(s.world.app.secret.as_str())))
    });
    let parsed = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some((url, secret)) = target else {
        return DeliveryRecord {
            body: parsed,
            status: None,
            error: None,
        };
    };
    let signature = sign(&secret, &body);
    let answer = http
        .post(&url)
        .header(SIGNATURE_HEADER, signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    match answer {
        Ok(response) => DeliveryRecord {
            body: parsed,
            status: Some(response.status().as_u16()),
            error: None,
        },
        Err(err) => {
            let err = err.without_url();
            tracing::warn!(error = %err, "webhook delivery failed");
            DeliveryRecord {
                body: parsed,
                status: None,
                error: Some(err.to_string()),
            }
        }
    }
}
