//! The scenario table: every route and every error case, checked on status, content type and
//! body, identically for both adapters.

use std::time::Duration;

use futures_util::StreamExt;
use meta_messaging_core::inbox::{MediaOptions, Tenancy};
use meta_messaging_core::media::FsMediaStore;
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::webhook::{self, SIGNATURE_HEADER};
use serde_json::{Value, json};
use sha2::Digest as _;
use wiremock::matchers::body_partial_json;

use crate::support::graph_mock::{
    APP_SECRET, FormBody, IG_ACCOUNT_ID, IGSID, PAGE_ID, PAGE_TOKEN, PSID, fixture, graph_call,
    json, meta_error,
};
use crate::support::inbox::{VERIFY_TOKEN, connect_accounts, delivery, harness_with, tenant};
use crate::support::openapi::Documented;
use crate::support::servers::{Adapter, PREFIX, serve};
use meta_messaging_core::store::MessageStore;

/// What a scenario sends.
enum Send {
    Get(String),
    Post {
        path: String,
        signature: Signature,
        body: Vec<u8>,
    },
    Put(String),
    Delete(String),
    /// `POST /messages` as `multipart/form-data`: the form fields and one file (name, media
    /// type, bytes).
    Form {
        fields: Vec<(&'static str, &'static str)>,
        file: (&'static str, &'static str, Vec<u8>),
    },
    /// `POST /messages` with an `Idempotency-Key` (raw bytes); `replay` says whether the
    /// answer must carry `Idempotent-Replayed: true` (checked in [`call`]).
    Keyed {
        key: Vec<u8>,
        body: Vec<u8>,
        replay: bool,
    },
}

impl Send {
    /// The method and the path (relative to the mount, with its query) of the request.
    fn target(&self) -> (&'static str, String) {
        match self {
            Send::Get(path) => ("GET", path.clone()),
            Send::Post { path, .. } => ("POST", path.clone()),
            Send::Put(path) => ("PUT", path.clone()),
            Send::Delete(path) => ("DELETE", path.clone()),
            Send::Keyed { .. } | Send::Form { .. } => ("POST", "/messages".to_owned()),
        }
    }
}

enum Signature {
    None,
    Valid,
    Forged,
}

/// What a scenario expects.
struct Expect {
    status: u16,
    content_type: &'static str,
    /// Checked on the JSON body (for JSON responses) or the text (for text ones).
    check: fn(&Body),
}

enum Body {
    Json(Value),
    Text(String),
}

impl Body {
    fn json(&self) -> &Value {
        match self {
            Body::Json(v) => v,
            Body::Text(t) => panic!("expected JSON, got text {t:?}"),
        }
    }
}

fn error_kind(kind: &'static str) -> impl Fn(&Body) {
    move |body: &Body| {
        let e = &body.json()["error"];
        assert_eq!(e["kind"], kind, "{e}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
        assert!(e["fix"].as_str().is_some_and(|f| !f.is_empty()), "{e}");
        for field in ["code", "subcode", "fbtrace_id"] {
            assert!(e.get(field).is_some(), "{field} missing in {e}");
        }
    }
}

macro_rules! error {
    ($status:expr, $kind:literal) => {
        Expect {
            status: $status,
            content_type: "application/json",
            check: |b| error_kind($kind)(b),
        }
    };
}

const LIMIT: usize = 8 * 1024;

const DAY_MS: i64 = 24 * 3600 * 1000;
/// A Messenger customer who last wrote 30 hours ago.
const LATE_PSID: &str = "6758492015640030";
/// A Messenger customer who last wrote 8 days ago.
const GONE_PSID: &str = "6758492015640008";

/// A delivery of one message from each of `LATE_PSID` and `GONE_PSID`, dated in the past.
/// A Facebook comment, on a post of the Page, by `PSID`.
const FB_COMMENT: &str = "122145678901234567_1098765432109876";
const FB_POST: &str = "104417552380421_122145678901234567";
/// An Instagram comment, on a media of the account, by `IGSID`.
const IG_COMMENT: &str = "17998123456789012";
const IG_MEDIA: &str = "18076543210987654";

/// A delivery of a Page `feed` comment and one of an Instagram `comments` change.
fn comments() -> Vec<u8> {
    json!({"object": "page", "entry": [{"id": PAGE_ID, "time": 1_733_412_910_588_i64, "changes": [
        {"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": FB_COMMENT,
         "post_id": FB_POST, "parent_id": FB_POST, "message": "Is this still available?",
         "from": {"id": PSID, "name": "Ada Lovelace"}, "created_time": 1_733_412_910}}]}]})
    .to_string()
    .into_bytes()
}

fn instagram_comment() -> Vec<u8> {
    json!({"object": "instagram", "entry": [{"id": IG_ACCOUNT_ID, "time": 1_733_413_200, "changes": [
        {"field": "comments", "value": {"id": IG_COMMENT, "text": "Do you have it in blue?",
         "from": {"id": IGSID, "username": "grace.h"},
         "media": {"id": IG_MEDIA, "media_product_type": "FEED"}}}]}]})
    .to_string()
    .into_bytes()
}

fn old_customers() -> Vec<u8> {
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let message = |user: &str, ago_ms: i64, mid: &str| {
        json!({"sender": {"id": user}, "recipient": {"id": PAGE_ID}, "timestamp": now - ago_ms,
               "message": {"mid": mid, "text": "Hello?"}})
    };
    webhook::DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
        .messaging_event(message(LATE_PSID, 30 * 3600 * 1000, "m_late_customer"))
        .messaging_event(message(GONE_PSID, 8 * DAY_MS, "m_gone_customer"))
        .build()
}

