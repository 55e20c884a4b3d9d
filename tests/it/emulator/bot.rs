//! The echo-bot example's `EventHandler` against the emulator: it answers each message once,
//! even when Meta delivers it twice.

use std::time::Duration;

use echo_bot::EchoBot;
use meta_messaging_core::inbox::{Inbox, OAuthSettings, Tenancy};
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::InMemoryStore;
use meta_messaging_emulator::{Inbound, World};

use super::*;
use crate::support::servers::{Adapter, bind, serve_bound};

async fn sent_count_settles(emulator: &RunningEmulator, count: usize) {
    for _ in 0..300 {
        if emulator.sent_messages().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Long enough for a wrongly repeated answer to show up too.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        emulator.sent_messages().len(),
        count,
        "{:#?}",
        emulator.sent_messages()
    );
}

#[tokio::test]
async fn the_echo_bot_answers_every_message_once() {
    let (emulator, _) = start_world(World::demo()).await;
    let bound = bind();
    let base = bound.1.clone();
    let inbox = Inbox::builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .verify_token(VerifyToken::new("bot"))
        .store(InMemoryStore::new())
        .graph(
            GraphClient::builder()
                .graph_url(emulator.url())
                .dialog_url(emulator.url())
                .retry(fast_retries())
                .build()
                .unwrap(),
        )
        .tenancy(Tenancy::Single("default".into()))
        .oauth(OAuthSettings::new(APP_ID, format!("{base}/oauth/callback")))
        .handler(EchoBot)
        .build()
        .unwrap();
    serve_bound(Adapter::Actix, inbox.clone(), bound).await;
    emulator
        .set_callback_url(Some(format!("{base}/webhook")))
        .unwrap();
    let connect = inbox.start_connect(&"default".into()).unwrap();
    let callback = emulator.consent(&connect.authorize_url).unwrap();
    inbox
        .finish_connect(callback.split_once('?').unwrap().1, Some(&connect.state))
        .await
        .unwrap();

    let asked = emulator
        .user_writes(PSID, Inbound::text("Hi bot"))
        .await
        .unwrap();
    sent_count_settles(&emulator, 1).await;
    let answer = &emulator.sent_messages()[0];
    assert_eq!(answer.message["text"], "You said: Hi bot");
    assert_eq!(answer.recipient_id, PSID);

    // Meta delivers the customer's message again: no second answer.
    let first = emulator
        .deliveries()
        .into_iter()
        .find(|d| d.body.to_string().contains(asked.as_str()))
        .unwrap();
    let body = serde_json::to_vec(&first.body).unwrap();
    let again = crate::support::http::client()
        .post(format!("{base}/webhook"))
        .header(
            SIGNATURE_HEADER,
            webhook::sign(&AppSecret::new(APP_SECRET), &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    sent_count_settles(&emulator, 1).await;

    // An Instagram picture gets its own answer; the bot's echoes get none.
    emulator
        .user_writes(
            IGSID,
            Inbound::attachment("image", "https://example.com/a.jpg"),
        )
        .await
        .unwrap();
    sent_count_settles(&emulator, 2).await;
    assert_eq!(
        emulator.sent_messages()[1].message["text"],
        "Thanks for the image!"
    );
    assert_eq!(emulator.sent_messages()[1].recipient_id, IGSID);
}
