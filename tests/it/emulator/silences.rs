//! The settings that make Meta's deliveries go silent, reproduced by the emulator: development
//! mode, webhook fields not subscribed (for the app and for the Page), and Instagram's "Allow
//! access to messages" off.

use std::time::Duration;

use meta_messaging_core::Platform;
use meta_messaging_core::ids::{Igsid, Psid};
use meta_messaging_emulator::{AppMode, Inbound, InboundReaction, InstagramAccount, User};

use super::*;

const QUIET: Duration = Duration::from_millis(300);

#[tokio::test]
async fn development_mode_delivers_only_people_with_a_role_on_the_app() {
    let mut receiver = Receiver::start().await;
    let tester = "6758492015640000";
    let world = World::demo()
        .callback_url(receiver.url.clone())
        .app_mode(AppMode::Development)
        .user(User::new(tester, Platform::Messenger, PAGE_ID).app_role());
    let (emulator, client) = start_world(world).await;
    emulator
        .user_writes(PSID, Inbound::text("anyone there?"))
        .await
        .unwrap();
    receiver.assert_quiet(QUIET).await;
    emulator
        .user_writes(tester, Inbound::text("tester here"))
        .await
        .unwrap();
    let delivery = receiver.next_json().await;
    assert_eq!(delivery["entry"][0]["messaging"][0]["sender"]["id"], tester);
    // Meta keeps the message, so the Page can still answer it.
    messenger(&client)
        .text(Psid::from(PSID), "yes")
        .send()
        .await
        .unwrap();
    receiver.assert_quiet(QUIET).await;
}

#[tokio::test]
async fn a_field_the_page_is_not_subscribed_to_is_not_delivered() {
    let mut receiver = Receiver::start().await;
    let mut world = World::demo().callback_url(receiver.url.clone());
    world.pages[0] = world.pages[0]
        .clone()
        .subscribed_fields(["messages", "message_echoes"]);
    let (emulator, client) = start_world(world).await;
    let listed = messenger(&client).subscribed_apps().await.unwrap();
    assert_eq!(listed[0].subscribed_fields, ["messages", "message_echoes"]);

    let mid = emulator
        .user_writes(PSID, Inbound::text("hi"))
        .await
        .unwrap();
    receiver.next().await;
    emulator
        .user_reacts(PSID, InboundReaction::love(mid.as_str()))
        .await
        .unwrap();
    receiver.assert_quiet(QUIET).await;

    messenger(&client)
        .subscribe_app(&["messages", "message_reactions"])
        .await
        .unwrap();
    emulator
        .user_reacts(PSID, InboundReaction::love(mid.as_str()))
        .await
        .unwrap();
    let reaction = receiver.next_json().await;
    assert!(
        reaction["entry"][0]["messaging"][0]["reaction"].is_object(),
        "{reaction}"
    );
}

#[tokio::test]
async fn a_field_the_app_is_not_subscribed_to_is_not_delivered_and_is_listed() {
    let mut receiver = Receiver::start().await;
    let world = World::demo()
        .callback_url(receiver.url.clone())
        .app_webhook_fields("instagram", ["comments"]);
    let (emulator, client) = start_world(world).await;
    emulator
        .user_writes(IGSID, Inbound::text("hello from Instagram"))
        .await
        .unwrap();
    receiver.assert_quiet(QUIET).await;
    emulator
        .user_writes(PSID, Inbound::text("hello from Messenger"))
        .await
        .unwrap();
    assert_eq!(receiver.next_json().await["object"], "page");

    let token = meta_messaging_core::secret::AppAccessToken::new(format!("{APP_ID}|{APP_SECRET}"));
    let subscriptions = client
        .app_subscriptions(&APP_ID.into(), &token)
        .await
        .unwrap();
    let instagram = subscriptions
        .iter()
        .find(|s| s.object == "instagram")
        .unwrap();
    assert!(instagram.has_field("comments") && !instagram.has_field("messages"));
    let page = subscriptions.iter().find(|s| s.object == "page").unwrap();
    assert!(page.active && page.has_field("message_reactions"));
    assert_eq!(page.callback_url.as_deref(), Some(receiver.url.as_str()));
}

#[tokio::test]
async fn instagram_messages_off_silences_webhooks_and_refuses_the_messaging_api() {
    let mut receiver = Receiver::start().await;
    let mut world = World::demo().callback_url(receiver.url.clone());
    world.pages[0].instagram =
        Some(InstagramAccount::new(IG_ACCOUNT_ID, "acmeshoes").allow_access_to_messages(false));
    let (emulator, client) = start_world(world).await;
    emulator
        .user_writes(IGSID, Inbound::text("hello?"))
        .await
        .unwrap();
    receiver.assert_quiet(QUIET).await;

    let refused = instagram(&client)
        .text(Igsid::from(IGSID), "hi")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.meta_error().map(|e| e.code), Some(10), "{refused}");
    let read = instagram(&client).conversations().limit(1).page().await;
    assert!(read.is_err(), "the Conversations API refuses too");

    // Messenger is not affected.
    emulator
        .user_writes(PSID, Inbound::text("hi on Messenger"))
        .await
        .unwrap();
    assert_eq!(receiver.next_json().await["object"], "page");
}