/// Runs the table against one adapter.
async fn run_table(adapter: Adapter) {
    let cdn = Cdn::start().await;
    let files = tempfile::tempdir().unwrap();
    let media = MediaOptions::new(FsMediaStore::new(files.path()).unwrap())
        .mount(PREFIX)
        .max_bytes(MEDIA_LIMIT);
    let h = harness_with(Tenancy::Single(tenant()), |b| {
        b.max_body_bytes(LIMIT)
            .max_upload_bytes(UPLOAD_LIMIT)
            .media(media)
            .metrics_endpoint(|| METRICS_TEXT.to_owned())
    })
    .await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    // Two sends reach Meta: one accepted, one refused as outside the window.
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_partial_json(
            json!({"recipient": {"id": IGSID}, "messaging_type": "RESPONSE", "message": {"text": "On its way!"}}),
        ))
        // A human agent inside the 24-hour window: no tag.
        .and(|request: &wiremock::Request| {
            serde_json::from_slice::<Value>(&request.body).is_ok_and(|b| b.get("tag").is_none())
        })
        .respond_with(json(200, fixture("send_response_instagram")))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_partial_json(json!({"message": {"text": "Too late"}})))
        .respond_with(meta_error(
            400,
            10,
            Some(2_018_278),
            "(#10) This message is sent outside of allowed window.",
        ))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    // A human agent's reply 30 hours after the customer wrote: tagged HUMAN_AGENT by the inbox.
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_partial_json(json!({
            "recipient": {"id": LATE_PSID},
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
            "message": {"text": "A person here"},
        })))
        .respond_with(json(
            200,
            json!({"recipient_id": LATE_PSID, "message_id": "m_human_agent_reply"}),
        ))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    // The idempotent reply reaches Meta once, however often it is retried.
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_partial_json(
            json!({"recipient": {"id": PSID}, "message": {"text": "Sent once"}}),
        ))
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    // A file from a form: uploaded through the Page with `platform=instagram`, then sent by
    // its attachment id. The refused files (too large, wrong type) never reach Meta.
    let expected = upload_bytes();
    graph_call(
        "POST",
        &format!("{PAGE_ID}/message_attachments"),
        PAGE_TOKEN,
    )
    .and(move |request: &wiremock::Request| {
        let body = String::from_utf8_lossy(&request.body);
        let multipart = request
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data; boundary="));
        multipart
            && body.contains("name=\"platform\"\r\n\r\ninstagram\r\n")
            && body.contains(r#""is_reusable":true"#)
            && body.contains(r#""type":"image""#)
            && body.contains(r#"name="filedata"; filename="receipt.png""#)
            && body.contains("Content-Type: image/png")
            && request.body.windows(UPLOAD_LEN).any(|w| w == expected)
    })
    .respond_with(json(200, fixture("upload_response")))
    .expect(1)
    .mount(&h.graph.server)
    .await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_partial_json(
            json!({"recipient": {"id": IGSID}, "message": {"attachment": {
            "type": "image", "payload": {"attachment_id": "1857777774821032"}}}}),
        ))
        .respond_with(json(
            200,
            json!({"recipient_id": IGSID, "message_id": UPLOADED_MID}),
        ))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    // Comments: a public reply (Facebook), a private reply (Instagram through the Page, once:
    // Meta refuses the second), a hide and an unhide (Instagram) and a delete (Facebook).
    graph_call("POST", &format!("{FB_COMMENT}/comments"), PAGE_TOKEN)
        .and(FormBody::exactly(&[("message", "Thanks for asking")]))
        .respond_with(json(
            200,
            json!({"id": "122145678901234567_1098765432109999"}),
        ))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_partial_json(
            json!({"recipient": {"comment_id": IG_COMMENT}, "message": {"text": "Check your DMs"}}),
        ))
        .respond_with(json(
            200,
            json!({"recipient_id": IGSID, "message_id": "aWdfZAG1faXRlbTpwcml2YXRl"}),
        ))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_partial_json(
            json!({"recipient": {"comment_id": IG_COMMENT}, "message": {"text": "Again?"}}),
        ))
        .respond_with(meta_error(
            400,
            10_900,
            None,
            "(#10900) Activity already replied to",
        ))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    graph_call("POST", IG_COMMENT, PAGE_TOKEN)
        .and(FormBody::exactly(&[("hide", "true")]))
        .respond_with(json(200, json!({"success": true})))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    graph_call("POST", IG_COMMENT, PAGE_TOKEN)
        .and(FormBody::exactly(&[("hide", "false")]))
        .respond_with(json(200, json!({"success": true})))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    graph_call("DELETE", FB_COMMENT, PAGE_TOKEN)
        .respond_with(json(200, json!({"success": true})))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    // The backfill asked for reads the Page's conversations: none.
    graph_call("GET", &format!("{PAGE_ID}/conversations"), PAGE_TOKEN)
        .respond_with(json(200, json!({"data": []})))
        .mount(&h.graph.server)
        .await;
    let base = serve(adapter, h.inbox.clone()).await;
    let client = crate::support::servers::client();

    let (message, _) = delivery(
        Platform::Instagram,
        IG_ACCOUNT_ID,
        IGSID,
        "Where is my order?",
    );
    let scenarios: Vec<(&str, Send, Expect)> = vec![
        (
            "handshake echoes the challenge",
            Send::Get(format!("/webhook?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=8675309")),
            Expect { status: 200, content_type: "text/plain; charset=utf-8", check: |b| assert!(matches!(b, Body::Text(t) if t == "8675309")) },
        ),
        ("handshake with a wrong token", Send::Get("/webhook?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1".into()), error!(403, "handshake_refused")),
        ("delivery without signature", post("/webhook", Signature::None, message.clone()), error!(401, "missing_signature")),
        ("delivery with a forged signature", post("/webhook", Signature::Forged, message.clone()), error!(401, "invalid_signature")),
        ("signed but malformed delivery", post("/webhook", Signature::Valid, b"{\"object\":\"page\",".to_vec()), error!(400, "malformed_delivery")),
        ("delivery over the body limit", post("/webhook", Signature::Valid, vec![b' '; LIMIT + 1]), error!(413, "payload_too_large")),
        (
            "delivery stored",
            post("/webhook", Signature::Valid, message.clone()),
            Expect { status: 200, content_type: "application/json", check: |b| {
                assert_eq!(b.json()["events"], 1);
                assert_eq!(b.json()["applied"]["inserted"], 1);
            } },
        ),
        (
            "redelivery stored once",
            post("/webhook", Signature::Valid, message.clone()),
            Expect { status: 200, content_type: "application/json", check: |b| assert_eq!(b.json()["applied"]["inserted"], 0) },
        ),
        (
            "messages listed",
            Send::Get("/messages".into()),
            Expect { status: 200, content_type: "application/json", check: |b| {
                let data = b.json()["data"].as_array().unwrap();
                assert_eq!(data.len(), 1);
                let m = &data[0];
                for field in ["id", "platform", "account_id", "conversation_id", "direction", "sender_id", "recipient_id", "message_id", "text", "attachments", "timestamp_ms", "reactions", "deleted"] {
                    assert!(m.get(field).is_some(), "message lacks {field}: {m}");
                }
                assert_eq!(m["text"], "Where is my order?");
                assert_eq!(m["platform"], "instagram");
                assert_eq!(m["direction"], "inbound");
                assert!(b.json()["next_cursor"].is_null());
            } },
        ),
        (
            "messages filtered by platform",
            Send::Get("/messages?platform=messenger".into()),
            Expect { status: 200, content_type: "application/json", check: |b| assert_eq!(b.json()["data"], json!([])) },
        ),
        ("messages with a bad filter", Send::Get("/messages?direction=sideways".into()), error!(400, "invalid_request")),
        ("messages with a forged cursor", Send::Get("/messages?cursor=bm90LWEtY3Vyc29y".into()), error!(400, "invalid_cursor")),
        (
            "conversations listed with unread counts",
            Send::Get("/conversations?platform=instagram&unread=true".into()),
            Expect { status: 200, content_type: "application/json", check: |b| {
                let c = &b.json()["data"][0];
                assert_eq!(c["unread_count"], 1, "{c}");
                assert_eq!(c["last_message_preview"], "Where is my order?");
            } },
        ),
        ("unknown conversation", post("/conversations/987654321/read", Signature::None, Vec::new()), error!(404, "not_found")),
        ("conversation id that is not one", post("/conversations/abc/read", Signature::None, Vec::new()), error!(400, "invalid_request")),
        (
            "reply sent",
            post("/messages", Signature::None, json!({"platform": "instagram", "account_id": IG_ACCOUNT_ID, "recipient_id": IGSID, "text": "On its way!", "human_agent": true}).to_string().into_bytes()),
            Expect { status: 201, content_type: "application/json", check: |b| {
                assert_eq!(b.json()["direction"], "outbound");
                assert_eq!(b.json()["text"], "On its way!");
                assert_eq!(b.json()["stored"], true);
                assert!(b.json()["message_id"].as_str().unwrap().starts_with("aWdf"));
            } },
        ),
        (
            "a file sent from a form, larger than a JSON body may be, kept in the media store",
            Send::Form { fields: ig_form_fields(), file: ("receipt.png", "image/png", upload_bytes()) },
            Expect { status: 201, content_type: "application/json", check: |b| {
                let m = b.json();
                assert_eq!((m["stored"].as_bool(), m["message_id"].as_str()), (Some(true), Some(UPLOADED_MID)), "{m}");
                let a = &m["attachments"][0];
                assert_eq!((a["type"].as_str(), a["stored"].as_bool(), a["mime"].as_str()), (Some("image"), Some(true), Some("image/png")), "{a}");
                assert_eq!(a["size"], UPLOAD_LEN, "{a}");
                assert_eq!(a["sha256"], hex::encode(sha2::Sha256::digest(upload_bytes())), "{a}");
                assert!(a["media_url"].as_str().is_some_and(|u| u.starts_with(&format!("{PREFIX}/media/"))), "{a}");
            } },
        ),
        (
            "a form's file over Instagram's 8 MB image limit, refused before Meta with the fix",
            Send::Form { fields: ig_form_fields(), file: ("big.png", "image/png", vec![7; 8 * 1024 * 1024 + 1]) },
            Expect { status: 413, content_type: "application/json", check: |b| {
                error_kind("attachment_too_large")(b);
                assert!(b.json()["error"]["message"].as_str().unwrap_or_default().contains("8388608"), "{}", b.json());
            } },
        ),
        (
            "a form's file over the inbox's upload limit",
            Send::Form { fields: vec![("platform", "messenger"), ("account_id", PAGE_ID), ("recipient_id", PSID)], file: ("big.zip", "application/zip", vec![7; UPLOAD_LIMIT + 1]) },
            error!(413, "upload_too_large"),
        ),
        (
            "a form's file of a type Instagram does not take, refused before Meta with the fix",
            Send::Form { fields: ig_form_fields(), file: ("photo.webp", "image/webp", vec![1; 100]) },
            Expect { status: 415, content_type: "application/json", check: |b| {
                error_kind("attachment_type_not_allowed")(b);
                assert!(b.json()["error"]["message"].as_str().unwrap_or_default().contains("PNG, JPEG or GIF"), "{}", b.json());
            } },
        ),
        (
            "a form with text and a file",
            Send::Form { fields: vec![("platform", "instagram"), ("account_id", IG_ACCOUNT_ID), ("recipient_id", IGSID), ("text", "and this")], file: ("a.png", "image/png", vec![1; 10]) },
            error!(400, "invalid_request"),
        ),
        (
            "reply refused by Meta, with its fix",
            post("/messages", Signature::None, json!({"platform": "messenger", "account_id": PAGE_ID, "recipient_id": PSID, "text": "Too late"}).to_string().into_bytes()),
            Expect { status: 422, content_type: "application/json", check: |b| {
                error_kind("outside_messaging_window")(b);
                let e = &b.json()["error"];
                assert_eq!((e["code"].as_i64(), e["subcode"].as_i64()), (Some(10), Some(2_018_278)));
                assert_eq!(e["fbtrace_id"], "AzFbTrace01");
                assert!(!e.to_string().contains(PAGE_TOKEN));
            } },
        ),
        ("customers who wrote 30 hours and 8 days ago", post("/webhook", Signature::Valid, old_customers()), Expect { status: 200, content_type: "application/json", check: |b| assert_eq!(b.json()["applied"]["inserted"], 2) }),
        (
            "conversations show their messaging window",
            Send::Get("/conversations?platform=messenger".into()),
            Expect { status: 200, content_type: "application/json", check: |b| {
                let window_of = |user: &str| {
                    let data = b.json()["data"].as_array().unwrap();
                    let c = data.iter().find(|c| c["participant_id"] == user).unwrap_or_else(|| panic!("no {user} in {data:?}"));
                    (c["last_inbound_at_ms"].as_i64().unwrap(), c["window"].clone())
                };
                let (late, window) = window_of(LATE_PSID);
                assert_eq!(window, json!({"state": "human_agent", "closes_at": late + 7 * DAY_MS}));
                let (_, window) = window_of(GONE_PSID);
                assert_eq!(window, json!({"state": "closed", "closes_at": null}));
            } },
        ),
        (
            "reply outside the window refused before calling Meta",
            post("/messages", Signature::None, json!({"platform": "messenger", "account_id": PAGE_ID, "recipient_id": LATE_PSID, "text": "Still there?"}).to_string().into_bytes()),
            Expect { status: 422, content_type: "application/json", check: |b| {
                error_kind("outside_messaging_window")(b);
                let e = &b.json()["error"];
                assert_eq!((e["code"].as_i64(), e["subcode"].as_i64()), (None, None), "not Meta's answer: {e}");
                assert!(e["message"].as_str().unwrap().contains("the customer last wrote at "), "{e}");
                assert!(e["message"].as_str().unwrap().contains("24-hour messaging window closed at "), "{e}");
                assert!(e["fix"].as_str().unwrap().contains("\"human_agent\": true until "), "{e}");
            } },
        ),
        (
            "a human agent's reply sent with the HUMAN_AGENT tag",
            post("/messages", Signature::None, json!({"platform": "messenger", "account_id": PAGE_ID, "recipient_id": LATE_PSID, "text": "A person here", "human_agent": true}).to_string().into_bytes()),
            Expect { status: 201, content_type: "application/json", check: |b| assert_eq!(b.json()["text"], "A person here") },
        ),
        (
            "a human agent's reply after 7 days refused before calling Meta",
            post("/messages", Signature::None, json!({"platform": "messenger", "account_id": PAGE_ID, "recipient_id": GONE_PSID, "text": "Hello again", "human_agent": true}).to_string().into_bytes()),
            Expect { status: 422, content_type: "application/json", check: |b| {
                error_kind("outside_messaging_window")(b);
                let e = &b.json()["error"];
                assert!(e["message"].as_str().unwrap().contains("7-day human-agent window at "), "{e}");
                assert!(e["fix"].as_str().unwrap().starts_with("Wait for the customer to write again"), "{e}");
            } },
        ),
        (
            "idempotent reply sent",
            keyed(b"0b6f2c9e-6a36-4c1e-9d0a-6f1f7f1f0c11", "Sent once", false),
            Expect { status: 201, content_type: "application/json", check: |b| {
                assert_eq!(b.json()["text"], "Sent once");
                assert_eq!(b.json()["stored"], true);
                assert!(b.json()["id"].is_string(), "{}", b.json());
            } },
        ),
        (
            "idempotent retry answered from the first, nothing sent",
            keyed(b"0b6f2c9e-6a36-4c1e-9d0a-6f1f7f1f0c11", "Sent once", true),
            Expect { status: 201, content_type: "application/json", check: |b| {
                assert_eq!(b.json()["text"], "Sent once");
                assert_eq!(b.json()["stored"], true);
                assert!(b.json()["id"].is_string(), "{}", b.json());
            } },
        ),
        ("idempotency key reused with another body", keyed(b"0b6f2c9e-6a36-4c1e-9d0a-6f1f7f1f0c11", "Something else", false), error!(422, "idempotency_key_reused")),
        ("idempotency key with a space", keyed(b"two words", "x", false), error!(400, "invalid_idempotency_key")),
        ("idempotency key over 255 characters", keyed(&[b'k'; 256], "x", false), error!(400, "invalid_idempotency_key")),
        ("idempotency key that is not ASCII", keyed(b"caf\xe9", "x", false), error!(400, "invalid_idempotency_key")),
        ("reply with an invalid body", post("/messages", Signature::None, b"{\"platform\":\"instagram\"}".to_vec()), error!(400, "invalid_request")),
        ("reply from an account not connected", post("/messages", Signature::None, json!({"platform": "messenger", "account_id": "1", "recipient_id": PSID, "text": "x"}).to_string().into_bytes()), error!(404, "account_not_found")),
        (
            "accounts listed without tokens",
            Send::Get("/accounts".into()),
            Expect { status: 200, content_type: "application/json", check: |b| {
                assert_eq!(b.json()["data"].as_array().unwrap().len(), 2);
                assert!(!b.json().to_string().contains(PAGE_TOKEN));
            } },
        ),
        (
            "status per account",
            Send::Get("/status".into()),
            Expect { status: 200, content_type: "application/json", check: |b| {
                let accounts = b.json()["accounts"].as_array().unwrap();
                assert_eq!(accounts.len(), 2);
                assert!(accounts.iter().all(|a| a["connected"] == true));
                assert!(accounts.iter().any(|a| a["last_event_at_ms"].is_i64()));
            } },
        ),
        (
            "the host's metrics",
            Send::Get("/metrics".into()),
            Expect { status: 200, content_type: "text/plain; version=0.0.4; charset=utf-8", check: |b| assert!(matches!(b, Body::Text(t) if t == METRICS_TEXT)) },
        ),
        ("a method the metrics route does not take", Send::Delete("/metrics".into()), error!(405, "method_not_allowed")),
        ("a method the route does not take", Send::Put("/messages".into()), error!(405, "method_not_allowed")),
        (
            "liveness probe",
            Send::Get("/health/live".into()),
            Expect { status: 200, content_type: "application/json", check: |b| assert_eq!(b.json(), &json!({"status": "ok"})) },
        ),
        (
            "readiness probe",
            Send::Get("/health/ready".into()),
            Expect { status: 200, content_type: "application/json", check: |b| assert_eq!(b.json(), &json!({"status": "ok"})) },
        ),
        ("a probe takes GET only", Send::Delete("/health/live".into()), error!(405, "method_not_allowed")),
        ("a Facebook comment delivered", post("/webhook", Signature::Valid, comments()), Expect { status: 200, content_type: "application/json", check: |b| assert_eq!(b.json()["applied"]["inserted"], 1) }),
        ("an Instagram comment delivered", post("/webhook", Signature::Valid, instagram_comment()), Expect { status: 200, content_type: "application/json", check: |b| assert_eq!(b.json()["applied"]["inserted"], 1) }),
        (
            "comment threads listed by kind",
            Send::Get("/conversations?kind=comments".into()),
            Expect { status: 200, content_type: "application/json", check: |b| {
                let data = b.json()["data"].as_array().unwrap();
                let mut posts: Vec<&str> = data.iter().map(|c| {
                    assert_eq!(c["kind"], "comments", "{c}");
                    assert_eq!(c["window"], Value::Null, "a comment thread has no window: {c}");
                    c["post_id"].as_str().unwrap()
                }).collect();
                posts.sort_unstable();
                assert_eq!(posts, [FB_POST, IG_MEDIA]);
            } },
        ),
        (
            "direct conversations listed without the comment threads",
            Send::Get("/conversations?kind=direct&limit=100".into()),
            Expect { status: 200, content_type: "application/json", check: |b| {
                let data = b.json()["data"].as_array().unwrap();
                assert!(!data.is_empty());
                assert!(data.iter().all(|c| c["kind"] == "direct" && c["post_id"].is_null()), "{data:?}");
            } },
        ),
        ("conversations of an unknown kind", Send::Get("/conversations?kind=forum".into()), error!(400, "invalid_request")),
        (
            "a comment's thread lists it with its author",
            Send::Get("/messages?platform=messenger&direction=inbound&limit=100".into()),
            Expect { status: 200, content_type: "application/json", check: |b| {
                let data = b.json()["data"].as_array().unwrap();
                let c = data.iter().find(|m| m["message_id"] == FB_COMMENT).unwrap_or_else(|| panic!("no comment in {data:?}"));
                assert_eq!((c["sender_name"].as_str(), c["hidden"].as_bool(), c["text"].as_str()), (Some("Ada Lovelace"), Some(false), Some("Is this still available?")));
            } },
        ),
        (
            "a public reply to a comment",
            post(&format!("/comments/{FB_COMMENT}/replies"), Signature::None, json!({"text": "Thanks for asking"}).to_string().into_bytes()),
            Expect { status: 201, content_type: "application/json", check: |b| {
                let m = b.json();
                assert_eq!(m["stored"], true, "{m}");
                assert_eq!(m["direction"], "outbound");
                assert_eq!(m["message_id"], "122145678901234567_1098765432109999");
                assert_eq!(m["reply_to"], json!({"type": "message", "mid": FB_COMMENT}));
                assert_eq!(m["text"], "Thanks for asking");
            } },
        ),
        (
            "a private reply to a comment opens the direct conversation",
            post(&format!("/comments/{IG_COMMENT}/replies"), Signature::None, json!({"text": "Check your DMs", "private": true}).to_string().into_bytes()),
            Expect { status: 201, content_type: "application/json", check: |b| {
                let m = b.json();
                assert_eq!(m["stored"], true, "{m}");
                assert_eq!((m["platform"].as_str(), m["recipient_id"].as_str()), (Some("instagram"), Some(IGSID)));
                assert_eq!(m["reply_to"], json!({"type": "comment", "id": IG_COMMENT}));
            } },
        ),
        (
            "a second private reply refused by Meta, with its fix",
            post(&format!("/comments/{IG_COMMENT}/replies"), Signature::None, json!({"text": "Again?", "private": true}).to_string().into_bytes()),
            Expect { status: 422, content_type: "application/json", check: |b| {
                error_kind("already_replied")(b);
                let e = &b.json()["error"];
                assert_eq!(e["code"], 10_900, "{e}");
                assert!(!e["fix"].as_str().unwrap_or_default().is_empty(), "{e}");
            } },
        ),
        ("a reply to a comment without text", post(&format!("/comments/{FB_COMMENT}/replies"), Signature::None, json!({"text": " "}).to_string().into_bytes()), error!(400, "invalid_request")),
        ("a reply to a comment with an unknown field", post(&format!("/comments/{FB_COMMENT}/replies"), Signature::None, json!({"text": "x", "public": true}).to_string().into_bytes()), error!(400, "invalid_request")),
        (
            "a comment hidden",
            post(&format!("/comments/{IG_COMMENT}/hide"), Signature::None, Vec::new()),
            Expect { status: 200, content_type: "application/json", check: |b| {
                assert_eq!((b.json()["message_id"].as_str(), b.json()["hidden"].as_bool()), (Some(IG_COMMENT), Some(true)));
            } },
        ),
        (
            "a comment unhidden",
            post(&format!("/comments/{IG_COMMENT}/unhide"), Signature::None, Vec::new()),
            Expect { status: 200, content_type: "application/json", check: |b| {
                assert_eq!((b.json()["message_id"].as_str(), b.json()["hidden"].as_bool()), (Some(IG_COMMENT), Some(false)));
            } },
        ),
        (
            "a comment deleted",
            Send::Delete(format!("/comments/{FB_COMMENT}")),
            Expect { status: 200, content_type: "application/json", check: |b| {
                assert_eq!((b.json()["deleted"].as_bool(), b.json()["text"].clone()), (Some(true), Value::Null));
            } },
        ),
        ("an unknown comment", post("/comments/404404/hide", Signature::None, Vec::new()), error!(404, "not_found")),
        (
            "a history backfill started",
            post(&format!("/accounts/{PAGE_ID}/backfill?platform=messenger"), Signature::None, Vec::new()),
            Expect { status: 202, content_type: "application/json", check: |b| {
                let p = b.json();
                assert_eq!((p["platform"].as_str(), p["account_id"].as_str()), (Some("messenger"), Some(PAGE_ID)), "{p}");
                assert!(["running", "done"].contains(&p["state"].as_str().unwrap_or_default()), "{p}");
                assert!(p.get("cursor").is_none(), "the paging cursor stays inside: {p}");
            } },
        ),
        ("a history backfill of an account not connected", post("/accounts/1/backfill", Signature::None, Vec::new()), error!(404, "account_not_found")),
        ("a history backfill for an unknown platform", post(&format!("/accounts/{PAGE_ID}/backfill?platform=whatsapp"), Signature::None, Vec::new()), error!(400, "invalid_request")),
        ("a method the comment routes do not take", Send::Get(format!("/comments/{FB_COMMENT}")), error!(405, "method_not_allowed")),
        ("an unknown media id", Send::Get("/media/0123456789abcdef0123456789abcdef".into()), error!(404, "not_found")),
        ("a method the media route does not take", Send::Delete("/media/0123456789abcdef0123456789abcdef".into()), error!(405, "method_not_allowed")),
        ("attachments delivered", post("/webhook", Signature::Valid, cdn.delivery()), Expect { status: 200, content_type: "application/json", check: |b| assert_eq!(b.json()["applied"]["inserted"], 1) }),
    ];

    // Every answer is also checked against the OpenAPI document: a documented operation, a
    // documented status, a body of the documented schema (errors: `ErrorBody`).
    let documented = Documented::load();
    let mut exercised = std::collections::BTreeSet::new();
    for (name, send, expect) in scenarios {
        let (method, path) = send.target();
        let (status, content_type, body) = call(&client, &base, send).await;
        assert_eq!(
            status,
            expect.status,
            "{adapter:?}: {name}: status (body {body:?})",
            body = describe(&body)
        );
        assert_eq!(
            content_type, expect.content_type,
            "{adapter:?}: {name}: content type"
        );
        (expect.check)(&body);
        let json = match &body {
            Body::Json(value) => Some(value),
            Body::Text(_) => None,
        };
        let what = format!("{adapter:?}: {name}");
        documented.check(&what, method, &path, status, &content_type, json);
        if documented.operation(method, &path).is_some() {
            exercised.insert((
                method,
                documented.template(&path).unwrap_or_default().to_owned(),
            ));
        }
    }
    conversation_state_changes(&client, &base, &documented, &mut exercised).await;
    kept_media(&client, &base, &cdn).await;
    uploaded_file_served(&client, &base).await;
    // The table and the state changes call every documented operation but those tested on
    // their own: the OAuth flow (adapters/oauth.rs), the live events (below), the session
    // (unified_inbox.rs), the document itself (openapi.rs).
    let elsewhere = [
        "/oauth/start",
        "/oauth/callback",
        "/events",
        "/session",
        "/openapi.json",
    ];
    for (template, item) in documented.operations() {
        if elsewhere.contains(&template.as_str()) {
            continue;
        }
        for method in item {
            assert!(
                exercised.contains(&(method, template.clone())),
                "{adapter:?}: the table never calls {method} {template}"
            );
        }
    }
}

