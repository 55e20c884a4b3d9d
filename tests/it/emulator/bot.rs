//! The echo-bot example's `EventHandler` against the emulator: it answers each message once,
//! even when Meta delivers it twice.

use std::time::Duration;

use std::sync::Arc;

use echo_bot::EchoBot;
use meta_messaging_core::inbox::{
    EventHandler, HandlerError, HandlerEvent, HandlerOptions, Inbox, OAuthSettings, Tenancy,
};
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{InMemoryStore, MessageStore};
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

/// The echo-bot, in a process that dies right after the bot sent its answer, before the
/// handler's cursor records it.
struct DiesAfterSending {
    sent: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl EventHandler for DiesAfterSending {
    fn name(&self) -> &str {
        EchoBot.name()
    }

    async fn handle(&self, inbox: &Inbox, event: &HandlerEvent) -> Result<(), HandlerError> {
        EchoBot.handle(inbox, event).await?;
        self.sent.notify_one();
        std::future::pending::<()>().await;
        Ok(())
    }
}

fn bot_inbox(
    emulator: &RunningEmulator,
    store: Arc<dyn MessageStore>,
    base: &str,
    handler: impl EventHandler,
) -> Inbox {
    let mut options = HandlerOptions::default();
    options.lease = Duration::from_secs(1);
    options.poll_interval = Duration::from_millis(50);
    Inbox::builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .verify_token(VerifyToken::new("bot"))
        .store(store)
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
        .handler(handler)
        .handler_options(options)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_echo_bot_does_not_answer_twice_after_a_crash_between_send_and_checkpoint() {
    let (emulator, _) = start_world(World::demo()).await;
    let bound = bind();
    let base = bound.1.clone();
    let store: Arc<dyn MessageStore> = Arc::new(InMemoryStore::new());
    let dying = Arc::new(DiesAfterSending {
        sent: tokio::sync::Notify::new(),
    });
    let first = bot_inbox(&emulator, store.clone(), &base, dying.clone());
    serve_bound(Adapter::Actix, first.clone(), bound).await;
    emulator
        .set_callback_url(Some(format!("{base}/webhook")))
        .unwrap();
    let connect = first.start_connect(&"default".into()).unwrap();
    let callback = emulator.consent(&connect.authorize_url).unwrap();
    first
        .finish_connect(callback.split_once('?').unwrap().1, Some(&connect.state))
        .await
        .unwrap();

    emulator
        .user_writes(PSID, Inbound::text("Are you there?"))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), dying.sent.notified())
        .await
        .expect("the bot answered");
    // The process dies with the answer sent and the event not checked off.
    assert!(
        !first
            .shutdown(Duration::from_millis(50))
            .await
            .handlers_stopped
    );

    // The next process runs the event again once the lease ends: the answer is not repeated.
    let second = bot_inbox(&emulator, store.clone(), &base, EchoBot);
    let tenant = "default".into();
    let queued = store.handler_events_after(&tenant, 0, 500).await.unwrap();
    let seq = queued
        .iter()
        .find(|q| q.event.raw.to_string().contains("Are you there?"))
        .expect("the message was queued")
        .seq;
    let mut cursor = 0;
    for _ in 0..300 {
        cursor = store
            .handler_cursor("echo-bot", &tenant)
            .await
            .unwrap()
            .map_or(0, |c| c.cursor);
        if cursor >= seq {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(cursor >= seq, "the event was not run again to its end");
    sent_count_settles(&emulator, 1).await;
    assert_eq!(
        emulator.sent_messages()[0].message["text"],
        "You said: Are you there?"
    );
    assert!(
        second
            .shutdown(Duration::from_secs(1))
            .await
            .handlers_stopped
    );
}
