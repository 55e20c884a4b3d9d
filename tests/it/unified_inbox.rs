//! The unified-inbox example app in demo mode: its HTTP surface and who may use it, and its
//! page in a real headless Chromium (signing in and out, live updates, platform filter,
//! replies, an error with its fix, hostile customer data shown as text, a sent template).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use meta_messaging_core::Platform;
use meta_messaging_emulator::{Inbound, User};
use reqwest::header::{CONTENT_TYPE, COOKIE, HOST, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};
use unified_inbox::{Mode, Running};

use crate::support::browser::Browser;

const GRACE: &str = "5000000000000001";
const ADA: &str = "6758492015643287";
const LATE: &str = "6758492015643289";
const GONE: &str = "6758492015643290";

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
    demo_with(customers_every, &[]).await
}

/// The demo with more settings than `BIND` (META_API_TOKEN is unset unless `vars` set it).
async fn demo_with(customers_every: Option<Duration>, vars: &[(&str, &str)]) -> Running {
    let vars = [&[("BIND", "127.0.0.1:0")], vars].concat();
    unified_inbox::start_with(Mode::Demo { customers_every }, |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .await
    .expect("the demo starts")
}

/// The API token the app made at start (the tests leave META_API_TOKEN unset).
fn api_token(app: &Running) -> &str {
    app.api_token
        .as_ref()
        .expect("a token is made when META_API_TOKEN is unset")
        .expose()
}

/// The one-time code of the printed sign-in link.
fn sign_in_code(app: &Running) -> &str {
    app.sign_in_url
        .strip_prefix(&format!("{}?token=", app.url))
        .unwrap_or_else(|| {
            panic!(
                "the sign-in link is the page's URL with a code: {}",
                app.sign_in_url
            )
        })
}

/// `GET` with the app's API token.
async fn get_json(app: &Running, url: String) -> Value {
    let answer = crate::support::http::client()
        .get(&url)
        .bearer_auth(api_token(app))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "GET {url}");
    answer.json().await.unwrap()
}

