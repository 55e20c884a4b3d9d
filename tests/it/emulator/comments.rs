//! Comments: users comment, the app answers publicly, hides, deletes and replies privately, all
//! over HTTP with Meta's shapes.

use meta_messaging_core::webhook::{EventDetails, EventKind};
use meta_messaging_emulator::{Inbound, InboundComment};
use serde_json::{Value, json};

use super::*;

/// A control API call: the status and the JSON answer.
async fn control(url: String, body: Value) -> (u16, Value) {
    let answer = crate::support::http::client()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

/// A Graph call with the Page token: the status and the JSON answer.
async fn graph(request: reqwest::RequestBuilder) -> (u16, Value) {
    let answer = request.bearer_auth(PAGE_TOKEN).send().await.unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

fn http() -> reqwest::Client {
    crate::support::http::client()
}

/// The one change of a delivery, after checking its envelope.
fn only_change(delivery: &Value, object: &str, account: &str) -> Value {
    assert_eq!(delivery["object"], object, "{delivery}");
    let entries = delivery["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{delivery}");
    assert_eq!(entries[0]["id"], account, "{delivery}");
    let time = entries[0]["time"].as_i64().unwrap();
    assert!((now_ms() - time).abs() < 10_000, "time in ms: {time}");
    let changes = entries[0]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{delivery}");
    changes[0].clone()
}

/// Meta's error body, with the code and subcode expected.
fn assert_graph_error(answer: &(u16, Value), code: i64, subcode: Option<i64>) {
    let (status, body) = answer;
    assert_eq!(*status, 400, "{body}");
    let error = body["error"].as_object().unwrap();
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = vec!["code", "fbtrace_id", "message", "type"];
    if subcode.is_some() {
        expected.push("error_subcode");
        expected.sort_unstable();
    }
    assert_eq!(keys, expected, "{body}");
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error.get("error_subcode").and_then(Value::as_i64), subcode);
}

#[tokio::test]
async fn instagram_comments_arrive_in_meta_s_shape() {
    let mut receiver = Receiver::start().await;
    let (emulator, _client) = start(Some(&receiver)).await;
    let base = emulator.url();

    let (status, posted) = control(
        format!("{base}/_emulator/users/{IGSID}/comments"),
        json!({"text": "Is this in blue?"}),
    )
    .await;
    assert_eq!(status, 200, "{posted}");
    let comment = posted["comment_id"].as_str().unwrap().to_owned();
    let media = posted["post_id"].as_str().unwrap().to_owned();
    assert!(comment.chars().all(|c| c.is_ascii_digit()), "{comment}");
    assert!(media.chars().all(|c| c.is_ascii_digit()), "{media}");

    let delivery = receiver.next_json().await;
    let change = only_change(&delivery, "instagram", IG_ACCOUNT_ID);
    assert_eq!(
        change,
        json!({"field": "comments", "value": {
            "from": {"id": IGSID, "username": "emulated.user"},
            "media": {"id": media, "media_product_type": "FEED"},
            "id": comment,
            "text": "Is this in blue?",
        }})
    );
    // The SDK reads it as a comment from the user.
    let events = webhook::parse(delivery.to_string().as_bytes()).unwrap();
    let EventDetails::Comment(parsed) = &events[0].details else {
        panic!("not a comment: {:?}", events[0].details);
    };
    assert_eq!(parsed.comment_id.as_str(), comment);

    // A reply by the user, through the library API, names its parent.
    let reply = emulator
        .user_comments(IGSID, InboundComment::text("Or red").reply_to(&comment))
        .await
        .unwrap();
    assert_eq!(reply.post_id, media);
    let change = only_change(&receiver.next_json().await, "instagram", IG_ACCOUNT_ID);
    assert_eq!(change["value"]["parent_id"], comment.as_str());
    assert_eq!(change["value"]["id"], reply.comment_id.as_str());

    // The same media again by default; an unknown media or comment is refused.
    let (_, again) = control(
        format!("{base}/_emulator/users/{IGSID}/comments"),
        json!({"text": "?", "media": media}),
    )
    .await;
    assert_eq!(again["post_id"], media.as_str());
    receiver.next_json().await;
    let (status, refused) = control(
        format!("{base}/_emulator/users/{IGSID}/comments"),
        json!({"text": "?", "media": "18999999999999999"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        refused["error"].as_str().unwrap().contains("no post"),
        "{refused}"
    );
    let (status, _) = control(
        format!("{base}/_emulator/users/{IGSID}/comments"),
        json!({"text": "?", "account": PAGE_ID}),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn facebook_comments_arrive_as_feed_changes() {
    let mut receiver = Receiver::start().await;
    let (emulator, _client) = start(Some(&receiver)).await;
    let base = emulator.url();

    let (status, posted) = control(
        format!("{base}/_emulator/users/{PSID}/comments"),
        json!({"text": "When do you open?", "minutes_ago": 5}),
    )
    .await;
    assert_eq!(status, 200, "{posted}");
    let comment = posted["comment_id"].as_str().unwrap().to_owned();
    let post = posted["post_id"].as_str().unwrap().to_owned();
    let (page, object) = post.split_once('_').unwrap();
    assert_eq!(page, PAGE_ID);
    assert!(comment.starts_with(&format!("{object}_")), "{comment}");

    let change = only_change(&receiver.next_json().await, "page", PAGE_ID);
    let created = change["value"]["created_time"].as_i64().unwrap();
    assert!((now_ms() / 1000 - 300 - created).abs() < 10, "{created}");
    assert_eq!(
        change,
        json!({"field": "feed", "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": comment,
            "post_id": post,
            "parent_id": post,
            "message": "When do you open?",
            "from": {"id": PSID, "name": "Emulated User"},
            "created_time": created,
            "post": {"id": post, "status_type": "added_photos", "is_published": true},
        }})
    );

    let (_, reply) = control(
        format!("{base}/_emulator/users/{PSID}/comments"),
        json!({"text": "And on Sundays?", "reply_to": comment}),
    )
    .await;
    let change = only_change(&receiver.next_json().await, "page", PAGE_ID);
    assert_eq!(change["value"]["parent_id"], comment.as_str());
    assert_eq!(change["value"]["comment_id"], reply["comment_id"]);
    assert_eq!(change["value"]["post_id"], post.as_str());

    let listed: Value = crate::support::http::get(format!("{base}/_emulator/comments"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = listed["data"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1]["parent_id"], comment.as_str());
    assert_eq!(listed[0]["hidden"], false);
}

#[tokio::test]
async fn the_page_answers_hides_and_deletes_facebook_comments() {
    let mut receiver = Receiver::start().await;
    let (emulator, _client) = start(Some(&receiver)).await;
    let base = emulator.url();
    let posted = emulator
        .user_comments(PSID, InboundComment::text("Do you ship abroad?"))
        .await
        .unwrap();
    let comment = posted.comment_id.as_str().to_owned();
    receiver.next_json().await;

    // A public reply, as a form (the way the Graph API is usually called).
    let answer = graph(
        http()
            .post(format!("{base}/v23.0/{comment}/comments"))
            .form(&[("message", "Yes, to the EU")]),
    )
    .await;
    assert_eq!(answer.0, 200, "{}", answer.1);
    let reply = answer.1["id"].as_str().unwrap().to_owned();
    assert_eq!(answer.1, json!({"id": reply}));
    let change = only_change(&receiver.next_json().await, "page", PAGE_ID);
    assert_eq!(change["value"]["verb"], "add");
    assert_eq!(change["value"]["comment_id"], reply.as_str());
    assert_eq!(change["value"]["parent_id"], comment.as_str());
    assert_eq!(change["value"]["message"], "Yes, to the EU");
    assert_eq!(
        change["value"]["from"],
        json!({"id": PAGE_ID, "name": "Acme Shoes"})
    );
    // Instagram's edge does not exist on Facebook.
    let wrong = graph(
        http()
            .post(format!("{base}/v23.0/{comment}/replies"))
            .form(&[("message", "x")]),
    )
    .await;
    assert_graph_error(&wrong, 100, Some(33));

    for (hidden, verb) in [("true", "hide"), ("false", "unhide")] {
        let answer = graph(
            http()
                .post(format!("{base}/v23.0/{comment}"))
                .form(&[("is_hidden", hidden)]),
        )
        .await;
        assert_eq!(answer, (200, json!({"success": true})));
        let change = only_change(&receiver.next_json().await, "page", PAGE_ID);
        assert_eq!(change["value"]["verb"], verb);
        assert_eq!(change["value"]["comment_id"], comment.as_str());
    }
    let missing = graph(http().post(format!("{base}/v23.0/{comment}"))).await;
    assert_graph_error(&missing, 100, None);

    let answer = graph(http().delete(format!("{base}/v23.0/{comment}"))).await;
    assert_eq!(answer, (200, json!({"success": true})));
    let change = only_change(&receiver.next_json().await, "page", PAGE_ID);
    assert_eq!(change["value"]["verb"], "remove");
    assert_eq!(change["value"]["comment_id"], comment.as_str());

    // Gone, and unknown ids, are Meta's "does not exist".
    let again = graph(http().delete(format!("{base}/v23.0/{comment}"))).await;
    assert_graph_error(&again, 100, Some(33));
    assert_eq!(again.1["error"]["type"], "GraphMethodException");
    let unknown = graph(
        http()
            .post(format!("{base}/v23.0/123_456"))
            .form(&[("is_hidden", "true")]),
    )
    .await;
    assert_graph_error(&unknown, 100, Some(33));
    assert!(
        unknown.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Object with ID '123_456' does not exist")
    );
}

#[tokio::test]
async fn the_account_answers_hides_and_deletes_instagram_comments() {
    let mut receiver = Receiver::start().await;
    let (emulator, _client) = start(Some(&receiver)).await;
    let base = emulator.url();
    let posted = emulator
        .user_comments(IGSID, InboundComment::text("Price?"))
        .await
        .unwrap();
    let comment = posted.comment_id.as_str().to_owned();
    receiver.next_json().await;

    // A public reply, as JSON this time.
    let answer = graph(
        http()
            .post(format!("{base}/v23.0/{comment}/replies"))
            .json(&json!({"message": "89 EUR"})),
    )
    .await;
    assert_eq!(answer.0, 200, "{}", answer.1);
    let reply = answer.1["id"].as_str().unwrap().to_owned();
    let change = only_change(&receiver.next_json().await, "instagram", IG_ACCOUNT_ID);
    assert_eq!(
        change,
        json!({"field": "comments", "value": {
            "from": {"id": IG_ACCOUNT_ID, "username": "acmeshoes"},
            "media": {"id": posted.post_id, "media_product_type": "FEED"},
            "id": reply,
            "parent_id": comment,
            "text": "89 EUR",
        }})
    );

    let hidden = graph(
        http()
            .post(format!("{base}/v23.0/{comment}"))
            .query(&[("hide", "true")]),
    )
    .await;
    assert_eq!(hidden, (200, json!({"success": true})));
    // Facebook's parameter is not Instagram's.
    let wrong = graph(
        http()
            .post(format!("{base}/v23.0/{comment}"))
            .form(&[("is_hidden", "true")]),
    )
    .await;
    assert_graph_error(&wrong, 100, None);
    let deleted = graph(http().delete(format!("{base}/v23.0/{reply}"))).await;
    assert_eq!(deleted, (200, json!({"success": true})));
    // Instagram sends no webhook for hiding or deleting.
    receiver.assert_quiet(Duration::from_millis(300)).await;
    let listed: Value = crate::support::http::get(format!("{base}/_emulator/comments"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"][0]["hidden"], true);
    assert_eq!(listed["data"][1]["deleted"], true);
}

#[tokio::test]
async fn a_private_reply_opens_the_conversation_once() {
    let mut receiver = Receiver::start().await;
    let (emulator, client) = start(Some(&receiver)).await;
    let base = emulator.url();
    let posted = emulator
        .user_comments(IGSID, InboundComment::text("DM me the price"))
        .await
        .unwrap();
    receiver.next_json().await;

    let sent = instagram(&client)
        .private_reply(posted.comment_id.clone(), "It is 89 EUR")
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent.recipient_id.as_ref().map(|id| id.as_str()),
        Some(IGSID)
    );
    let echo = receiver.next().await;
    assert_eq!(echo[0].kind(), EventKind::Echo);
    assert_eq!(echo[0].message_id(), Some(&sent.message_id));
    let recorded = emulator.sent_messages();
    assert_eq!(recorded[0].recipient_id, IGSID);
    assert_eq!(recorded[0].message["text"], "It is 89 EUR");

    // The DM is in the conversation, and the author can answer it.
    let (status, conversations) = graph(http().get(format!(
        "{base}/v23.0/{PAGE_ID}/conversations?platform=instagram&fields=participants,messages"
    )))
    .await;
    assert_eq!(status, 200, "{conversations}");
    assert_eq!(conversations["data"].as_array().unwrap().len(), 1);
    emulator
        .user_writes(IGSID, Inbound::text("Deal"))
        .await
        .unwrap();
    receiver.next().await;

    // Once per comment: 10900, as on Messenger.
    let second = graph(
        http()
            .post(format!("{base}/v23.0/{IG_ACCOUNT_ID}/messages"))
            .json(&json!({"recipient": {"comment_id": posted.comment_id.as_str()}, "message": {"text": "again"}})),
    )
    .await;
    assert_graph_error(&second, 10_900, None);
    assert_eq!(second.1["error"]["type"], "OAuthException");
}

#[tokio::test]
async fn private_replies_follow_meta_s_rules_on_facebook() {
    let mut receiver = Receiver::start().await;
    let (emulator, _client) = start(Some(&receiver)).await;
    let base = emulator.url();
    let send = |comment: String| {
        let base = base.clone();
        async move {
            graph(
                http()
                    .post(format!("{base}/v23.0/{PAGE_ID}/messages"))
                    .json(
                        &json!({"recipient": {"comment_id": comment}, "message": {"text": "Hi!"}}),
                    ),
            )
            .await
        }
    };

    let fresh = emulator
        .user_comments(PSID, InboundComment::text("Info please"))
        .await
        .unwrap();
    receiver.next_json().await;
    let first = send(fresh.comment_id.as_str().to_owned()).await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(first.1["recipient_id"], PSID);
    assert!(first.1["message_id"].as_str().unwrap().starts_with("m_"));
    assert_eq!(receiver.next().await[0].kind(), EventKind::Echo);
    // Messenger's 10900 for a second one.
    let second = send(fresh.comment_id.as_str().to_owned()).await;
    assert_graph_error(&second, 10_900, None);

    // 8 days old: past the 7 days Meta allows.
    let old = emulator
        .user_comments(PSID, InboundComment::text("Anyone?").days_ago(8))
        .await
        .unwrap();
    let late = send(old.comment_id.as_str().to_owned()).await;
    assert_graph_error(&late, 10_903, None);
    // Six days old is still fine.
    let recent = emulator
        .user_comments(PSID, InboundComment::text("Still there?").days_ago(6))
        .await
        .unwrap();
    assert_eq!(send(recent.comment_id.as_str().to_owned()).await.0, 200);

    // Deleted comments, and the Page's own, take no private reply; unknown ones do not exist.
    let gone = emulator
        .user_comments(PSID, InboundComment::text("oops"))
        .await
        .unwrap();
    graph(http().delete(format!("{base}/v23.0/{}", gone.comment_id.as_str()))).await;
    assert_graph_error(
        &send(gone.comment_id.as_str().to_owned()).await,
        10_903,
        None,
    );
    let own = graph(
        http()
            .post(format!(
                "{base}/v23.0/{}/comments",
                recent.comment_id.as_str()
            ))
            .form(&[("message", "Yes!")]),
    )
    .await;
    let own = own.1["id"].as_str().unwrap().to_owned();
    assert_graph_error(&send(own).await, 10_903, None);
    assert_graph_error(&send("1_2".to_owned()).await, 100, Some(33));
}