/// What the table's inbox serves at `GET /metrics`.
const METRICS_TEXT: &str = "# TYPE meta_messaging_webhook_deliveries_total counter\nmeta_messaging_webhook_deliveries_total{outcome=\"stored\"} 3\n";

/// The largest file the table's inbox takes from a form: past Instagram's 8 MB for images.
const UPLOAD_LIMIT: usize = 9 * 1024 * 1024;

/// The message id Meta answers for the file sent from a form.
const UPLOADED_MID: &str = "aWdfZAG1faXRlbTpmaWxl";

/// The size of the file sent from a form: more than a JSON body may be.
const UPLOAD_LEN: usize = 3 * LIMIT;

/// The file sent from a form.
fn upload_bytes() -> Vec<u8> {
    (0..UPLOAD_LEN).map(|i| (i % 251) as u8).collect()
}

/// The form fields of a send to the Instagram customer, as the page sends them.
fn ig_form_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("platform", "instagram"),
        ("account_id", IG_ACCOUNT_ID),
        ("recipient_id", IGSID),
        ("human_agent", "true"),
    ]
}

/// The file sent from a form is served back from the media store at its `media_url`.
async fn uploaded_file_served(client: &reqwest::Client, base: &str) {
    let page: Value = client
        .get(format!(
            "{base}/messages?platform=instagram&direction=outbound"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sent = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message_id"] == UPLOADED_MID)
        .unwrap_or_else(|| panic!("the sent file is not in the thread: {page}"));
    let url = sent["attachments"][0]["media_url"].as_str().unwrap();
    let origin = base.strip_suffix(PREFIX).unwrap();
    let served = client.get(format!("{origin}{url}")).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(
        served.bytes().await.unwrap().as_ref(),
        upload_bytes().as_slice()
    );
}

/// The largest attachment the table's inbox keeps.
const MEDIA_LIMIT: u64 = 64 * 1024;

/// A stand-in for Meta's CDN, serving each attachment of [`Cdn::delivery`] once.
struct Cdn {
    server: wiremock::MockServer,
}

/// The CDN's files: path, media type, bytes.
fn cdn_files() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let bytes = |n: usize, seed: u8| (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect();
    vec![
        ("/v/photo.jpg", "image/jpeg", bytes(3_000, 1)),
        ("/v/clip.mp4", "video/mp4", bytes(5_000, 2)),
        ("/v/terms.pdf", "application/pdf", bytes(700, 3)),
        ("/v/page.html", "text/html; charset=utf-8", bytes(300, 4)),
        (
            "/v/huge.bin",
            "application/octet-stream",
            bytes(MEDIA_LIMIT as usize + 1, 5),
        ),
    ]
}

impl Cdn {
    async fn start() -> Self {
        let server = wiremock::MockServer::start().await;
        for (path, mime, bytes) in cdn_files() {
            wiremock::Mock::given(wiremock::matchers::method("GET"))
                .and(wiremock::matchers::path(path))
                .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(bytes, mime))
                .expect(1)
                .mount(&server)
                .await;
        }
        Self { server }
    }

    /// A Messenger message from `PSID` with an image, a video, two files (one over the
    /// limit, one HTML page) and a location (no media).
    fn delivery(&self) -> Vec<u8> {
        let url = |path: &str| format!("{}{path}", self.server.uri());
        webhook::DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
            .messaging_event(json!({
                "sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 1_733_412_999_000_i64,
                "message": {"mid": "m_media_table", "attachments": [
                    {"type": "image", "payload": {"url": url("/v/photo.jpg")}},
                    {"type": "video", "payload": {"url": url("/v/clip.mp4")}},
                    {"type": "file", "payload": {"url": url("/v/terms.pdf")}},
                    {"type": "file", "payload": {"url": url("/v/huge.bin")}},
                    {"type": "file", "payload": {"url": url("/v/page.html")}},
                    {"type": "location", "payload": {"coordinates": {"lat": 48.85, "long": 2.35}}},
                ]}
            }))
            .build()
    }
}

/// The delivered attachments are kept in the background and served at their `media_url`
/// with their type, disposition, `nosniff` and (video) byte ranges; the one over the limit
/// and the location stay `stored: false`.
async fn kept_media(client: &reqwest::Client, base: &str, cdn: &Cdn) {
    let attachments = wait_for_kept(client, base, 4).await;
    let origin = base.strip_suffix(PREFIX).unwrap();
    let files = cdn_files();
    for (i, (expected_type, disposition)) in [
        ("image/jpeg", "inline"),
        ("video/mp4", "inline"),
        ("application/pdf", "attachment"),
    ]
    .into_iter()
    .enumerate()
    {
        let a = &attachments[i];
        let bytes = &files[i].2;
        let sha256 = hex::encode(sha2::Sha256::digest(bytes));
        assert_eq!(a["stored"], true, "{a}");
        assert_eq!(
            (a["mime"].as_str(), a["size"].as_u64()),
            (Some(expected_type), Some(bytes.len() as u64)),
            "{a}"
        );
        assert_eq!(a["sha256"], sha256.as_str(), "{a}");
        assert!(
            a["url"].as_str().unwrap().starts_with(&cdn.server.uri()),
            "Meta's URL is kept: {a}"
        );
        let media_url = a["media_url"].as_str().unwrap();
        assert!(media_url.starts_with(&format!("{PREFIX}/media/")), "{a}");
        let response = client
            .get(format!("{origin}{media_url}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{media_url}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(header("content-type").as_deref(), Some(expected_type));
        assert_eq!(header("content-disposition").as_deref(), Some(disposition));
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(response.bytes().await.unwrap().as_ref(), bytes.as_slice());
    }
    // An HTML page is kept, but served to download, never as a page of this origin.
    let html = &attachments[4];
    assert_eq!(
        (html["stored"].as_bool(), html["mime"].as_str()),
        (Some(true), Some("text/html")),
        "{html}"
    );
    let response = client
        .get(format!("{origin}{}", html["media_url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(response.headers()["content-disposition"], "attachment");
    for (i, a) in [(3, &attachments[3]), (5, &attachments[5])] {
        assert_eq!(a["stored"], false, "attachment {i}: {a}");
        assert!(a.get("media_url").is_none(), "attachment {i}: {a}");
    }

    let video = format!("{origin}{}", attachments[1]["media_url"].as_str().unwrap());
    let clip = &files[1].2;
    let part = client
        .get(&video)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{}", clip.len())
    );
    assert_eq!(part.headers()["accept-ranges"], "bytes");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &clip[100..200]);
    let tail = client
        .get(&video)
        .header("range", "bytes=-10")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(
        tail.bytes().await.unwrap().as_ref(),
        &clip[clip.len() - 10..]
    );
    let beyond = client
        .get(&video)
        .header("range", "bytes=999999-")
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{}", clip.len())
    );
    // An image is served whole, whatever the Range.
    let image = format!("{origin}{}", attachments[0]["media_url"].as_str().unwrap());
    let whole = client
        .get(&image)
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap().len(), files[0].2.len());
}

/// The attachments of the table's media message once `count` of them are kept.
async fn wait_for_kept(client: &reqwest::Client, base: &str, count: usize) -> Vec<Value> {
    for _ in 0..200 {
        let page: Value = client
            .get(format!("{base}/messages?limit=100"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let message = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["message_id"] == "m_media_table")
            .cloned()
            .unwrap_or_else(|| panic!("no media message in {page}"));
        let attachments = message["attachments"].as_array().unwrap().clone();
        if attachments.iter().filter(|a| a["stored"] == true).count() >= count {
            return attachments;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the attachments were not kept within 5 s");
}

/// Read, archive and unarchive on the conversation the table created.
async fn conversation_state_changes(
    client: &reqwest::Client,
    base: &str,
    documented: &Documented,
    exercised: &mut std::collections::BTreeSet<(&'static str, String)>,
) {
    let list: Value = client
        .get(format!("{base}/conversations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = list["data"][0]["id"].as_str().unwrap().to_owned();
    for (action, field, value) in [
        ("read", "unread_count", json!(0)),
        ("archive", "archived", json!(true)),
        ("unarchive", "archived", json!(false)),
        ("take_over", "owner", json!("human")),
        ("hand_back", "owner", json!("bot")),
    ] {
        let response = client
            .post(format!("{base}/conversations/{id}/{action}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{action}");
        let conversation: Value = response.json().await.unwrap();
        assert_eq!(conversation[field], value, "{action}: {conversation}");
        let path = format!("/conversations/{id}/{action}");
        let what = format!("the conversation's {action}");
        documented.check(
            &what,
            "POST",
            &path,
            200,
            "application/json",
            Some(&conversation),
        );
        exercised.insert((
            "POST",
            documented.template(&path).unwrap_or_default().to_owned(),
        ));
    }
    let missing = client
        .post(format!("{base}/conversations/999999999/take_over"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        missing.status(),
        404,
        "take_over of an unknown conversation"
    );
    let error: Value = missing.json().await.unwrap();
    assert_eq!(error["error"]["kind"], "not_found", "{error}");
}

fn keyed(key: &[u8], text: &str, replay: bool) -> Send {
    Send::Keyed {
        key: key.to_vec(),
        body: json!({"platform": "messenger", "account_id": PAGE_ID, "recipient_id": PSID, "text": text})
            .to_string()
            .into_bytes(),
        replay,
    }
}

fn post(path: &str, signature: Signature, body: Vec<u8>) -> Send {
    Send::Post {
        path: path.to_owned(),
        signature,
        body,
    }
}

async fn call(client: &reqwest::Client, base: &str, send: Send) -> (u16, String, Body) {
    let replay = match &send {
        Send::Keyed { replay, .. } => Some(*replay),
        _ => None,
    };
    let request = match send {
        Send::Keyed { key, body, .. } => client
            .post(format!("{base}/messages"))
            .header("content-type", "application/json")
            .header(
                "idempotency-key",
                reqwest::header::HeaderValue::from_bytes(&key).unwrap(),
            )
            .body(body),
        Send::Form {
            fields,
            file: (name, mime, bytes),
        } => {
            let mut form = reqwest::multipart::Form::new();
            for (field, value) in fields {
                form = form.text(field, value);
            }
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name(name)
                .mime_str(mime)
                .unwrap();
            client
                .post(format!("{base}/messages"))
                .multipart(form.part("file", part))
        }
        Send::Get(path) => client.get(format!("{base}{path}")),
        Send::Put(path) => client.put(format!("{base}{path}")),
        Send::Delete(path) => client.delete(format!("{base}{path}")),
        Send::Post {
            path,
            signature,
            body,
        } => {
            let mut request = client
                .post(format!("{base}{path}"))
                .header("content-type", "application/json");
            match signature {
                Signature::None => {}
                Signature::Valid => {
                    request = request.header(
                        SIGNATURE_HEADER,
                        webhook::sign(&AppSecret::new(APP_SECRET), &body),
                    )
                }
                Signature::Forged => {
                    request = request.header(
                        SIGNATURE_HEADER,
                        webhook::sign(&AppSecret::new("forged"), &body),
                    )
                }
            }
            request.body(body)
        }
    };
    let response = request.send().await.unwrap();
    if let Some(replay) = replay {
        let replayed = response.headers().get("idempotent-replayed");
        assert_eq!(
            replayed.and_then(|v| v.to_str().ok()),
            replay.then_some("true"),
            "Idempotent-Replayed"
        );
    }
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap();
    let body = if content_type == "application/json" {
        Body::Json(serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
    } else {
        Body::Text(text)
    };
    (status, content_type, body)
}

fn describe(body: &Body) -> String {
    match body {
        Body::Json(v) => v.to_string(),
        Body::Text(t) => t.clone(),
    }
}

#[tokio::test]
async fn axum_passes_the_table() {
    run_table(Adapter::Axum).await;
}

#[tokio::test]
async fn actix_passes_the_table() {
    run_table(Adapter::Actix).await;
}

/// Reads SSE chunks until the text received holds `until`.
async fn read_until<B: AsRef<[u8]>>(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    until: &str,
) -> String {
    let mut received = String::new();
    while !received.contains(until) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap_or_else(|_| panic!("no {until:?} within 5 s; got {received:?}"))
            .unwrap()
            .unwrap();
        received.push_str(std::str::from_utf8(chunk.as_ref()).unwrap());
    }
    received
}

/// The `id:` and `data:` of the first frame of `event`.
fn sse_frame(received: &str, event: &str) -> (u64, Value) {
    let frame = received
        .split("\n\n")
        .find(|f| f.contains(&format!("event: {event}\n")))
        .unwrap_or_else(|| panic!("no {event} frame in {received:?}"));
    let field = |name: &str| {
        frame
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {frame:?}"))
            .to_owned()
    };
    let id = field("id: ").parse().unwrap();
    (id, serde_json::from_str(&field("data: ")).unwrap())
}

/// `GET /events` streams SSE frames as deliveries arrive, each with its change's `id`; a
/// client reconnecting with `Last-Event-ID` gets what it missed, then the live frames.
async fn live_events(adapter: Adapter) {
    let h = harness_with(Tenancy::Single(tenant()), |b| b).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let head = h.store.change_head(&tenant()).await.unwrap();
    assert!(head > 0, "connecting accounts is in the log");
    let base = serve(adapter, h.inbox.clone()).await;
    let client = crate::support::servers::client();
    let response = client.get(format!("{base}/events")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let mut stream = response.bytes_stream();
    let ready = read_until(&mut stream, "event: ready").await;
    assert!(ready.starts_with("retry: 2000\n"), "{ready:?}");
    assert_eq!(
        sse_frame(&ready, "ready"),
        (head, json!({"type": "ready", "after": head}))
    );

    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "live!");
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    let received = read_until(&mut stream, "event: conversation_updated").await;
    let (stored_id, data) = sse_frame(&received, "message_stored");
    assert_eq!(stored_id, head + 1);
    assert_eq!(data["type"], "message_stored");
    assert_eq!(data["message"]["text"], "live!");
    assert_eq!(sse_frame(&received, "conversation_updated").0, head + 2);
    drop(stream);

    // Gone after the first frame: resuming gets the rest, then what comes next.
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "while away");
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    let resumed = client
        .get(format!("{base}/events"))
        .header("last-event-id", stored_id.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let mut stream = resumed.bytes_stream();
    let received = read_until(&mut stream, "event: message_stored").await;
    assert_eq!(sse_frame(&received, "ready").0, stored_id);
    assert_eq!(sse_frame(&received, "conversation_updated").0, head + 2);
    let (id, data) = sse_frame(&received, "message_stored");
    assert_eq!(
        (id, data["message"]["text"].as_str()),
        (head + 3, Some("while away"))
    );

    // A page opening a new stream passes the id in the query instead.
    let by_query = client
        .get(format!("{base}/events?last_event_id={stored_id}"))
        .send()
        .await
        .unwrap();
    let mut stream = by_query.bytes_stream();
    let received = read_until(&mut stream, "event: message_stored").await;
    assert_eq!(sse_frame(&received, "ready").0, stored_id);
    assert_eq!(sse_frame(&received, "message_stored").0, head + 3);

    let refused = client
        .get(format!("{base}/events"))
        .header("last-event-id", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["kind"], "invalid_request");
}

#[tokio::test]
async fn axum_streams_live_events() {
    live_events(Adapter::Axum).await;
}

#[tokio::test]
async fn actix_streams_live_events() {
    live_events(Adapter::Actix).await;
}

/// A retry while the first request with its key is still sending: 409 with `Retry-After`,
/// then, once the first is answered, its answer.
async fn retry_while_in_flight(adapter: Adapter) {
    let h = harness_with(Tenancy::Single(tenant()), |b| b).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_partial_json(json!({"message": {"text": "Slow"}})))
        .respond_with(json(200, fixture("send_response")).set_delay(Duration::from_millis(800)))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let base = serve(adapter, h.inbox.clone()).await;
    let client = crate::support::servers::client();
    let send = || {
        client
            .post(format!("{base}/messages"))
            .header("content-type", "application/json")
            .header("idempotency-key", "slow-reply-1")
            .body(
                json!({"platform": "messenger", "account_id": PAGE_ID, "recipient_id": PSID, "text": "Slow"})
                    .to_string(),
            )
            .send()
    };
    let first = tokio::spawn(send());
    tokio::time::sleep(Duration::from_millis(250)).await;
    let busy = send().await.unwrap();
    assert_eq!(busy.status(), 409, "{adapter:?}");
    assert_eq!(busy.headers()["retry-after"], "1", "{adapter:?}");
    let error: Value = busy.json().await.unwrap();
    assert_eq!(
        error["error"]["kind"], "idempotency_key_in_flight",
        "{error}"
    );
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
}

#[tokio::test]
async fn axum_answers_409_to_a_retry_while_in_flight() {
    retry_while_in_flight(Adapter::Axum).await;
}

#[tokio::test]
async fn actix_answers_409_to_a_retry_while_in_flight() {
    retry_while_in_flight(Adapter::Actix).await;
}