/// The status and the `error.kind` of an error answer.
async fn refusal(answer: reqwest::Response) -> (u16, String) {
    let status = answer.status().as_u16();
    let body: Value = answer.json().await.unwrap_or_default();
    (
        status,
        body["error"]["kind"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// Waits until the opening scene's direct conversations are stored with their profiles.
async fn conversations_with_names(app: &Running, count: usize) -> Vec<Value> {
    let url = format!("{}api/meta/conversations?kind=direct", app.url);
    for _ in 0..250 {
        let data = get_json(app, url.clone()).await["data"]
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
    // The app's description is guarded like the inbox routes.
    let info = get_json(&app, format!("{}api/app", app.url)).await;
    assert_eq!(info["demo"], true);
    let anonymous = crate::support::http::get(format!("{}api/app", app.url))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let accounts = get_json(&app, format!("{}api/meta/accounts", app.url)).await;
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

    // Six customers wrote, on both platforms, and their names were looked up.
    let conversations = conversations_with_names(&app, 6).await;
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
    // Two of them commented too: one thread per post, on each platform.
    let url = format!("{}api/meta/conversations?kind=comments", app.url);
    let deadline = Instant::now() + Duration::from_secs(10);
    let threads = loop {
        let threads = get_json(&app, url.clone()).await["data"]
            .as_array()
            .unwrap()
            .clone();
        if threads.len() >= 2 || Instant::now() > deadline {
            break threads;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut platforms: Vec<&str> = threads
        .iter()
        .map(|t| {
            assert_eq!(t["kind"], "comments", "{t}");
            assert!(t["post_id"].is_string(), "{t}");
            t["platform"].as_str().unwrap()
        })
        .collect();
    platforms.sort_unstable();
    assert_eq!(platforms, ["instagram", "messenger"], "{threads:?}");
}

#[tokio::test]
async fn the_customers_script_reaches_the_inbox() {
    let app = demo_every(Some(Duration::from_millis(40))).await;
    let url = format!("{}api/meta/messages?limit=200", app.url);
    let mut last = Vec::new();
    for _ in 0..250 {
        last = get_json(&app, url.clone()).await["data"]
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
            assert_eq!(
                crate::support::http::get(&picture).await.unwrap().status(),
                200
            );
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
        let answer = crate::support::http::get(format!("{}{path}", app.url))
            .await
            .unwrap();
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
    let page = crate::support::http::get(&app.url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for absolute in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(
            !page.contains(absolute),
            "the page loads nothing from elsewhere: {absolute}"
        );
    }
}

#[tokio::test]
async fn the_inbox_routes_need_the_api_token_or_a_session() {
    let app = demo().await;
    let token = api_token(&app);
    let conversations = format!("{}api/meta/conversations", app.url);
    let session = format!("{}api/meta/session", app.url);
    // No cookie store: every cookie below is sent by hand.
    let http = crate::support::http::client();

    // Without credentials, or with a wrong token: 401 in the API's error shape.
    let open = http.get(&conversations).send().await.unwrap();
    assert_eq!(refusal(open).await, (401, "unauthorized".to_owned()));
    let wrong = http
        .get(&conversations)
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(refusal(wrong).await, (401, "unauthorized".to_owned()));
    let events = http
        .get(format!("{}api/meta/events", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 401, "the live stream too");
    let answer = http
        .get(&conversations)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    // A name that is not this server's (DNS rebinding) is refused even with the token.
    let rebound = http
        .get(&conversations)
        .bearer_auth(token)
        .header(HOST, "inbox.evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refusal(rebound).await, (421, "host_not_allowed".to_owned()));

    // The printed link's code signs in once, for an HttpOnly, SameSite=Strict cookie.
    let code = sign_in_code(&app);
    assert_ne!(code, token, "the link does not carry the API token");
    let signed_in = http
        .post(&session)
        .json(&json!({ "token": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let set_cookie = signed_in.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert_eq!(
        signed_in.json::<Value>().await.unwrap(),
        json!({"tenant_id": "default"})
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert!(
        cookie.starts_with("mm_session=") && cookie.len() > "mm_session=".len(),
        "{cookie}"
    );
    let again = http
        .post(&session)
        .json(&json!({ "token": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refusal(again).await,
        (401, "unauthorized".to_owned()),
        "a used code"
    );

    // The cookie opens the API and says who is signed in.
    let answer = http
        .get(&conversations)
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let who = http
        .get(&session)
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(who.status(), 200);
    assert_eq!(who.json::<Value>().await.unwrap()["tenant_id"], "default");
    let nobody = http.get(&session).send().await.unwrap();
    assert_eq!(nobody.status(), 401);

    // The API token signs in too; not as a form, and not from another site.
    let by_token = http
        .post(&session)
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(by_token.status(), 200);
    let form = http
        .post(&session)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    let elsewhere = http
        .post(&session)
        .header(ORIGIN, "https://evil.example")
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refusal(elsewhere).await,
        (403, "cross_site_request".to_owned())
    );

    // A state change carried by the cookie from another site is refused; from the page it is not.
    let id = conversations_with_names(&app, 1).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = format!("{}api/meta/conversations/{id}/read", app.url);
    let forged = http
        .post(&read)
        .header(COOKIE, &cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(
        refusal(forged).await,
        (403, "cross_site_request".to_owned())
    );
    let from_page = http
        .post(&read)
        .header(COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(from_page.status(), 200);

    // Signing out clears the cookie.
    let signed_out = http
        .delete(&session)
        .header(COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 204);
    let cleared = signed_out.headers()[SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with("mm_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
}

#[tokio::test]
async fn the_demo_takes_the_api_tokens_the_operator_sets() {
    let app = demo_with(None, &[("META_API_TOKEN", "the-new-token, the-old-token")]).await;
    assert!(
        app.api_token.is_none(),
        "nothing was made, so nothing is printed"
    );
    let url = format!("{}api/meta/accounts", app.url);
    for token in ["the-new-token", "the-old-token"] {
        let answer = crate::support::http::client()
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{token}");
    }
    let answer = crate::support::http::get(&url).await.unwrap();
    assert_eq!(answer.status(), 401);
    // The printed link still signs in once.
    let session = format!("{}api/meta/session", app.url);
    let answer = crate::support::http::client()
        .post(&session)
        .json(&json!({ "token": sign_in_code(&app) }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

/// The inbox is shown (and the sign-in form is not) and its live stream is open.
const INBOX_SHOWN: &str = "document.querySelector('[data-testid=sign-in]').hidden && !document.querySelector('.layout').hidden && document.querySelector('[data-testid=live-status]').dataset.state === 'open'";
/// The sign-in form is shown, and nothing of the inbox.
const SIGN_IN_SHOWN: &str = "!document.querySelector('[data-testid=sign-in]').hidden && document.querySelector('.layout').hidden && document.querySelector('.filters').hidden";

/// Signs in through the page's form with `token`.
async fn sign_in_with_form(browser: &Browser, token: &str) {
    let field = browser
        .find("[data-testid=sign-in] input[name=token]")
        .await;
    assert_eq!(
        field.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    field.clear().await.unwrap();
    field.send_keys(token).await.unwrap();
    browser.click("[data-testid=sign-in-button]").await;
}

/// Opens the page with the printed one-time link: it signs in and shows the inbox, and the code
/// leaves the address bar.
async fn open_signed_in(browser: &Browser, app: &Running) {
    browser.client.goto(&app.sign_in_url).await.unwrap();
    browser
        .wait_until("the link signs in", INBOX_SHOWN, Duration::from_secs(10))
        .await;
    assert_eq!(browser.eval("location.href").await, app.url.as_str());
}

#[tokio::test]
async fn the_page_in_chromium_live_filtered_replies_and_errors() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = demo().await;
    let emulator = app.emulator().expect("demo mode has an emulator");
    conversations_with_names(&app, 6).await;

    open_signed_in(&browser, &app).await;
    let cookies = browser.client.get_all_cookies().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name() == "mm_session")
        .expect("the session cookie is set");
    assert_eq!(session.http_only(), Some(true));
    assert!(session.same_site().is_some_and(|s| s.is_strict()));
    assert_eq!(
        browser.eval("document.cookie.includes('mm_session')").await,
        false,
        "scripts cannot read the session"
    );
    browser
        .wait_until(
            "the opening conversations are listed",
            "document.querySelectorAll('[data-testid=conversation]').length >= 6",
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
    // From here on, every API call the page makes is recorded, to check against the OpenAPI
    // document once the flow is done.
    assert_eq!(browser.eval(RECORD_API_CALLS).await, true);

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
    // She just wrote: the header counts the 24-hour window down.
    browser
        .wait_until(
            "Ada's window is open, with the time left",
            "(() => { const w = document.querySelector('[data-testid=thread-window]'); return !w.hidden && w.dataset.state === 'open' && /^Reply window: 2[0-3] h \\d+ min left$/.test(w.textContent); })()",
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

    // Every reply carries an idempotency key. The connection drops after the request went
    // out (the server sent the reply, the page never saw the answer); pressing Send again
    // sends the same key, and the server answers from the first attempt: one message at Meta.
    assert_eq!(browser.eval(DROP_THE_NEXT_SEND_ANSWER).await, true);
    let retried = "Back in stock on Monday.";
    let sent_before = emulator.sent_messages().len();
    let composer = browser
        .find("[data-testid=send-form] textarea[name=text]")
        .await;
    composer.send_keys(retried).await.unwrap();
    browser.click("[data-testid=send-button]").await;
    browser
        .wait_until(
            "the dropped answer is shown as a network error",
            "!document.querySelector('[data-testid=send-error]').hidden && document.querySelector('[data-testid=send-error-message]').textContent.includes('could not be reached')",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(
        emulator.sent_messages().len(),
        sent_before + 1,
        "the first attempt reached Meta"
    );
    browser.click("[data-testid=send-button]").await;
    browser
        .wait_until(
            "the retried reply is answered and the error cleared",
            &format!(
                "document.querySelector('[data-testid=send-error]').hidden && window.__sends.length === 2 && document.querySelector('[data-testid=send-form] textarea[name=text]').value === '' && [...document.querySelectorAll('[data-testid=thread] [data-testid=message-text]')].some(e => e.textContent.includes({retried:?}))"
            ),
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(
        emulator.sent_messages().len(),
        sent_before + 1,
        "the retry sent nothing"
    );
    let sends = browser.eval("window.__sends").await;
    let key = sends[0]["key"]
        .as_str()
        .expect("the page sent an Idempotency-Key");
    assert_eq!(sends[1]["key"], key, "the retry reused the key: {sends}");
    assert_eq!(sends[1]["body"], sends[0]["body"]);
    assert!(
        key.len() == 36 && key.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
        "a UUID: {key}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        browser
            .eval(&format!(
                "[...document.querySelectorAll('[data-testid=thread] [data-testid=message-text]')].filter(e => e.textContent.includes({retried:?})).length"
            ))
            .await,
        1
    );
    // The server keeps the page's key: the same request from anywhere is answered from it.
    let replay = crate::support::http::client()
        .post(format!("{}api/meta/messages", app.url))
        .bearer_auth(api_token(&app))
        .header(CONTENT_TYPE, "application/json")
        .header("idempotency-key", key)
        .body(sends[0]["body"].as_str().unwrap().to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replayed: Value = replay.json().await.unwrap();
    assert_eq!(replayed["text"], retried);
    assert_eq!(replayed["stored"], true);
    assert_eq!(emulator.sent_messages().len(), sent_before + 1);
    // A new reply gets a new key.
    browser
        .find("[data-testid=send-form] textarea[name=text]")
        .await
        .send_keys("And in red too.")
        .await
        .unwrap();
    browser.click("[data-testid=send-button]").await;
    browser
        .wait_until(
            "the next reply is sent",
            "window.__sends.length === 3 && document.querySelector('[data-testid=send-form] textarea[name=text]').value === ''",
            Duration::from_secs(5),
        )
        .await;
    let next = browser.eval("window.__sends[2].key").await;
    assert!(next.is_string() && next != key, "{next}");
    assert_eq!(emulator.sent_messages().len(), sent_before + 2);

    // A customer who wrote 8 days ago: the header says the window is closed, and a reply is
    // refused before it reaches Meta, with what to do.
    let sent_before = emulator.sent_messages().len();
    browser
        .click(&format!(
            "[data-testid=conversation][data-participant-id=\"{GONE}\"]"
        ))
        .await;
    browser
        .wait_until(
            "Margaret's thread is open and her window closed",
            "document.querySelector('[data-testid=thread-name]').textContent.includes('Margaret') && document.querySelector('[data-testid=thread-window]').dataset.state === 'closed' && document.querySelector('[data-testid=thread-window]').textContent === 'Window closed: wait for the customer to write'",
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
            "the refusal and its fix are shown",
            "!document.querySelector('[data-testid=send-error]').hidden && document.querySelector('[data-testid=send-error-fix]').textContent.includes('Wait for the customer to write again')",
            Duration::from_secs(5),
        )
        .await;
    let message = browser
        .find("[data-testid=send-error-message]")
        .await
        .text()
        .await
        .unwrap();
    assert!(message.contains("the customer last wrote at"), "{message}");
    assert_eq!(
        emulator.sent_messages().len(),
        sent_before,
        "nothing reached Meta"
    );

    browser.screenshot(&screenshot_path()).await;

    // A customer who wrote 30 hours ago: only a human agent may answer, and the page's reply
    // (a person's) goes out with the HUMAN_AGENT tag.
    browser
        .click(&format!(
            "[data-testid=conversation][data-participant-id=\"{LATE}\"]"
        ))
        .await;
    browser
        .wait_until(
            "Linus's thread is open, human agent only, with the days left",
            "document.querySelector('[data-testid=thread-name]').textContent.includes('Linus') && document.querySelector('[data-testid=thread-window]').dataset.state === 'human_agent' && /^Human agent only: [56] d \\d+ h left$/.test(document.querySelector('[data-testid=thread-window]').textContent)",
            Duration::from_secs(5),
        )
        .await;
    let composer = browser
        .find("[data-testid=send-form] textarea[name=text]")
        .await;
    composer.clear().await.unwrap();
    composer.send_keys("Sorry for the wait!").await.unwrap();
    browser.click("[data-testid=send-button]").await;
    browser
        .wait_until(
            "the reply is sent",
            "document.querySelector('[data-testid=send-error]').hidden && [...document.querySelectorAll('[data-testid=thread] [data-testid=message][data-direction=outbound]')].length >= 1",
            Duration::from_secs(5),
        )
        .await;
    let sent = emulator.sent_messages();
    assert_eq!(sent.len(), sent_before + 1);
    assert_eq!(sent.last().unwrap().tag.as_deref(), Some("HUMAN_AGENT"));

    // The bot answers Linus until a person takes the conversation over; handing it back gives
    // it to the bot again.
    browser
        .wait_until(
            "the header says the bot answers",
            "document.querySelector('[data-testid=thread-owner]').dataset.owner === 'bot' && document.querySelector('[data-testid=handover]').textContent === 'Take over'",
            Duration::from_secs(5),
        )
        .await;
    browser.click("[data-testid=handover]").await;
    browser
        .wait_until(
            "the conversation is taken over",
            "document.querySelector('[data-testid=thread-owner]').dataset.owner === 'human' && document.querySelector('[data-testid=thread-owner]').textContent === 'Answered by a person (you)' && document.querySelector('[data-testid=handover]').textContent === 'Hand back'",
            Duration::from_secs(5),
        )
        .await;
    browser.click("[data-testid=handover]").await;
    browser
        .wait_until(
            "the conversation is handed back",
            "document.querySelector('[data-testid=thread-owner]').dataset.owner === 'bot' && document.querySelector('[data-testid=handover]').textContent === 'Take over'",
            Duration::from_secs(5),
        )
        .await;

    // Sign out: the form comes back and the page's requests are no longer let in.
    browser.click("[data-testid=sign-out]").await;
    browser
        .wait_until("signed out", SIGN_IN_SHOWN, Duration::from_secs(5))
        .await;
    every_api_call_is_documented(&browser).await;
    assert_eq!(browser.fetch_status("/api/meta/conversations").await, 401);
    assert_eq!(
        browser
            .eval("document.querySelectorAll('[data-testid=conversation], [data-testid=message]').length")
            .await,
        0,
        "nothing of the inbox stays in the page"
    );

    // The same link again: its code is spent, so the form shows and says so, and the page
    // asked for nothing but the session.
    browser.client.goto(&app.sign_in_url).await.unwrap();
    browser
        .wait_until(
            "a used link shows the sign-in form with why",
            &format!(
                "{SIGN_IN_SHOWN} && document.querySelector('[data-testid=sign-in-error]').textContent.includes('already used')"
            ),
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(browser.eval("location.href").await, app.url.as_str());
    assert_eq!(
        browser
            .eval("performance.getEntriesByType('resource').map(e => new URL(e.name).pathname).filter(p => p.startsWith('/api/') && p !== '/api/meta/session')")
            .await,
        json!([]),
        "no list fetch and no live stream before signing in"
    );
    browser
        .screenshot(&screenshot_path().with_file_name("unified-inbox-sign-in.png"))
        .await;

    // A wrong token is refused in the form; the API token signs in.
    sign_in_with_form(&browser, "not-the-token").await;
    browser
        .wait_until(
            "a wrong token is refused in the form",
            &format!(
                "{SIGN_IN_SHOWN} && document.querySelector('[data-testid=sign-in-error]').textContent.includes('not valid')"
            ),
            Duration::from_secs(5),
        )
        .await;
    sign_in_with_form(&browser, api_token(&app)).await;
    browser
        .wait_until(
            "the API token signs in",
            INBOX_SHOWN,
            Duration::from_secs(10),
        )
        .await;
    browser
        .wait_until(
            "the conversations are listed again",
            "document.querySelectorAll('[data-testid=conversation]').length >= 6",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(
        browser
            .eval("document.querySelector('[data-testid=sign-in] input[name=token]').value")
            .await,
        "",
        "the token does not stay in the page"
    );

    // The session ends while the inbox is open (here: the cookie is gone): the next answer, a
    // 401, brings the form back.
    browser.client.delete_cookie("mm_session").await.unwrap();
    browser
        .click("[data-testid=platform-filter] button[data-platform=instagram]")
        .await;
    browser
        .wait_until(
            "an ended session shows the sign-in form",
            &format!(
                "{SIGN_IN_SHOWN} && document.querySelector('[data-testid=sign-in-error]').textContent.includes('session has ended')"
            ),
            Duration::from_secs(5),
        )
        .await;

    // And a client without the cookie or the token gets nothing.
    let answer = crate::support::http::get(format!("{}api/meta/conversations", app.url))
        .await
        .unwrap();
    assert_eq!(refusal(answer).await, (401, "unauthorized".to_owned()));
}

/// Wraps the page's `fetch` and `EventSource`: records the method and URL of each call in
/// `window.__apiCalls`, before it goes out.
const RECORD_API_CALLS: &str = "(() => {
    window.__apiCalls = [];
    const realFetch = window.fetch;
    window.fetch = (url, options = {}) => {
        const method = options.method ?? (url instanceof Request ? url.method : 'GET');
        window.__apiCalls.push({ method: method.toUpperCase(), url: String(url instanceof Request ? url.url : url) });
        return realFetch(url, options);
    };
    const RealEventSource = window.EventSource;
    window.EventSource = class extends RealEventSource {
        constructor(url, init) {
            window.__apiCalls.push({ method: 'GET', url: String(url) });
            super(url, init);
        }
    };
    return true;
})()";

/// Every request the page made under the mount is a documented operation of the OpenAPI
/// document: the calls [`RECORD_API_CALLS`] recorded (method and path), and every resource the
/// page loaded since it opened (the calls before the recording started, images and media of
/// kept attachments: their path is documented, for `GET`).
async fn every_api_call_is_documented(browser: &Browser) {
    let documented = crate::support::openapi::Documented::load();
    let under_mount = |url: &str| -> Option<String> {
        let path = url::Url::parse(url)
            .ok()
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|| url.split('?').next().unwrap_or(url).to_owned());
        path.strip_prefix("/api/meta").map(str::to_owned)
    };
    let recorded = browser
        .eval("window.__apiCalls.map(c => [c.method, new URL(c.url, location.href).href])")
        .await;
    let recorded: Vec<(String, String)> = serde_json::from_value(recorded).unwrap();
    let loaded = browser
        .eval("performance.getEntriesByType('resource').map(e => [e.initiatorType, e.name])")
        .await;
    let loaded: Vec<(String, String)> = serde_json::from_value(loaded).unwrap();
    let mut calls: Vec<(String, String)> = recorded
        .iter()
        .filter_map(|(method, url)| Some((method.clone(), under_mount(url)?)))
        .collect();
    // A resource entry has no method: the page's loads of media and its requests before the
    // recording are reads, except those the recording saw with another method.
    for (_, url) in &loaded {
        let Some(path) = under_mount(url) else {
            continue;
        };
        if !calls.iter().any(|(_, p)| *p == path) {
            calls.push(("GET".to_owned(), path));
        }
    }
    assert!(
        calls.iter().any(|(m, p)| m == "POST" && p == "/messages"),
        "the flow sent a reply: {calls:?}"
    );
    for (method, path) in &calls {
        assert!(
            documented.operation(method, path).is_some(),
            "the page called {method} /api/meta{path}, which the OpenAPI document does not describe"
        );
    }
}

/// Wraps the page's `fetch`: records each `POST /messages` (its `Idempotency-Key` and body)
/// in `window.__sends`, and throws away the answer of the next one after the server gave it,
/// as a connection that drops after the request went out.
const DROP_THE_NEXT_SEND_ANSWER: &str = "(() => {
    const real = window.fetch;
    window.__sends = [];
    let drop = true;
    window.fetch = async (url, options = {}) => {
        const send = options.method === 'POST' && String(url).endsWith('/messages');
        if (send) window.__sends.push({ key: options.headers['Idempotency-Key'], body: options.body });
        const response = await real(url, options);
        if (send && drop) {
            drop = false;
            await response.text();
            throw new TypeError('Failed to fetch');
        }
        return response;
    };
    return true;
})()";

/// A customer made to attack the page: every string is markup or a script URL.
const HOSTILE: &str = "6758492015640666";
const HOSTILE_NAME: &str = r#"Eve"><svg onload=window.__xss=4>"#;
const HOSTILE_TEXTS: [&str; 2] = [
    r#"<img src=x onerror="window.__xss=1">"#,
    "<script>window.__xss=2</script>",
];
const SCRIPT_URL: &str = "javascript:window.__xss=3";
/// Attachment types the page shows as media, a download, a card or an unknown kind.
const HOSTILE_ATTACHMENTS: [&str; 5] = ["image", "video", "file", "fallback", "audio"];

/// Nothing ran, nothing was parsed as markup, and no link or media source is a script URL.
/// (The page's CSP would also stop inline scripts: the markup and URL checks are what show
/// that the page never turns the data into HTML or links.)
const NOTHING_RAN: &str = "window.__xss === undefined \
    && document.querySelectorAll('body svg, body script, iframe, object, embed, img[src=\"x\"], [onerror], [onload]').length === 0 \
    && ![...document.querySelectorAll('a[href], img[src], video[src], audio[src], source[src]')] \
        .some(e => /^\\s*javascript:/i.test(e.getAttribute('href') ?? e.getAttribute('src')))";

#[tokio::test]
async fn the_page_shows_hostile_customer_data_as_text() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = demo().await;
    let emulator = app.emulator().expect("demo mode has an emulator");
    emulator
        .add_user(
            User::new(HOSTILE, Platform::Messenger, unified_inbox::demo::PAGE).name(HOSTILE_NAME),
        )
        .unwrap();
    for text in HOSTILE_TEXTS {
        emulator
            .user_writes(HOSTILE, Inbound::text(text))
            .await
            .unwrap();
    }
    for kind in HOSTILE_ATTACHMENTS {
        emulator
            .user_writes(HOSTILE, Inbound::attachment(kind, SCRIPT_URL))
            .await
            .unwrap();
    }
    // The payloads are stored as sent: the page is what must hold.
    let url = format!("{}api/meta/messages?limit=200", app.url);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let messages = get_json(&app, url.clone()).await["data"]
            .as_array()
            .unwrap()
            .clone();
        let hostile: Vec<&Value> = messages
            .iter()
            .filter(|m| m["sender_id"] == HOSTILE)
            .collect();
        let urls = hostile
            .iter()
            .flat_map(|m| m["attachments"].as_array().unwrap())
            .filter(|a| a["url"] == SCRIPT_URL)
            .count();
        let conversations = get_json(&app, format!("{}api/meta/conversations", app.url)).await;
        let named =
            conversations["data"].as_array().unwrap().iter().any(|c| {
                c["participant_id"] == HOSTILE && c["participant"]["name"] == HOSTILE_NAME
            });
        if hostile.len() == HOSTILE_TEXTS.len() + HOSTILE_ATTACHMENTS.len()
            && urls == HOSTILE_ATTACHMENTS.len()
            && named
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the hostile messages were not stored: {hostile:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    open_signed_in(&browser, &app).await;
    let row = format!("[data-testid=conversation][data-participant-id=\"{HOSTILE}\"]");
    browser
        .wait_until(
            "the hostile conversation is listed under its name, as text",
            &format!(
                "document.querySelector('{row} [data-testid=conversation-name]')?.textContent === {HOSTILE_NAME:?}"
            ),
            Duration::from_secs(5),
        )
        .await;
    // An image that fails runs its onerror a little later: give it the time.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(browser.eval(NOTHING_RAN).await, true, "the list");

    browser.click(&row).await;
    let bubbles = HOSTILE_TEXTS.len() + HOSTILE_ATTACHMENTS.len();
    browser
        .wait_until(
            "the hostile thread is open",
            &format!("document.querySelectorAll('[data-testid=thread] [data-testid=message]').length === {bubbles}"),
            Duration::from_secs(5),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(browser.eval(NOTHING_RAN).await, true, "the thread");
    assert_eq!(
        browser
            .eval("document.querySelector('[data-testid=thread-name]').textContent")
            .await,
        HOSTILE_NAME
    );
    let texts = browser
        .eval("[...document.querySelectorAll('[data-testid=thread] [data-testid=message-text]')].map(e => e.textContent)")
        .await;
    assert_eq!(texts, json!(HOSTILE_TEXTS), "the texts are shown literally");
    // Every attachment is a card without a link: a script URL is no link or media source.
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('[data-testid=thread] [data-testid=attachment]')].map(e => e.querySelector('.card-missing')?.textContent ?? e.outerHTML)")
            .await,
        json!(vec!["No link available"; HOSTILE_ATTACHMENTS.len()])
    );
    // The reply box quotes a message as text too.
    browser
        .click("[data-testid=thread] [data-testid=message] .reply-button")
        .await;
    assert_eq!(
        browser
            .eval("document.querySelector('.reply-bar-text').textContent")
            .await,
        format!("Replying to “{}”", HOSTILE_TEXTS[0]).as_str()
    );
    assert_eq!(browser.eval(NOTHING_RAN).await, true, "the reply bar");
}

/// Against Meta, the listening address is the app's setting: the connect flow's callback is the
/// inbox route on `BIND` unless `META_OAUTH_REDIRECT_URI` names another.
#[tokio::test]
async fn live_mode_puts_the_oauth_callback_on_bind_unless_one_is_given() {
    let defaults = [
        ("BIND", "127.0.0.1:0"),
        ("META_APP_SECRET", "app-secret"),
        ("META_VERIFY_TOKEN", "verify-token"),
        ("META_STORE", "memory"),
        ("META_APP_ID", "1234567890"),
    ];
    for (given, expected) in [
        (None, "http://127.0.0.1:0/api/meta/oauth/callback"),
        (
            Some("https://inbox.example.com/cb"),
            "https://inbox.example.com/cb",
        ),
    ] {
        let vars: Vec<_> = defaults
            .into_iter()
            .chain(given.map(|uri| ("META_OAUTH_REDIRECT_URI", uri)))
            .collect();
        let app = unified_inbox::start_with(Mode::Live, |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .await
        .expect("the app starts");
        let oauth = app
            .inbox
            .oauth()
            .expect("META_APP_ID turns on the connect flow");
        assert_eq!(oauth.redirect_uri, expected);
    }
}

/// A template the shop sent (through the Graph API, so it arrives by its echo) shows in the
/// thread as its cards and buttons; a postback button shows its payload, a URL button links.
#[tokio::test]
async fn the_page_shows_a_sent_template_with_its_buttons() {
    use meta_messaging_core::graph::{Button, GenericElement, GraphClient, Template};
    use meta_messaging_core::ids::{PageId, Psid};
    use meta_messaging_core::secret::PageAccessToken;

    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = demo().await;
    let emulator = app.emulator().expect("demo mode has an emulator");
    conversations_with_names(&app, 5).await;
    let page = GraphClient::builder()
        .graph_url(emulator.url())
        .build()
        .unwrap()
        .messenger(
            PageId::from(unified_inbox::demo::PAGE),
            PageAccessToken::new(crate::support::emulator::PAGE_TOKEN),
        );
    let card = GenericElement::new("Classic white tee")
        .subtitle("100% cotton")
        .button(Button::postback("Buy", "BUY_TEE"))
        .button(Button::web_url("Details", "https://shop.example.com/tee"));
    page.template(Psid::from(ADA), Template::generic(vec![card]).unwrap())
        .send()
        .await
        .unwrap();
    let url = format!("{}api/meta/messages?limit=200", app.url);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !get_json(&app, url.clone()).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["attachments"].as_array().unwrap())
        .any(|a| a["type"] == "template")
    {
        assert!(
            Instant::now() < deadline,
            "the template's echo was not stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    open_signed_in(&browser, &app).await;
    let row = format!("[data-testid=conversation][data-participant-id=\"{ADA}\"]");
    browser
        .wait_until(
            "Ada's conversation is listed",
            &format!("document.querySelector('{row}') !== null"),
            Duration::from_secs(5),
        )
        .await;
    browser.click(&row).await;
    browser
        .wait_until(
            "the template is in the thread",
            "document.querySelector('[data-testid=thread] [data-testid=template]') !== null",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(
        browser
            .eval("(() => { const t = document.querySelector('[data-testid=thread] [data-testid=template]'); return [t.dataset.templateType, t.querySelector('.template-title').textContent, t.querySelector('.template-subtitle').textContent]; })()")
            .await,
        json!(["generic", "Classic white tee", "100% cotton"])
    );
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('[data-testid=thread] [data-testid=template-button]')].map(b => [b.tagName, b.textContent, b.dataset.payload ?? b.getAttribute('href')])")
            .await,
        json!([["SPAN", "Buy", "BUY_TEE"], ["A", "Details", "https://shop.example.com/tee"]])
    );
}

/// The comment thread in the page: the Comments filter lists the demo's two threads; a comment
/// shows its author; a private reply opens the author's direct conversation (quoting the
/// comment), a second one shows Meta's error and fix; a hidden comment shows hidden; a public
/// reply joins the thread.
#[tokio::test]
async fn the_page_answers_and_moderates_a_comment_thread() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = demo().await;
    conversations_with_names(&app, 5).await;
    open_signed_in(&browser, &app).await;

    browser
        .click("[data-testid=kind-filter] [data-kind=comments]")
        .await;
    let thread = "[data-testid=conversation][data-kind=comments][data-platform=messenger]";
    browser
        .wait_until(
            "only the comment threads are listed",
            &format!("document.querySelector('{thread}') !== null && [...document.querySelectorAll('[data-testid=conversation]')].every(c => c.dataset.kind === 'comments')"),
            Duration::from_secs(10),
        )
        .await;
    browser.click(thread).await;
    let ada_comment = "[data-testid=thread] [data-testid=message][data-direction=inbound]";
    browser
        .wait_until(
            "Ada's comment is in the thread with her name, and no window or owner is shown",
            &format!("(() => {{ const m = document.querySelector('{ada_comment}'); return m !== null && m.querySelector('[data-testid=comment-author]').textContent === 'Ada Lovelace' && m.querySelector('[data-testid=message-text]').textContent === 'Are these waterproof?' && document.querySelector('[data-testid=thread-window]').hidden && document.querySelector('[data-testid=thread-name]').textContent.startsWith('Comments on post'); }})()"),
            Duration::from_secs(10),
        )
        .await;

    // A private reply: a DM to Ada, in her direct conversation.
    let composer = browser
        .find("[data-testid=send-form] textarea[name=text]")
        .await;
    browser
        .click(&format!("{ada_comment} [data-testid=reply-privately]"))
        .await;
    composer.send_keys("We sent you the details").await.unwrap();
    browser.click("[data-testid=send-button]").await;
    browser
        .wait_until(
            "the page says where the private reply went",
            "!document.querySelector('[data-testid=notice-banner]').hidden && document.querySelector('[data-testid=notice-banner]').textContent.includes('Private reply sent to Ada Lovelace')",
            Duration::from_secs(10),
        )
        .await;
    let messages = get_json(&app, format!("{}api/meta/messages?limit=200", app.url)).await;
    let private = messages["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"] == "We sent you the details")
        .unwrap_or_else(|| panic!("the private reply is not stored: {messages}"));
    assert_eq!(private["reply_to"]["type"], "comment", "{private}");
    assert_eq!(private["recipient_id"], ADA, "{private}");

    // A second private reply to the same comment: Meta's error and its fix.
    browser
        .click(&format!("{ada_comment} [data-testid=reply-privately]"))
        .await;
    composer.send_keys("Did you get it?").await.unwrap();
    browser.click("[data-testid=send-button]").await;
    browser
        .wait_until(
            "Meta's refusal of a second private reply is shown with its fix",
            "!document.querySelector('[data-testid=send-error]').hidden && document.querySelector('[data-testid=send-error-meta]').textContent.includes('code 10900') && document.querySelector('[data-testid=send-error-fix]').textContent.length > 0",
            Duration::from_secs(10),
        )
        .await;

    // Hide it.
    browser
        .click(&format!("{ada_comment} [data-testid=hide-comment]"))
        .await;
    browser
        .wait_until(
            "the comment shows hidden",
            "(() => { const m = document.querySelector('[data-testid=thread] [data-testid=message][data-direction=inbound]'); return m.dataset.hidden === 'true' && m.querySelector('[data-testid=comment-hidden]') !== null && m.querySelector('[data-testid=unhide-comment]') !== null; })()",
            Duration::from_secs(10),
        )
        .await;

    // A public reply joins the thread.
    browser.click(&format!("{ada_comment} .reply-button")).await;
    composer.clear().await.unwrap();
    composer.send_keys("Yes, fully waterproof").await.unwrap();
    browser.click("[data-testid=send-button]").await;
    browser
        .wait_until(
            "the public reply is in the thread, quoting the comment",
            "[...document.querySelectorAll('[data-testid=thread] [data-testid=message][data-direction=outbound]')].some(m => m.querySelector('[data-testid=message-text]')?.textContent === 'Yes, fully waterproof' && m.querySelector('[data-testid=reply-quote]')?.textContent === 'Are these waterproof?')",
            Duration::from_secs(10),
        )
        .await;

    // Ada's direct conversation quotes the comment her private reply answered.
    browser
        .click("[data-testid=kind-filter] [data-kind=direct]")
        .await;
    let dm = format!("[data-testid=conversation][data-kind=direct][data-participant-id=\"{ADA}\"]");
    browser
        .wait_until(
            "Ada's direct conversation is listed",
            &format!("document.querySelector('{dm}') !== null"),
            Duration::from_secs(10),
        )
        .await;
    browser.click(&dm).await;
    browser
        .wait_until(
            "the private reply quotes the comment",
            "[...document.querySelectorAll('[data-testid=thread] [data-testid=message][data-direction=outbound]')].some(m => m.querySelector('[data-testid=private-reply-quote]') !== null && m.querySelector('[data-testid=message-text]').textContent === 'We sent you the details')",
            Duration::from_secs(10),
        )
        .await;
}

/// The demo's accounts were connected with earlier conversations: the accounts panel says what
/// their history backfill imported, and what each account received: the last event per kind,
/// the events not understood and those kept out of the inbox, by reason.
#[tokio::test]
async fn the_accounts_panel_shows_the_history_backfill_and_what_arrived() {
    use meta_messaging_core::store::{DeliveryTally, Tallied, UnroutedEvent, UnroutedReason};

    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = demo().await;
    conversations_with_names(&app, 5).await;
    // What the emulator cannot send: events this version does not understand, and events no
    // tenant received. They go into the store as the inbox would have put them.
    let store = app.inbox.store();
    let page = unified_inbox::demo::PAGE;
    let now = crate::support::emulator::now_ms();
    let days_ago = now - 3 * 86_400_000;
    store
        .record_deliveries(&[
            DeliveryTally::new(
                Platform::Messenger,
                page,
                Tallied::Kind("unknown".into()),
                2,
                days_ago,
            ),
            DeliveryTally::new(
                Platform::Messenger,
                page,
                Tallied::UnknownReason("unknown messaging field \"game_play\"".into()),
                2,
                days_ago,
            ),
        ])
        .await
        .unwrap();
    let instagram = unified_inbox::demo::INSTAGRAM_ACCOUNT;
    let stray = json!({"object": "instagram", "entry": [{"id": instagram, "time": now,
        "messaging": [{"sender": {"id": LATE}, "recipient": {"id": instagram}, "timestamp": now,
            "message": {"mid": "m-while-disconnected", "text": "anyone?"}}]}]});
    let kept: Vec<UnroutedEvent> =
        meta_messaging_core::webhook::parse(stray.to_string().as_bytes())
            .unwrap()
            .into_iter()
            .map(|event| UnroutedEvent::new(event, UnroutedReason::Disconnected))
            .collect();
    store.record_unrouted(&kept).await.unwrap();

    open_signed_in(&browser, &app).await;
    browser
        .wait_until(
            "the Messenger account's history was imported",
            "(() => { const b = document.querySelector('[data-testid=account][data-platform=messenger] [data-testid=backfill]'); return b !== null && b.dataset.state === 'done' && /^History imported: [1-9]\\d* messages? from [1-9]\\d* conversations?$/.test(b.querySelector('[data-testid=backfill-text]').textContent); })()",
            Duration::from_secs(15),
        )
        .await;
    browser
        .wait_until(
            "the Messenger account shows its last delivery per kind, the oldest last, and its unknown events by reason",
            "(() => { const a = document.querySelector('[data-testid=account][data-platform=messenger]'); const kinds = [...a.querySelectorAll('[data-testid=deliveries] [data-testid=delivery]')]; const unknown = [...a.querySelectorAll('[data-testid=unknown-events] [data-testid=unknown-event]')]; const message = kinds.find(k => k.dataset.kind === 'message'); return message !== undefined && /^message \\S/.test(message.textContent) && kinds[kinds.length - 1].dataset.kind === 'unknown' && /^unknown .*3 days ago$/.test(kinds[kinds.length - 1].textContent) && unknown.length === 1 && /^2 × unknown messaging field \"game_play\" \\(3 days ago\\)$/.test(unknown[0].textContent) && a.querySelector('[data-testid=unrouted]') === null; })()",
            Duration::from_secs(10),
        )
        .await;
    browser
        .wait_until(
            "the Instagram account shows the event kept out of the inbox while it was disconnected",
            "(() => { const r = document.querySelectorAll('[data-testid=account][data-platform=instagram] [data-testid=unrouted] [data-testid=unrouted-reason]'); return r.length === 1 && r[0].dataset.reason === 'disconnected' && r[0].textContent.startsWith('1 × while disconnected ('); })()",
            Duration::from_secs(10),
        )
        .await;
}

/// The demo keeps the customers' attachments: Alan's picture is downloaded and its kept copy
/// is served (with the API token only) with the same bytes. It is an SVG, which a browser would
/// run: the copy is served to download, not as an image, and the page falls back to the
/// original to show it.
#[tokio::test]
async fn the_demo_keeps_attachments_and_the_page_shows_the_kept_copy() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = demo().await;
    let url = format!("{}api/meta/messages?limit=200", app.url);
    let deadline = Instant::now() + Duration::from_secs(15);
    let picture = loop {
        let messages = get_json(&app, url.clone()).await;
        let kept = messages["data"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|m| m["attachments"].as_array().unwrap())
            .find(|a| a["type"] == "image" && a["stored"] == true)
            .cloned();
        if let Some(kept) = kept {
            break kept;
        }
        assert!(Instant::now() < deadline, "no picture was kept: {messages}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let media_url = picture["media_url"].as_str().unwrap().to_owned();
    assert!(media_url.starts_with("/api/meta/media/"), "{picture}");
    assert_eq!(picture["mime"], "image/svg+xml", "{picture}");
    let original_url = picture["url"].as_str().unwrap().to_owned();
    let original = crate::support::http::get(&original_url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let kept_url = format!("{}{}", app.url, media_url.trim_start_matches('/'));
    let kept = crate::support::http::client()
        .get(&kept_url)
        .bearer_auth(api_token(&app))
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), 200);
    let headers = kept.headers().clone();
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["content-disposition"], "attachment");
    assert_eq!(kept.bytes().await.unwrap(), original);
    let anonymous = crate::support::http::get(&kept_url).await.unwrap();
    assert_eq!(anonymous.status(), 401, "the kept copy needs the token");

    open_signed_in(&browser, &app).await;
    let alan = "[data-testid=conversation][data-participant-id=\"6758492015643288\"]";
    browser
        .wait_until(
            "Alan's conversation is listed",
            &format!("document.querySelector('{alan}') !== null"),
            Duration::from_secs(10),
        )
        .await;
    browser.click(alan).await;
    browser
        .wait_until(
            "the thread shows the picture from the original, the kept copy being download-only",
            &format!("[...document.querySelectorAll('[data-testid=thread] img')].some(i => i.getAttribute('src') === {original_url:?} && i.complete && i.naturalWidth > 0)"),
            Duration::from_secs(10),
        )
        .await;
}

/// A 1x1 PNG: a picture the browser can show.
const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xfc, 0xcf, 0xc0, 0x50,
    0x0f, 0x00, 0x04, 0x85, 0x01, 0x80, 0x84, 0xa9, 0x8c, 0x21, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Files from the page: one dropped on the thread is attached; one picked with the file button
/// is uploaded (with progress) and shows in the thread from the kept copy; one Instagram does
/// not take is refused with the fix, before anything reaches Meta.
#[tokio::test]
async fn the_page_sends_a_file_and_shows_it_in_the_thread() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = demo().await;
    let emulator = app.emulator().expect("demo mode has an emulator");
    conversations_with_names(&app, 6).await;
    let files = tempfile::tempdir().unwrap();
    let picture = files.path().join("pixel.png");
    std::fs::write(&picture, PIXEL_PNG).unwrap();
    let webp = files.path().join("photo.webp");
    std::fs::write(&webp, b"RIFF\x00\x00\x00\x00WEBPVP8 ").unwrap();

    open_signed_in(&browser, &app).await;
    let ada = format!("[data-testid=conversation][data-participant-id=\"{ADA}\"]");
    browser
        .wait_until(
            "Ada's conversation is listed",
            &format!("document.querySelector('{ada}') !== null"),
            Duration::from_secs(10),
        )
        .await;
    // Clicked from the page's own script: the list re-renders on every live event, which can
    // make an element WebDriver found stale before its click lands.
    browser
        .eval(&format!("document.querySelector('{ada}').click()"))
        .await;
    browser
        .wait_until(
            "Ada's thread is open",
            "document.querySelectorAll('[data-testid=thread] [data-testid=message]').length >= 1",
            Duration::from_secs(5),
        )
        .await;

    // Dropping a file on the thread attaches it; the chip's ✕ takes it off again.
    browser
        .eval("(() => { const t = new DataTransfer(); t.items.add(new File(['hello'], 'notes.txt', { type: 'text/plain' })); document.querySelector('.thread-pane').dispatchEvent(new DragEvent('drop', { dataTransfer: t, bubbles: true, cancelable: true })); return true; })()")
        .await;
    browser
        .wait_until(
            "the dropped file is attached",
            "!document.querySelector('[data-testid=file-chip]').hidden && document.querySelector('[data-testid=file-chip-name]').textContent.startsWith('notes.txt')",
            Duration::from_secs(2),
        )
        .await;
    browser.click("[data-testid=file-chip] .file-remove").await;
    assert_eq!(
        browser
            .eval("document.querySelector('[data-testid=file-chip]').hidden")
            .await,
        true
    );

    // Upload progress is reported while the picked file goes up.
    browser
        .eval("(() => { window.__progress = []; const send = XMLHttpRequest.prototype.send; XMLHttpRequest.prototype.send = function (body) { this.upload.addEventListener('progress', (e) => window.__progress.push([e.loaded, e.total])); return send.call(this, body); }; return true; })()")
        .await;
    browser
        .find("[data-testid=file-input]")
        .await
        .send_keys(picture.to_str().unwrap())
        .await
        .unwrap();
    browser
        .wait_until(
            "the picked file is attached",
            "document.querySelector('[data-testid=file-chip-name]').textContent.startsWith('pixel.png')",
            Duration::from_secs(2),
        )
        .await;
    browser.click("[data-testid=send-button]").await;
    browser
        .wait_until(
            "the picture is in the thread, shown from the kept copy",
            "[...document.querySelectorAll('[data-testid=thread] [data-testid=message][data-direction=outbound] img')].some(i => i.getAttribute('src').includes('/api/meta/media/') && i.complete && i.naturalWidth === 1)",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        browser
            .eval("window.__progress.length > 0 && window.__progress.at(-1)[0] === window.__progress.at(-1)[1]")
            .await,
        true,
        "progress: {}",
        browser.eval("JSON.stringify(window.__progress)").await
    );
    assert_eq!(
        browser
            .eval("document.querySelector('[data-testid=file-chip]').hidden && document.querySelector('[data-testid=upload-progress]').hidden")
            .await,
        true
    );
    let sent = emulator.sent_messages();
    let last = sent.last().unwrap();
    assert_eq!(last.recipient_id, ADA);
    assert_eq!(
        last.message["attachment"]["type"], "image",
        "{:?}",
        last.message
    );
    let sent_count = sent.len();

    // Grace writes on Instagram, which takes no WebP: the page shows why, and what to do.
    emulator
        .user_writes(GRACE, Inbound::text("Here is a photo of mine"))
        .await
        .unwrap();
    let grace = format!("[data-testid=conversation][data-participant-id=\"{GRACE}\"]");
    browser
        .wait_until(
            "Grace's new message is listed",
            &format!("document.querySelector('{grace} [data-testid=conversation-preview]')?.textContent.includes('Here is a photo of mine')"),
            Duration::from_secs(10),
        )
        .await;
    browser
        .eval(&format!("document.querySelector('{grace}').click()"))
        .await;
    browser
        .wait_until(
            "Grace's thread is open",
            "document.querySelector('[data-testid=thread-name]').textContent.includes('Grace') && document.querySelectorAll('[data-testid=thread] [data-testid=message]').length >= 1",
            Duration::from_secs(5),
        )
        .await;
    browser
        .find("[data-testid=file-input]")
        .await
        .send_keys(webp.to_str().unwrap())
        .await
        .unwrap();
    browser.click("[data-testid=send-button]").await;
    browser
        .wait_until(
            "the refusal and its fix are shown",
            "!document.querySelector('[data-testid=send-error]').hidden && document.querySelector('[data-testid=send-error-message]').textContent.includes('PNG, JPEG or GIF') && document.querySelector('[data-testid=send-error-fix]').textContent.includes('convert')",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(
        emulator.sent_messages().len(),
        sent_count,
        "nothing reached Meta"
    );
}
