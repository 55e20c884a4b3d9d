//! The unified-inbox example app in demo mode: its HTTP surface, and its page in a real
//! headless Chromium (live updates, platform filter, replies, an error with its fix).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use meta_messaging_core::Platform;
use meta_messaging_emulator::Inbound;
use serde_json::Value;
use unified_inbox::{Mode, Running};

use crate::support::browser::Browser;

const GRACE: &str = "5000000000000001";
const ADA: &str = "6758492015643287";
const LATE: &str = "6758492015643289";

/// Where the browser test leaves its screenshot for review.
fn screenshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots/unified-inbox.png")
}

/// The app in demo mode on a free port, with a fresh SQLite file and no timed customers: the
/// test makes them act.
async fn demo() -> Running {
    demo_every(None).await
}

async fn demo_every(customers_every: Option<Duration>) -> Running {
    let vars = [("BIND", "127.0.0.1:0")];
    unified_inbox::start_with(Mode::Demo { customers_every }, |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .await
    .expect("the demo starts")
}

async fn get_json(url: String) -> Value {
    let answer = reqwest::get(&url).await.unwrap();
    assert_eq!(answer.status(), 200, "GET {url}");
    answer.json().await.unwrap()
}

/// Waits until the opening scene's conversations are stored with their profiles.
async fn conversations_with_names(app: &Running, count: usize) -> Vec<Value> {
    let url = format!("{}api/meta/conversations", app.url);
    for _ in 0..250 {
        let data = get_json(url.clone()).await["data"]
            .as_array()
            .unwrap()
            .clone();
        if data.len() >= count && data.iter().all(|c| !c["participant"]["name"].is_null()) {
            return data;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the opening scene did not arrive with names");
}

#[tokio::test]
async fn demo_mode_connects_the_accounts_and_plays_the_opening_scene() {
    let app = demo().await;
    let info = get_json(format!("{}api/app", app.url)).await;
    assert_eq!(info["demo"], true);

    let accounts = get_json(format!("{}api/meta/accounts", app.url)).await;
    let connected: Vec<(&str, &str)> = accounts["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["platform"].as_str().unwrap(),
                a["account_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(connected.contains(&("messenger", unified_inbox::demo::PAGE)));
    assert!(connected.contains(&("instagram", unified_inbox::demo::INSTAGRAM_ACCOUNT)));

    // Five customers wrote, on both platforms, and their names were looked up.
    let conversations = conversations_with_names(&app, 5).await;
    let names: Vec<&str> = conversations
        .iter()
        .map(|c| c["participant"]["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Grace Hopper") && names.contains(&"Ada Lovelace"),
        "{names:?}"
    );
    for platform in [Platform::Messenger, Platform::Instagram] {
        for id in unified_inbox::demo::customer_ids(platform) {
            assert!(
                conversations
                    .iter()
                    .any(|c| c["participant_id"] == id && c["platform"] == platform.as_str()),
                "no conversation with {id} on {platform}"
            );
        }
    }
}

#[tokio::test]
async fn the_customers_script_reaches_the_inbox() {
    let app = demo_every(Some(Duration::from_millis(40))).await;
    let url = format!("{}api/meta/messages?limit=200", app.url);
    let mut last = Vec::new();
    for _ in 0..250 {
        last = get_json(url.clone()).await["data"]
            .as_array()
            .unwrap()
            .clone();
        let edited = last.iter().any(|m| m["edit_count"] == 1);
        let unsent = last.iter().any(|m| m["deleted"] == true);
        let kinds: Vec<&str> = last
            .iter()
            .flat_map(|m| m["attachments"].as_array().unwrap())
            .map(|a| a["type"].as_str().unwrap())
            .collect();
        let attached = ["image", "audio", "file", "story_mention"]
            .iter()
            .all(|k| kinds.contains(k));
        if edited && unsent && attached {
            // The attachments point at media the app serves itself, so the demo works offline.
            let picture = last
                .iter()
                .flat_map(|m| m["attachments"].as_array().unwrap())
                .find(|a| a["type"] == "image")
                .unwrap()["url"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(picture.starts_with(&app.url), "{picture}");
            assert_eq!(reqwest::get(&picture).await.unwrap().status(), 200);
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the script did not play out: {last:#?}");
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_a_strict_policy() {
    let app = demo().await;
    for (path, content_type) in [
        ("", "text/html"),
        ("assets/app.js", "text/javascript"),
        ("assets/style.css", "text/css"),
        ("demo-media/sneaker.svg", "image/svg+xml"),
        ("demo-media/voice-note.wav", "audio/wav"),
    ] {
        let answer = reqwest::get(format!("{}{path}", app.url)).await.unwrap();
        assert_eq!(answer.status(), 200, "/{path}");
        let headers = answer.headers();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "/{path}: {:?}",
            headers["content-type"]
        );
        if !path.starts_with("demo-media") {
            let csp = headers["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("default-src 'self'"), "{csp}");
            assert!(!csp.contains("unsafe-inline"), "{csp}");
        }
    }
    let page = reqwest::get(&app.url).await.unwrap().text().await.unwrap();
    for absolute in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(
            !page.contains(absolute),
            "the page loads nothing from elsewhere: {absolute}"
        );
    }
}

#[tokio::test]
async fn the_page_in_chromium_live_filtered_replies_and_errors() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = demo().await;
    let emulator = app.emulator().expect("demo mode has an emulator");
    conversations_with_names(&app, 5).await;

    browser.client.goto(&app.url).await.unwrap();
    browser
        .wait_until(
            "the live stream is open",
            "document.querySelector('[data-testid=live-status]').dataset.state === 'open'",
            Duration::from_secs(10),
        )
        .await;
    browser
        .wait_until(
            "the opening conversations are listed",
            "document.querySelectorAll('[data-testid=conversation]').length >= 5",
            Duration::from_secs(5),
        )
        .await;
    assert!(
        browser
            .find("[data-testid=demo-banner]")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    // A marker that a reload would wipe.
    browser.eval("window.__loadedOnce = true").await;

    // A customer writes on Instagram: the page shows it within 2 s, without a reload.
    let text = "Live from Instagram: still in stock?";
    let written = Instant::now();
    emulator
        .user_writes(GRACE, Inbound::text(text))
        .await
        .unwrap();
    browser
        .wait_until(
            "the new Instagram message is in the conversation list",
            &format!(
                "[...document.querySelectorAll('[data-testid=conversation][data-participant-id=\"{GRACE}\"] [data-testid=conversation-preview]')].some(e => e.textContent.includes({text:?}))"
            ),
            Duration::from_secs(2),
        )
        .await;
    let shown_after = written.elapsed();
    assert!(shown_after < Duration::from_secs(2), "{shown_after:?}");
    assert_eq!(browser.eval("window.__loadedOnce === true").await, true);
    let delivery = emulator.deliveries().last().cloned().unwrap();
    assert_eq!(delivery.status, Some(200));
    assert!(delivery.body.to_string().contains(text));

    // Facebook only, then All again.
    browser
        .click("[data-testid=platform-filter] button[data-platform=messenger]")
        .await;
    browser
        .wait_until(
            "only Facebook conversations are listed",
            "(() => { const all = [...document.querySelectorAll('[data-testid=conversation]')]; return all.length >= 3 && all.every(c => c.dataset.platform === 'messenger'); })()",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(
        browser
            .eval("document.querySelector('[data-testid=platform-filter] button[data-platform=messenger]').getAttribute('aria-pressed')")
            .await,
        "true"
    );
    browser
        .click("[data-testid=platform-filter] button[data-platform=all]")
        .await;
    browser
        .wait_until(
            "both platforms are listed again",
            "['messenger', 'instagram'].every(p => document.querySelector(`[data-testid=conversation][data-platform=${p}]`))",
            Duration::from_secs(5),
        )
        .await;

    // Reply to Ada: the reply shows in the thread and went out through the emulator.
    browser
        .click(&format!(
            "[data-testid=conversation][data-participant-id=\"{ADA}\"]"
        ))
        .await;
    browser
        .wait_until(
            "Ada's thread is open",
            "document.querySelectorAll('[data-testid=thread] [data-testid=message]').length >= 1",
            Duration::from_secs(5),
        )
        .await;
    let reply = "Yes, size 42 is in stock!";
    let composer = browser
        .find("[data-testid=send-form] textarea[name=text]")
        .await;
    composer.send_keys(reply).await.unwrap();
    browser.click("[data-testid=send-button]").await;
    browser
        .wait_until(
            "the reply is in the thread",
            &format!(
                "[...document.querySelectorAll('[data-testid=thread] [data-testid=message][data-direction=outbound] [data-testid=message-text]')].some(e => e.textContent.includes({reply:?}))"
            ),
            Duration::from_secs(5),
        )
        .await;
    let sent = emulator.sent_messages();
    assert_eq!(sent.last().unwrap().message["text"], reply);
    assert_eq!(sent.last().unwrap().recipient_id, ADA);
    // Once, even after the echo arrives.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        browser
            .eval(&format!(
                "[...document.querySelectorAll('[data-testid=thread] [data-testid=message-text]')].filter(e => e.textContent.includes({reply:?})).length"
            ))
            .await,
        1
    );

    // A customer who wrote 30 hours ago: Meta refuses, and the page says why and what to do.
    browser
        .click(&format!(
            "[data-testid=conversation][data-participant-id=\"{LATE}\"]"
        ))
        .await;
    browser
        .wait_until(
            "Linus's thread is open",
                        "document.querySelector('[data-testid=thread]').dataset.conversationId !== '' && document.querySelector('[data-testid=thread-name]').textContent.includes('Linus')",
            Duration::from_secs(5),
        )
        .await;
    let composer = browser
        .find("[data-testid=send-form] textarea[name=text]")
        .await;
    composer.send_keys("Sorry for the wait!").await.unwrap();
    browser.click("[data-testid=send-button]").await;
    browser
        .wait_until(
            "the send error and its fix are shown",
            "!document.querySelector('[data-testid=send-error]').hidden && document.querySelector('[data-testid=send-error-fix]').textContent.includes('HUMAN_AGENT')",
            Duration::from_secs(5),
        )
        .await;
    let message = browser
        .find("[data-testid=send-error-message]")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        message.contains("outside") || message.contains("window"),
        "{message}"
    );

    browser.screenshot(&screenshot_path()).await;

    // With the human-agent tag, the same reply goes through.
    browser
        .click("[data-testid=send-form] input[name=human_agent]")
        .await;
    browser.click("[data-testid=send-button]").await;
    browser
        .wait_until(
            "the tagged reply is sent and the error cleared",
            "document.querySelector('[data-testid=send-error]').hidden && [...document.querySelectorAll('[data-testid=thread] [data-testid=message][data-direction=outbound]')].length >= 1",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(
        emulator.sent_messages().last().unwrap().tag.as_deref(),
        Some("HUMAN_AGENT")
    );
}
