//! Webhook deliveries: Meta's envelope, signed with the app secret, POSTed in order, and
//! retried later when the callback does not answer 200.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use meta_messaging_core::Platform;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::webhook::{DeliveryBuilder, SIGNATURE_HEADER, sign};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::state::{DeliveryRecord, State};
use crate::subscriptions::{Outgoing, messaging_field, messaging_user};

/// Deliveries waiting for the worker; bounded so a stuck callback slows the emulator down
/// instead of growing memory without limit.
const QUEUE: usize = 1024;

/// The sending side of the delivery queue.
#[derive(Clone)]
pub(crate) struct Outbox {
    queue: mpsc::Sender<Vec<u8>>,
    /// Read before queuing, for the settings that keep Meta from delivering an event.
    state: Arc<Mutex<State>>,
}

impl Outbox {
    /// Starts the worker that POSTs queued deliveries one at a time, so they arrive in the
    /// order the events happened. A failed delivery is retried by a task of its own, as Meta
    /// does: later deliveries do not wait for it, so a retry can arrive out of order.
    pub(crate) fn start(state: Arc<Mutex<State>>, http: reqwest::Client) -> Self {
        let (queue, mut pending) = mpsc::channel::<Vec<u8>>(QUEUE);
        let worker_state = Arc::clone(&state);
        tokio::spawn(async move {
            let state = worker_state;
            while let Some(body) = pending.recv().await {
                let body: Arc<[u8]> = body.into();
                if !attempt(&state, &http, &body, 1).await {
                    tokio::spawn(retry(Arc::clone(&state), http.clone(), body));
                }
            }
        });
        Self { queue, state }
    }

    /// Whether Meta would deliver the event; a withheld one is logged with the reason.
    fn delivers(&self, event: &Outgoing<'_>) -> bool {
        let Some(reason) = lock(&self.state).withheld(event) else {
            return true;
        };
        tracing::info!(
            account = event.account_id,
            field = event.field,
            reason,
            "webhook not delivered"
        );
        false
    }

    /// Queues one `messaging[]` event for the Page or Instagram account `account_id`.
    pub(crate) async fn send(&self, platform: Platform, account_id: &str, event: Value) {
        let outgoing = Outgoing {
            platform,
            account_id,
            field: messaging_field(platform, &event),
            user: messaging_user(account_id, &event),
        };
        if !self.delivers(&outgoing) {
            return;
        }
        let body = DeliveryBuilder::new(platform, account_id)
            .messaging_event(event)
            .build();
        // The worker only stops once every Outbox is gone, so this cannot fail while we hold one.
        let _ = self.queue.send(body).await;
    }

    /// Queues one `changes[]` item (`field`, `value`) for the Page or Instagram account
    /// `account_id`: how Meta delivers comments.
    pub(crate) async fn send_change(
        &self,
        platform: Platform,
        account_id: &str,
        field: &str,
        value: Value,
    ) {
        let outgoing = Outgoing {
            platform,
            account_id,
            field,
            user: value["from"]["id"].as_str(),
        };
        if !self.delivers(&outgoing) {
            return;
        }
        let body = serde_json::json!({
            "object": platform.webhook_object(),
            "entry": [{
                "id": account_id,
                "time": crate::state::now_ms(),
                "changes": [{"field": field, "value": value}],
            }],
        });
        let _ = self.queue.send(body.to_string().into_bytes()).await;
    }

    /// Queues one event in `standby[]`: what Meta sends an app that does not own the thread.
    pub(crate) async fn send_standby(&self, platform: Platform, account_id: &str, event: Value) {
        let outgoing = Outgoing {
            platform,
            account_id,
            field: "standby",
            user: messaging_user(account_id, &event),
        };
        if !self.delivers(&outgoing) {
            return;
        }
        let body = serde_json::json!({
            "object": platform.webhook_object(),
            "entry": [{"id": account_id, "time": crate::state::now_ms(), "standby": [event]}],
        });
        let _ = self.queue.send(body.to_string().into_bytes()).await;
    }
}

/// Redelivers `body` after growing delays (the world's `webhook_retry_delay_ms`, doubled each
/// time) until the callback accepts it or the world's `webhook_retries` are used up.
async fn retry(state: Arc<Mutex<State>>, http: reqwest::Client, body: Arc<[u8]>) {
    let (retries, mut delay) = {
        let state = lock(&state);
        (
            state.world.webhook_retries,
            Duration::from_millis(state.world.webhook_retry_delay_ms),
        )
    };
    for number in 2..=retries.saturating_add(1) {
        tokio::time::sleep(delay).await;
        if attempt(&state, &http, &body, number).await {
            return;
        }
        delay = delay.saturating_mul(2);
    }
}

/// One delivery attempt, recorded in the log; `true` when the callback answered 2xx, or when
/// there is no callback to deliver to.
async fn attempt(state: &Mutex<State>, http: &reqwest::Client, body: &[u8], number: u32) -> bool {
    let record = deliver(state, http, body, number).await;
    let delivered = record.status.is_none_or(|s| (200..300).contains(&s)) && record.error.is_none();
    lock(state).deliveries.push(record);
    delivered
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // See `Shared::lock`: a poisoned lock still guards state worth serving.
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn deliver(
    state: &Mutex<State>,
    http: &reqwest::Client,
    body: &[u8],
    attempt: u32,
) -> DeliveryRecord {
    let target = {
        let s = lock(state);
        s.world
            .callback_url
            .clone()
            .map(|url| (url, AppSecret::new(s.world.app.secret.as_str())))
    };
    let parsed = serde_json::from_slice(body).unwrap_or(Value::Null);
    let Some((url, secret)) = target else {
        return DeliveryRecord {
            body: parsed,
            status: None,
            error: None,
            attempt,
        };
    };
    let signature = sign(&secret, body);
    let answer = http
        .post(&url)
        .header(SIGNATURE_HEADER, signature)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await;
    match answer {
        Ok(response) => {
            let status = response.status().as_u16();
            if !response.status().is_success() {
                tracing::warn!(status, attempt, "the webhook callback refused a delivery");
            }
            DeliveryRecord {
                body: parsed,
                status: Some(status),
                error: None,
                attempt,
            }
        }
        Err(err) => {
            let err = err.without_url();
            tracing::warn!(error = %err, attempt, "webhook delivery failed");
            DeliveryRecord {
                body: parsed,
                status: None,
                error: Some(err.to_string()),
                attempt,
            }
        }
    }
}
