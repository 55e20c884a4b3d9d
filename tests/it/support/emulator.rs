//! A running emulator with the real `GraphClient` pointed at it, and a webhook receiver.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use meta_messaging_core::graph::{AccountClient, GraphClient};
use meta_messaging_core::ids::PageId;
use meta_messaging_core::secret::{AppSecret, PageAccessToken};
use meta_messaging_core::webhook::{self, Event, SIGNATURE_HEADER, SignatureVerifier};
use meta_messaging_emulator::{Emulator, RunningEmulator, World};
use tokio::sync::mpsc;

use crate::support::graph_mock::fast_retries;

pub const PAGE_ID: &str = "104417552380421";
pub const IG_ACCOUNT_ID: &str = "17841400000000000";
pub const PAGE_TOKEN: &str = "EAAG-emulator-page-token";
pub const USER_TOKEN: &str = "EAAG-emulator-user-token";
pub const PSID: &str = "6758492015643287";
pub const IGSID: &str = "5000000000000001";
pub const APP_ID: &str = "1234567890";
pub const APP_SECRET: &str = "emulator-app-secret";

/// A webhook endpoint that hands every delivery to the test, after checking its signature.
pub struct Receiver {
    pub url: String,
    deliveries: mpsc::Receiver<(Option<String>, Bytes)>,
}

impl Receiver {
    pub async fn start() -> Self {
        let (tx, deliveries) = mpsc::channel(64);
        let app = Router::new().route(
            "/webhook",
            post(move |headers: HeaderMap, body: Bytes| {
                let tx = tx.clone();
                async move {
                    let signature = headers
                        .get(SIGNATURE_HEADER)
                        .map(|v| v.to_str().unwrap().to_owned());
                    tx.send((signature, body)).await.unwrap();
                    "EVENT_RECEIVED"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, deliveries }
    }

    /// The next delivery's events; fails unless it is signed with the app secret.
    pub async fn next(&mut self) -> Vec<Event> {
        let body = self.next_signed().await;
        webhook::parse(&body).expect("a delivery in Meta's shape")
    }

    /// The next delivery's JSON body as sent; fails unless it is signed with the app secret.
    pub async fn next_json(&mut self) -> serde_json::Value {
        serde_json::from_slice(&self.next_signed().await).expect("a JSON delivery")
    }

    async fn next_signed(&mut self) -> Bytes {
        let (signature, body) =
            tokio::time::timeout(Duration::from_secs(5), self.deliveries.recv())
                .await
                .expect("a webhook delivery within 5 s")
                .expect("the receiver is running");
        SignatureVerifier::new(AppSecret::new(APP_SECRET))
            .verify(signature.as_deref(), &body)
            .expect("a valid X-Hub-Signature-256");
        body
    }

    /// Fails when a delivery arrives within `wait`.
    pub async fn assert_quiet(&mut self, wait: Duration) {
        if let Ok(Some((_, body))) = tokio::time::timeout(wait, self.deliveries.recv()).await {
            panic!("unexpected delivery: {}", String::from_utf8_lossy(&body));
        }
    }
}

/// The time now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The demo world delivering to `receiver`, and a client against it.
pub async fn start(receiver: Option<&Receiver>) -> (RunningEmulator, GraphClient) {
    let mut world = World::demo();
    if let Some(receiver) = receiver {
        world = world.callback_url(receiver.url.clone());
    }
    start_world(world).await
}

pub async fn start_world(world: World) -> (RunningEmulator, GraphClient) {
    let emulator = Emulator::start(world).await.unwrap();
    let client = GraphClient::builder()
        .graph_url(emulator.url())
        .instagram_url(emulator.url())
        .retry(fast_retries())
        .build()
        .unwrap();
    (emulator, client)
}

pub fn messenger(client: &GraphClient) -> AccountClient {
    client.messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
}

pub fn instagram(client: &GraphClient) -> AccountClient {
    client.instagram_via_page(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
}
