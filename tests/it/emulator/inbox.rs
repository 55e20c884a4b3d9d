//! End to end: an adapter serving an inbox over a real SQLite store, talking to the emulator as
//! its Graph API and receiving the emulator's webhooks. Accounts are connected through the
//! OAuth routes, customers write through the emulator, replies go out through `POST /messages`.

use std::sync::Arc;
use std::time::Duration;

use meta_messaging_core::graph::GraphClient;
use meta_messaging_core::inbox::{BackfillOptions, Inbox, MediaOptions, OAuthSettings, Tenancy};
use meta_messaging_core::media::{FsMediaStore, MediaStore};
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::SqliteStore;
use meta_messaging_emulator::{Inbound, InboundComment, InboundReaction, World};
use serde_json::{Value, json};
use sha2::Digest as _;

use super::*;
use crate::support::servers::{Adapter, PREFIX, bind, serve_bound};

/// An inbox served by `adapter`, connected to the emulator's demo Page and Instagram account,
/// keeping attachments in `files` (by default a directory, `{dir}/media`).
pub(super) struct Deployment {
    pub(super) emulator: RunningEmulator,
    pub(super) base: String,
    pub(super) http: reqwest::Client,
    files: Arc<dyn MediaStore>,
    _dir: tempfile::TempDir,
}

impl Deployment {
    pub(super) async fn start(adapter: Adapter, world: World) -> Self {
        Self::start_with(
            adapter,
            world,
            BackfillOptions::new().page_delay(Duration::ZERO),
        )
        .await
    }

    /// [`start`](Self::start) with these backfill settings (the accounts' backfill starts when
    /// they are connected).
    pub(super) async fn start_with(
        adapter: Adapter,
        world: World,
        backfill: BackfillOptions,
    ) -> Self {
        Self::launch(adapter, world, backfill, None).await
    }

    /// [`start`](Self::start) keeping attachments in `files`.
    async fn start_keeping_in(adapter: Adapter, world: World, files: Arc<dyn MediaStore>) -> Self {
        let backfill = BackfillOptions::new().page_delay(Duration::ZERO);
        Self::launch(adapter, world, backfill, Some(files)).await
    }

