//! `meta-messaging doctor`'s checks of what makes deliveries go silent, each passing against a
//! healthy emulated world and failing (or warning) against one with the setting that silences
//! it: development mode, webhook fields not subscribed (app and Page), Instagram's "Allow
//! access to messages" off, and a callback URL Meta has that is not this app's.

use meta_messaging_core::graph::MESSENGER_WEBHOOK_FIELDS;
use meta_messaging_emulator::{AppMode, FacebookPage, InstagramAccount, World};
use serde_json::Value;

use crate::support::emulator::*;

const CALLBACK: &str = "https://inbox.example/api/meta/webhook";

/// The demo world, delivering to [`CALLBACK`], its Page subscribed to every field.
fn healthy() -> World {
    World::demo().callback_url(CALLBACK)
}

/// `doctor --json` with the app secret and the callback URL; the exit status and the checks.
async fn doctor(world: World) -> (bool, Vec<Value>) {
    let (emulator, client) = start_world(world).await;
    messenger(&client)
        .subscribe_app(MESSENGER_WEBHOOK_FIELDS)
        .await
        .unwrap();
    let out = crate::support::cli::run(
        &[
            "doctor",
            "--json",
            "--token",
            PAGE_TOKEN,
            "--app-secret",
            APP_SECRET,
            "--callback-url",
            CALLBACK,
            "--graph-url",
            &emulator.url(),
        ],
        b"",
    )
    .await;
    let report: Value = serde_json::from_str(&out.stdout).expect(&out.stdout);
    assert!(
        !out.stdout.contains(APP_SECRET),
        "the app secret never shows"
    );
    (
        out.succeeded(),
        report["checks"].as_array().unwrap().clone(),
    )
}

fn check<'a>(checks: &'a [Value], id: &str) -> &'a Value {
    checks
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {checks:#?}"))
}

fn status<'a>(checks: &'a [Value], id: &str) -> &'a str {
    check(checks, id)["status"].as_str().unwrap()
}

fn fix<'a>(checks: &'a [Value], id: &str) -> &'a str {
    check(checks, id)["fix"].as_str().unwrap_or_default()
}

/// The demo Page with its Instagram account's "Allow access to messages" as `on`.
fn page_with_instagram_access(on: bool) -> FacebookPage {
    let demo = World::demo();
    let mut page = demo.pages[0].clone();
    page.instagram =
        Some(InstagramAccount::new(IG_ACCOUNT_ID, "acmeshoes").allow_access_to_messages(on));
    page
}

fn with_page(mut world: World, page: FacebookPage) -> World {
    world.pages = vec![page];
    world
}

#[tokio::test]
async fn a_healthy_app_passes_every_silence_check() {
    let (healthy_exit, checks) = doctor(healthy()).await;
    for id in [
        "token",
        "data_access",
        "instagram_messaging",
        "webhook_subscription",
        "app_mode",
        "app_webhooks_page",
        "app_webhooks_instagram",
        "callback_url",
    ] {
        assert_eq!(status(&checks, id), "pass", "{id}: {checks:#?}");
    }
    assert!(healthy_exit);
}

#[tokio::test]
async fn development_mode_warns_that_only_app_roles_are_delivered() {
    let (exit, checks) = doctor(healthy().app_mode(AppMode::Development)).await;
    assert_eq!(status(&checks, "app_mode"), "warn");
    let detail = check(&checks, "app_mode")["detail"].as_str().unwrap();
    assert!(
        detail.contains("only people with a role on the app"),
        "{detail}"
    );
    assert!(fix(&checks, "app_mode").contains("switch the app to Live"));
    assert!(exit, "a warning does not fail the doctor");
}

#[tokio::test]
async fn app_fields_not_subscribed_are_named_with_the_fix() {
    let world = healthy()
        .app_webhook_fields(
            "page",
            ["messages", "messaging_postbacks", "message_echoes"],
        )
        .app_webhook_fields("instagram", ["comments"]);
    let (exit, checks) = doctor(world).await;
    assert_eq!(status(&checks, "app_webhooks_page"), "warn");
    let page_fix = fix(&checks, "app_webhooks_page");
    assert!(page_fix.contains("message_reactions"), "{page_fix}");
    assert!(!page_fix.contains("message_echoes"), "{page_fix}");
    assert_eq!(status(&checks, "app_webhooks_instagram"), "fail");
    assert!(fix(&checks, "app_webhooks_instagram").contains("messages"));
    assert!(!exit, "Instagram messages not subscribed is a failure");
}

#[tokio::test]
async fn page_fields_not_subscribed_warn_and_name_them() {
    let (emulator, client) = start_world(healthy()).await;
    messenger(&client)
        .subscribe_app(&["messages", "messaging_postbacks", "message_echoes"])
        .await
        .unwrap();
    let out = crate::support::cli::run(
        &[
            "doctor",
            "--token",
            PAGE_TOKEN,
            "--graph-url",
            &emulator.url(),
        ],
        b"",
    )
    .await;
    assert!(
        out.stdout.contains(
            "[warn] App subscribed to the Page's webhooks: not subscribed to message_reactions"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("message_edits"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("[skip] App serves people without a role")
            && out.stdout.contains("needs the app secret"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn instagram_messages_off_fails_with_the_setting_to_turn_on() {
    let world = with_page(healthy(), page_with_instagram_access(false));
    let (exit, checks) = doctor(world).await;
    assert_eq!(status(&checks, "instagram_linked"), "pass");
    assert_eq!(status(&checks, "instagram_messaging"), "fail");
    assert!(fix(&checks, "instagram_messaging").contains("Allow access to messages"));
    assert!(!exit);
}

#[tokio::test]
async fn a_callback_url_elsewhere_fails_naming_both() {
    let world = World::demo().callback_url("https://old.example/webhook");
    let (exit, checks) = doctor(world).await;
    assert_eq!(status(&checks, "callback_url"), "fail");
    let detail = check(&checks, "callback_url")["detail"].as_str().unwrap();
    assert!(detail.contains("https://old.example/webhook"), "{detail}");
    assert!(fix(&checks, "callback_url").contains(CALLBACK));
    assert!(!exit);
}