    async fn launch(
        adapter: Adapter,
        world: World,
        backfill: BackfillOptions,
        files: Option<Arc<dyn MediaStore>>,
    ) -> Self {
        let (emulator, _) = start_world(world).await;
        let dir = tempfile::tempdir().unwrap();
        let files =
            files.unwrap_or_else(|| Arc::new(FsMediaStore::new(dir.path().join("media")).unwrap()));
        let store = SqliteStore::open(dir.path().join("inbox.db"))
            .await
            .unwrap();
        let bound = bind();
        let base = bound.1.clone();
        let graph = GraphClient::builder()
            .graph_url(emulator.url())
            .dialog_url(emulator.url())
            .retry(fast_retries())
            .build()
            .unwrap();
        let inbox = Inbox::builder()
            .app_secret(AppSecret::new(APP_SECRET))
            .verify_token(VerifyToken::new("e2e-verify-token"))
            .store(store)
            .graph(graph)
            .tenancy(Tenancy::Single("default".into()))
            .oauth(OAuthSettings::new(APP_ID, format!("{base}/oauth/callback")))
            .backfill(backfill)
            .media(MediaOptions::shared(Arc::clone(&files)).mount(PREFIX))
            .build()
            .unwrap();
        serve_bound(adapter, inbox, bound).await;
        emulator
            .set_callback_url(Some(format!("{base}/webhook")))
            .unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", crate::support::servers::API_TOKEN)
                .parse()
                .unwrap(),
        );
        let http = crate::support::http::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap();
        let deployment = Self {
            emulator,
            base,
            http,
            files,
            _dir: dir,
        };
        deployment.connect().await;
        deployment
    }

    /// The operator clicks "Connect": our start route, Meta's dialog, our callback.
    async fn connect(&self) {
        let start = self
            .http
            .get(format!("{}/oauth/start", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 302);
        let cookie = start.headers()["set-cookie"].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let dialog = self
            .http
            .get(start.headers()["location"].to_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(
            dialog.status(),
            303,
            "the emulator's dialog consents at once"
        );
        let callback = self
            .http
            .get(dialog.headers()["location"].to_str().unwrap())
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(callback.status(), 200);
        let connected: Value = callback.json().await.unwrap();
        let ids: Vec<&str> = connected["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["account_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [PAGE_ID, IG_ACCOUNT_ID]);
    }

    pub(super) async fn get(&self, path_and_query: &str) -> Value {
        let answer = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "GET {path_and_query}");
        answer.json().await.unwrap()
    }

    async fn send(&self, body: Value) -> (u16, Value) {
        let answer = self
            .http
            .post(format!("{}/messages", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.json().await.unwrap())
    }

    /// The messages of `platform`, oldest first, once `ready` holds for them (webhooks arrive
    /// asynchronously); fails after 5 s with what was there.
    pub(super) async fn messages_when(
        &self,
        platform: &str,
        ready: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let mut last = Vec::new();
        for _ in 0..250 {
            let page = self.get(&format!("/messages?platform={platform}")).await;
            last = page["data"].as_array().unwrap().clone();
            last.reverse();
            if ready(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the inbox never reached the expected state: {last:#?}");
    }

    /// Waits until the emulator delivered `count` webhooks and the inbox answered each 200.
    pub(super) async fn delivered(&self, count: usize) {
        for _ in 0..250 {
            let deliveries = self.emulator.deliveries();
            if deliveries.len() >= count {
                assert!(
                    deliveries.iter().all(|d| d.status == Some(200)),
                    "{deliveries:#?}"
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "fewer than {count} deliveries: {:#?}",
            self.emulator.deliveries()
        );
    }
}

/// An image an Instagram customer sends is kept before Meta's URL expires, and served afterwards with
/// the same bytes; unsending the message deletes the kept file. In `files` when given, else in a
/// directory.
async fn an_image_outlives_its_cdn_url(adapter: Adapter, files: Option<Arc<dyn MediaStore>>) {
    let world = World::demo().attachment_url_ttl(Duration::from_millis(1_500));
    let app = match files {
        Some(files) => Deployment::start_keeping_in(adapter, world, files).await,
        None => Deployment::start(adapter, world).await,
    };
    let photo: Vec<u8> = (0..4_096_u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha256 = hex::encode(sha2::Sha256::digest(&photo));
    let cdn_url = app.emulator.host_media("image/png", photo.clone());
    assert!(cdn_url.contains("oe="), "{cdn_url}");

    let mid = app
        .emulator
        .user_writes(IGSID, Inbound::attachment("image", &cdn_url))
        .await
        .unwrap();
    let stored = app
        .messages_when("instagram", |m| {
            m.len() == 1 && m[0]["attachments"][0]["stored"] == true
        })
        .await;
    assert_eq!(stored[0]["message_id"], mid.as_str());
    let a = &stored[0]["attachments"][0];
    assert_eq!(a["url"], cdn_url.as_str(), "Meta's URL is kept: {a}");
    assert_eq!(
        (a["mime"].as_str(), a["size"].as_u64()),
        (Some("image/png"), Some(4_096))
    );
    assert_eq!(a["sha256"], sha256.as_str());
    let media_url = a["media_url"].as_str().unwrap();
    let media_url = format!("{}{media_url}", app.base.strip_suffix(PREFIX).unwrap());

    // Meta's URL expires, as its CDN's do.
    let mut cdn_status = 0;
    for _ in 0..150 {
        cdn_status = app
            .http
            .get(&cdn_url)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if cdn_status == 403 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(cdn_status, 403, "the emulator's URL expired");

    let kept = app.http.get(&media_url).send().await.unwrap();
    assert_eq!(kept.status(), 200);
    assert_eq!(kept.headers()["content-type"], "image/png");
    let body = kept.bytes().await.unwrap();
    assert_eq!(hex::encode(sha2::Sha256::digest(&body)), sha256);
    let file = app.files.get(&sha256).await.unwrap();
    assert_eq!(file.as_deref(), Some(photo.as_slice()), "the kept file");

    app.emulator
        .user_unsends(IGSID, mid.as_str())
        .await
        .unwrap();
    let mut status = 0;
    for _ in 0..250 {
        status = app
            .http
            .get(&media_url)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 404 && app.files.get(&sha256).await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, 404, "an unsent message's media is gone");
    assert_eq!(
        app.files.get(&sha256).await.unwrap(),
        None,
        "its file is deleted"
    );
    let after = app
        .messages_when("instagram", |m| m[0]["deleted"] == true)
        .await;
    assert_eq!(after[0]["attachments"], json!([]));
}

#[tokio::test]
async fn an_image_outlives_its_cdn_url_through_axum() {
    an_image_outlives_its_cdn_url(Adapter::Axum, None).await;
}

#[tokio::test]
async fn an_image_outlives_its_cdn_url_through_actix() {
    an_image_outlives_its_cdn_url(Adapter::Actix, None).await;
}

#[tokio::test]
async fn an_image_outlives_its_cdn_url_in_an_s3_bucket() {
    let Some(files) = crate::support::s3::fresh_store("e2e").await else {
        return;
    };
    an_image_outlives_its_cdn_url(Adapter::Axum, Some(Arc::new(files))).await;
}

async fn a_messenger_conversation(adapter: Adapter) {
    let app = Deployment::start(adapter, World::demo()).await;

    let asked = app
        .emulator
        .user_writes(PSID, Inbound::text("Do you have size 42?"))
        .await
        .unwrap();
    let stored = app.messages_when("messenger", |m| m.len() == 1).await;
    assert_eq!(stored[0]["message_id"], asked.as_str());
    assert_eq!(stored[0]["direction"], "inbound");
    assert_eq!(stored[0]["account_id"], PAGE_ID);
    assert_eq!(stored[0]["sender_id"], PSID);

    let (status, reply) = app
        .send(json!({"platform": "messenger", "account_id": PAGE_ID, "recipient_id": PSID, "text": "We do!"}))
        .await;
    assert_eq!(status, 201, "{reply}");
    let sent = app.emulator.sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(reply["message_id"], sent[0].message_id.as_str());
    assert_eq!(sent[0].message["text"], "We do!");
    assert_eq!(sent[0].messaging_type.as_deref(), Some("RESPONSE"));

    // The echo arrives with the same mid and is merged into the stored reply.
    app.delivered(2).await;
    let thread = app.messages_when("messenger", |m| m.len() == 2).await;
    assert_eq!(thread[1]["id"], reply["id"]);
    assert_eq!(thread[1]["direction"], "outbound");

    // What the customer does next reaches the stored thread.
    app.emulator
        .user_reacts(PSID, InboundReaction::love(sent[0].message_id.as_str()))
        .await
        .unwrap();
    app.emulator.user_reads(PSID).await.unwrap();
    app.emulator
        .user_edits(PSID, asked.as_str(), "Do you have size 43?")
        .await
        .unwrap();
    let thread = app
        .messages_when("messenger", |m| {
            m.len() == 2 && m[0]["edit_count"] == 1 && !m[1]["read_at_ms"].is_null()
        })
        .await;
    assert_eq!(thread[0]["text"], "Do you have size 43?");
    assert_eq!(thread[1]["reactions"][0]["reaction"], "love");

    let conversations = app.get("/conversations?platform=messenger").await;
    assert_eq!(conversations["data"].as_array().unwrap().len(), 1);
    assert_eq!(conversations["data"][0]["participant_id"], PSID);
}

#[tokio::test]
async fn a_messenger_conversation_through_axum() {
    a_messenger_conversation(Adapter::Axum).await;
}

#[tokio::test]
async fn a_messenger_conversation_through_actix() {
    a_messenger_conversation(Adapter::Actix).await;
}

#[tokio::test]
async fn an_instagram_conversation_with_a_reply_and_an_unsend() {
    let app = Deployment::start(Adapter::Axum, World::demo()).await;
    let asked = app
        .emulator
        .user_writes(IGSID, Inbound::text("Is the red one back?"))
        .await
        .unwrap();
    app.messages_when("instagram", |m| m.len() == 1).await;

    let (status, reply) = app
        .send(json!({
            "platform": "instagram", "account_id": IG_ACCOUNT_ID, "recipient_id": IGSID,
            "text": "Tomorrow!", "reply_to": asked.as_str(),
            "quick_replies": [{"title": "Notify me", "payload": "NOTIFY"}]
        }))
        .await;
    assert_eq!(status, 201, "{reply}");
    let sent = &app.emulator.sent_messages()[0];
    assert_eq!(
        sent.page_id, PAGE_ID,
        "Instagram goes through the linked Page"
    );
    assert_eq!(sent.message["quick_replies"][0]["payload"], "NOTIFY");

    let tapped = app
        .emulator
        .user_writes(IGSID, Inbound::text("Notify me").quick_reply("NOTIFY"))
        .await
        .unwrap();
    app.delivered(3).await;
    let thread = app.messages_when("instagram", |m| m.len() == 3).await;
    assert_eq!(thread[1]["message_id"], reply["message_id"]);
    assert_eq!(thread[2]["quick_reply"], "NOTIFY");

    app.emulator
        .user_unsends(IGSID, tapped.as_str())
        .await
        .unwrap();
    let thread = app
        .messages_when("instagram", |m| m.len() == 3 && m[2]["deleted"] == true)
        .await;
    assert_eq!(thread[2]["message_id"], tapped.as_str());
}

/// Meta's "Require App Secret" on: the inbox, handed a client without the secret, signs every
/// call with its own, so connecting through the OAuth routes and replying both work.
#[tokio::test]
async fn with_require_app_secret_on_connecting_and_replying_work() {
    let app = Deployment::start(Adapter::Actix, World::demo().require_appsecret_proof(true)).await;
    app.emulator
        .user_writes(PSID, Inbound::text("Open on Sunday?"))
        .await
        .unwrap();
    app.messages_when("messenger", |m| m.len() == 1).await;
    let (status, reply) = app
        .send(json!({"platform": "messenger", "account_id": PAGE_ID, "recipient_id": PSID, "text": "Yes, 10 to 4."}))
        .await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(
        app.emulator.sent_messages()[0].message["text"],
        "Yes, 10 to 4."
    );
}

/// The troubleshooting cases the emulator enforces, as the inbox's HTTP API reports them: the
/// status, our kind, Meta's code and subcode, and a fix that says what to do.
#[tokio::test]
async fn meta_s_refusals_reach_the_http_api_with_their_fix() {
    let app = Deployment::start(Adapter::Axum, World::demo()).await;
    let to_messenger =
        json!({"platform": "messenger", "account_id": PAGE_ID, "recipient_id": PSID, "text": "hi"});
    let to_instagram = json!({"platform": "instagram", "account_id": IG_ACCOUNT_ID, "recipient_id": IGSID, "text": "hi"});

    // Nobody wrote yet: Meta refuses to start a conversation.
    let subcode = expect(
        app.send(to_messenger.clone()).await,
        422,
        "user_not_found",
        100,
        "wrote to the Page first",
    );
    assert_eq!(subcode, 2_018_001);

    // The customer wrote 30 hours ago: outside the 24-hour window the inbox refuses a send
    // that does not say a person wrote it, before calling Meta; a human agent's goes out tagged.
    let long_ago = now_ms() - 30 * 3_600_000;
    app.emulator
        .user_writes(PSID, Inbound::text("Hello?").at(long_ago))
        .await
        .unwrap();
    app.delivered(1).await;
    let (status, body) = app.send(to_messenger.clone()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["kind"], "outside_messaging_window", "{body}");
    assert!(
        body["error"]["code"].is_null(),
        "Meta was not asked: {body}"
    );
    assert!(
        body["error"]["fix"]
            .as_str()
            .unwrap()
            .contains("\"human_agent\": true until"),
        "{body}"
    );
    assert!(app.emulator.sent_messages().is_empty());
    let mut human = to_messenger.clone();
    human["human_agent"] = json!(true);
    assert_eq!(app.send(human).await.0, 201);
    let sent = app.emulator.sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].tag.as_deref(), Some("HUMAN_AGENT"));
    assert_eq!(sent[0].messaging_type.as_deref(), Some("MESSAGE_TAG"));

    // The Instagram account without instagram_manage_messages: the capability error.
    app.emulator
        .user_writes(IGSID, Inbound::text("hi"))
        .await
        .unwrap();
    app.delivered(3).await;
    app.emulator
        .set_permissions(PAGE_ID, ["pages_messaging"])
        .unwrap();
    expect(
        app.send(to_instagram.clone()).await,
        422,
        "app_capability_missing",
        3,
        "instagram_manage_messages",
    );

    // The Page token without pages_messaging.
    app.emulator
        .set_permissions(PAGE_ID, ["instagram_manage_messages"])
        .unwrap();
    app.emulator
        .user_writes(PSID, Inbound::text("still there?"))
        .await
        .unwrap();
    app.delivered(4).await;
    expect(
        app.send(to_messenger.clone()).await,
        422,
        "permission_missing",
        230,
        "pages_messaging",
    );

    // An expired Page token: reconnect.
    app.emulator
        .set_permissions(PAGE_ID, ["pages_messaging", "instagram_manage_messages"])
        .unwrap();
    app.emulator.expire_token(PAGE_TOKEN).unwrap();
    let subcode = expect(
        app.send(to_messenger).await,
        422,
        "token_expired",
        190,
        "Reconnect",
    );
    assert_eq!(subcode, 463);
}

#[tokio::test]
async fn meta_s_per_page_rate_limit_answers_429() {
    let app = Deployment::start(Adapter::Actix, World::demo().send_rate_limit(2)).await;
    app.emulator
        .user_writes(IGSID, Inbound::text("hi"))
        .await
        .unwrap();
    app.delivered(1).await;
    let to_instagram = json!({"platform": "instagram", "account_id": IG_ACCOUNT_ID, "recipient_id": IGSID, "text": "hi"});
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        outcomes.push(app.send(to_instagram.clone()).await);
    }
    assert_eq!(outcomes[0].0, 201);
    assert_eq!(outcomes[1].0, 201);
    expect(
        outcomes.pop().unwrap(),
        429,
        "rate_limited",
        613,
        "Back off",
    );
}

/// Checks an error answer: the status, our kind, Meta's code, a fix mentioning `fix`, Meta's
/// trace id; returns Meta's subcode.
fn expect((status, body): (u16, Value), want: u16, kind: &str, code: u64, fix: &str) -> Value {
    assert_eq!(status, want, "{body}");
    let error = &body["error"];
    assert_eq!(error["kind"], kind, "{body}");
    assert_eq!(error["code"], code, "{body}");
    assert!(
        error["fix"].as_str().unwrap().contains(fix),
        "the fix of {kind} should mention {fix:?}: {body}"
    );
    assert!(
        error["fbtrace_id"]
            .as_str()
            .is_some_and(|t| t.starts_with('A'))
    );
    error["subcode"].clone()
}

#[tokio::test]
async fn a_failed_delivery_is_redelivered_and_stored_once() {
    let world = World::demo().webhook_retries(3, Duration::from_millis(100));
    let app = Deployment::start(Adapter::Actix, world).await;
    // The host is down: nothing listens where the first attempt goes.
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down_url = format!("http://{}/api/meta/webhook", down.local_addr().unwrap());
    drop(down);
    app.emulator.set_callback_url(Some(down_url)).unwrap();
    let mid = app
        .emulator
        .user_writes(PSID, Inbound::text("once"))
        .await
        .unwrap();
    for _ in 0..100 {
        if !app.emulator.deliveries().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    app.emulator
        .set_callback_url(Some(format!("{}/webhook", app.base)))
        .unwrap();

    let thread = app.messages_when("messenger", |m| !m.is_empty()).await;
    assert_eq!(thread[0]["message_id"], mid.as_str());
    let attempts: Vec<_> = app
        .emulator
        .deliveries()
        .iter()
        .map(|d| (d.attempt, d.status, d.error.is_some()))
        .collect();
    assert_eq!(attempts, [(1, None, true), (2, Some(200), false)]);

    // Meta may deliver the same body again: it is stored once.
    let body = serde_json::to_vec(&app.emulator.deliveries()[0].body).unwrap();
    let signature = webhook::sign(&AppSecret::new(APP_SECRET), &body);
    let again = app
        .http
        .post(format!("{}/webhook", app.base))
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(
        app.get("/messages").await["data"].as_array().unwrap().len(),
        1
    );
}

/// A pass/take cycle offline: another app takes the thread (the inbox shows `other_app` and
/// keeps the customer's standby message), a person takes it over through `take_over` (the
/// emulator's thread owner is the app again), hands it back, and the other app's pass back
/// returns it to the bot.
#[tokio::test]
async fn a_take_pass_cycle_through_the_emulator() {
    const OTHER_APP: &str = "263902037430900";
    let app = Deployment::start(Adapter::Axum, World::demo()).await;
    app.emulator
        .user_writes(PSID, Inbound::text("I need a refund"))
        .await
        .unwrap();
    app.messages_when("messenger", |m| m.len() == 1).await;
    let conversation = |list: &Value| list["data"][0].clone();
    let listed = app.get("/conversations?platform=messenger").await;
    assert_eq!(conversation(&listed)["owner"], "bot");
    let id = conversation(&listed)["id"].as_str().unwrap().to_owned();

    app.emulator
        .another_app_takes(PSID, OTHER_APP)
        .await
        .unwrap();
    app.delivered(2).await;
    let listed = app.get("/conversations?platform=messenger").await;
    assert_eq!(conversation(&listed)["owner"], "other_app");
    // While the other app holds the thread, the customer's message comes in standby: kept.
    app.emulator
        .user_writes(PSID, Inbound::text("Hello? Anyone?"))
        .await
        .unwrap();
    let thread = app.messages_when("messenger", |m| m.len() == 2).await;
    assert_eq!(thread[1]["text"], "Hello? Anyone?");
    app.delivered(3).await;
    let standby = app.emulator.deliveries()[2].body.clone();
    assert_eq!(
        standby["entry"][0]["standby"][0]["message"]["text"], "Hello? Anyone?",
        "{standby}"
    );

    let taken = app
        .http
        .post(format!("{}/conversations/{id}/take_over", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), 200);
    let taken: Value = taken.json().await.unwrap();
    assert_eq!(taken["owner"], "human");
    // The inbox took the thread back from the other app: new messages are no longer standby.
    app.emulator
        .user_writes(PSID, Inbound::text("Thanks!"))
        .await
        .unwrap();
    app.delivered(4).await;
    let last = app.emulator.deliveries()[3].body.clone();
    assert_eq!(
        last["entry"][0]["messaging"][0]["message"]["text"], "Thanks!",
        "{last}"
    );

    let back: Value = app
        .http
        .post(format!("{}/conversations/{id}/hand_back", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(back["owner"], "bot");

    app.emulator
        .another_app_takes(PSID, OTHER_APP)
        .await
        .unwrap();
    app.emulator
        .another_app_passes_back(PSID, OTHER_APP)
        .await
        .unwrap();
    app.delivered(6).await;
    let listed = app.get("/conversations?platform=messenger").await;
    assert_eq!(conversation(&listed)["owner"], "bot");
}

impl Deployment {
    pub(super) async fn post(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.unwrap();
        (answer.status().as_u16(), answer.json().await.unwrap())
    }

    /// The comment thread of `platform`'s first post once `ready` holds for its comments.
    async fn thread_when(&self, platform: &str, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let mut last = Vec::new();
        for _ in 0..250 {
            let threads = self
                .get(&format!("/conversations?kind=comments&platform={platform}"))
                .await;
            if let Some(id) = threads["data"][0]["id"].as_str() {
                let page = self.get(&format!("/messages?conversation_id={id}")).await;
                last = page["data"].as_array().unwrap().clone();
                last.reverse();
                if ready(&last) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the comment thread never reached the expected state: {last:#?}");
    }
}

/// A Facebook comment through the emulator: it arrives as a thread; a private reply opens the
/// customer's direct conversation, which they answer; a second private reply is Meta's error
/// with its fix; hide, unhide, a public reply (whose webhook is not stored twice) and a delete
/// show in the thread. An Instagram comment hidden (Instagram sends no webhook for it) shows
/// hidden too.
async fn a_comment_thread(adapter: Adapter) {
    let app = Deployment::start(adapter, World::demo()).await;
    let posted = app
        .emulator
        .user_comments(PSID, InboundComment::text("Is this in stock?"))
        .await
        .unwrap();
    let comment = posted.comment_id.as_str().to_owned();
    let thread = app.thread_when("messenger", |m| m.len() == 1).await;
    assert_eq!(thread[0]["message_id"], comment.as_str());
    assert_eq!(thread[0]["text"], "Is this in stock?");
    let threads = app.get("/conversations?kind=comments").await;
    assert_eq!(threads["data"][0]["post_id"], posted.post_id.as_str());
    let replies = format!("/comments/{comment}/replies");

    let (status, private) = app
        .post(
            &replies,
            Some(json!({"text": "Yes! Which size?", "private": true})),
        )
        .await;
    assert_eq!(status, 201, "{private}");
    assert_eq!(private["recipient_id"], PSID);
    assert_eq!(
        private["reply_to"],
        json!({"type": "comment", "id": comment})
    );
    app.emulator
        .user_writes(PSID, Inbound::text("42 please"))
        .await
        .unwrap();
    let dm = app
        .messages_when("messenger", |m| m.iter().any(|x| x["text"] == "42 please"))
        .await;
    let answer = dm.iter().find(|x| x["text"] == "42 please").unwrap();
    assert_eq!(
        answer["conversation_id"], private["conversation_id"],
        "the customer answers in the conversation the private reply opened"
    );
    let direct = app
        .get("/conversations?kind=direct&platform=messenger")
        .await;
    assert_eq!(direct["data"][0]["window"]["state"], "open");

    let (status, again) = app
        .post(
            &replies,
            Some(json!({"text": "Still there?", "private": true})),
        )
        .await;
    assert_eq!(status, 422, "{again}");
    assert_eq!(again["error"]["kind"], "already_replied");
    assert_eq!(again["error"]["code"], 10_900);
    assert!(
        !again["error"]["fix"].as_str().unwrap().is_empty(),
        "{again}"
    );

    let (status, hidden) = app.post(&format!("/comments/{comment}/hide"), None).await;
    assert_eq!(
        (status, hidden["hidden"].as_bool()),
        (200, Some(true)),
        "{hidden}"
    );
    let (status, shown) = app.post(&format!("/comments/{comment}/unhide"), None).await;
    assert_eq!(
        (status, shown["hidden"].as_bool()),
        (200, Some(false)),
        "{shown}"
    );

    let (status, public) = app
        .post(&replies, Some(json!({"text": "In stock in every size"})))
        .await;
    assert_eq!(status, 201, "{public}");
    assert_eq!(public["direction"], "outbound");
    // The Page's reply comes back as a `feed` webhook: the same comment, stored once.
    let public_id = public["message_id"].as_str().unwrap().to_owned();
    let echoed = || {
        app.emulator.deliveries().iter().any(|d| {
            d.status == Some(200)
                && d.body["entry"][0]["changes"][0]["value"]["comment_id"] == public_id.as_str()
        })
    };
    for _ in 0..250 {
        if echoed() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        echoed(),
        "the Page's reply came back as a `feed` webhook, answered 200"
    );
    let thread = app.thread_when("messenger", |m| m.len() == 2).await;
    assert_eq!(thread[1]["message_id"], public_id.as_str());
    assert_eq!(thread[1]["reply_to"]["mid"], comment.as_str());

    let deleted = app
        .http
        .delete(format!("{}/comments/{comment}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let deleted: Value = deleted.json().await.unwrap();
    assert_eq!(
        (deleted["deleted"].as_bool(), deleted["text"].clone()),
        (Some(true), Value::Null)
    );

    let ig = app
        .emulator
        .user_comments(IGSID, InboundComment::text("Love it"))
        .await
        .unwrap();
    app.thread_when("instagram", |m| m.len() == 1).await;
    let (status, hidden) = app
        .post(&format!("/comments/{}/hide", ig.comment_id.as_str()), None)
        .await;
    assert_eq!(
        (status, hidden["hidden"].as_bool()),
        (200, Some(true)),
        "{hidden}"
    );
    let thread = app.thread_when("instagram", |m| m.len() == 1).await;
    assert_eq!(thread[0]["hidden"], true);
}

#[tokio::test]
async fn a_comment_thread_through_axum() {
    a_comment_thread(Adapter::Axum).await;
}

#[tokio::test]
async fn a_comment_thread_through_actix() {
    a_comment_thread(Adapter::Actix).await;
}
