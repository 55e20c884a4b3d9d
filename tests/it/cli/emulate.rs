//! `meta-messaging emulate` in-process: a world file, a callback, then `send` against it.

use std::time::Duration;

use clap::Parser;
use meta_messaging_cli::{Cli, Io};
use meta_messaging_core::webhook::EventKind;
use serde_json::json;

use crate::support::emulator::*;

/// A port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_until_up(base: &str) {
    for _ in 0..100 {
        if crate::support::http::get(format!("{base}/_emulator/messages"))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the emulator did not start at {base}");
}

#[tokio::test]
async fn emulate_serves_a_world_file_and_delivers_to_the_callback() {
    let mut receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.json");
    std::fs::write(
        &world,
        json!({
            "app": {"id": APP_ID, "secret": "overridden-below"},
            "pages": [{"id": PAGE_ID, "name": "Acme Shoes", "token": PAGE_TOKEN, "permissions": ["pages_messaging"]}],
            "users": [{"id": PSID, "platform": "messenger", "page": PAGE_ID}]
        })
        .to_string(),
    )
    .unwrap();
    let port = free_port().to_string();
    let cli = Cli::try_parse_from([
        "meta-messaging",
        "emulate",
        "--port",
        &port,
        "--world",
        world.to_str().unwrap(),
        "--callback",
        &receiver.url,
        "--app-secret",
        APP_SECRET,
    ])
    .unwrap();
    let server = tokio::spawn(async move {
        let mut io = Io {
            stdin: Box::new(std::io::empty()),
            stdout: Box::new(std::io::sink()),
            stderr: Box::new(std::io::sink()),
        };
        meta_messaging_cli::run(cli, &mut io).await
    });
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&base).await;

    let wrote = crate::support::http::client()
        .post(format!("{base}/_emulator/users/{PSID}/messages"))
        .json(&json!({"text": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrote.status(), 200);
    assert_eq!(receiver.next().await[0].kind(), EventKind::Message);

    let out = crate::support::cli::run(
        &[
            "send",
            "--token",
            PAGE_TOKEN,
            "--page-id",
            PAGE_ID,
            "--to",
            PSID,
            "--text",
            "hi there",
            "--graph-url",
            &base,
        ],
        b"",
    )
    .await;
    assert!(out.succeeded(), "{}{}", out.stdout, out.stderr);
    let echo = receiver.next().await;
    assert_eq!(echo[0].kind(), EventKind::Echo);
    assert!(
        out.stdout.contains(echo[0].message_id().unwrap().as_str()),
        "{}",
        out.stdout
    );

    server.abort();
}

#[tokio::test]
async fn emulate_refuses_a_broken_world_file() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.json");
    std::fs::write(&world, r#"{"pages": []}"#).unwrap();
    let out = crate::support::cli::run(&["emulate", "--world", world.to_str().unwrap()], b"").await;
    assert!(!out.succeeded());
    assert!(out.stderr.contains("is not a world file"), "{}", out.stderr);
}

#[tokio::test]
async fn trigger_drives_a_running_emulator() {
    let mut receiver = Receiver::start().await;
    let (emulator, _client) = start(Some(&receiver)).await;
    let url = emulator.url();
    let trigger = |args: &[&str]| {
        let mut full = vec!["trigger".to_owned(), "--emulator".to_owned(), url.clone()];
        full.extend(args.iter().map(|a| (*a).to_owned()));
        async move {
            let full: Vec<&str> = full.iter().map(String::as_str).collect();
            crate::support::cli::run(&full, b"").await
        }
    };

    let wrote = trigger(&["message", "--user", PSID, "--text", "from the CLI"]).await;
    assert!(wrote.succeeded(), "{}", wrote.stderr);
    let events = receiver.next().await;
    let mid = events[0].message_id().unwrap().as_str().to_owned();
    assert!(wrote.stdout.contains(&mid), "{}", wrote.stdout);

    let reacted = trigger(&["react", "--user", PSID, "--mid", &mid]).await;
    assert!(reacted.succeeded(), "{}", reacted.stderr);
    assert_eq!(receiver.next().await[0].kind(), EventKind::Reaction);

    let late = trigger(&[
        "message",
        "--user",
        PSID,
        "--attachment",
        "image=https://example.com/a.jpg",
        "--hours-ago",
        "30",
    ])
    .await;
    assert!(late.succeeded(), "{}", late.stderr);
    let events = receiver.next().await;
    assert!(events[0].timestamp_ms < now_ms() - 29 * 3_600_000);

    let expired = trigger(&["expire-token", PAGE_TOKEN]).await;
    assert!(expired.succeeded(), "{}", expired.stderr);
    let added = trigger(&[
        "add-user",
        "--id",
        "42",
        "--platform",
        "instagram",
        "--page",
        PAGE_ID,
        "--name",
        "Grace Hopper",
    ])
    .await;
    assert!(added.succeeded(), "{}", added.stderr);
    let revoked = trigger(&["permissions", "--page", PAGE_ID, "pages_messaging"]).await;
    assert!(revoked.succeeded(), "{}", revoked.stderr);
    let moved = trigger(&["callback", "--none"]).await;
    assert!(moved.succeeded(), "{}", moved.stderr);

    // Refusals name the problem and exit 1.
    let unknown = trigger(&["message", "--user", "404", "--text", "x"]).await;
    assert!(!unknown.succeeded());
    assert!(
        unknown.stderr.contains("refused (404)") && unknown.stderr.contains("no user \"404\""),
        "{}",
        unknown.stderr
    );
    let unsend = trigger(&["unsend", "--user", PSID, "--mid", "m_1"]).await;
    assert!(!unsend.succeeded());
    assert!(unsend.stderr.contains("Messenger"), "{}", unsend.stderr);
}

#[tokio::test]
async fn trigger_comment_posts_comments_and_replies() {
    let mut receiver = Receiver::start().await;
    let (emulator, _client) = start(Some(&receiver)).await;
    let url = emulator.url();
    let trigger = |args: &[&str]| {
        let mut full = vec!["trigger".to_owned(), "--emulator".to_owned(), url.clone()];
        full.extend(args.iter().map(|a| (*a).to_owned()));
        async move {
            let full: Vec<&str> = full.iter().map(String::as_str).collect();
            crate::support::cli::run(&full, b"").await
        }
    };

    let old = trigger(&[
        "comment",
        "--user",
        IGSID,
        "--text",
        "Still available?",
        "--days-ago",
        "8",
    ])
    .await;
    assert!(old.succeeded(), "{}", old.stderr);
    let answer: serde_json::Value = serde_json::from_str(old.stdout.trim()).unwrap();
    let comment = answer["comment_id"].as_str().unwrap().to_owned();
    let media = answer["post_id"].as_str().unwrap().to_owned();
    let delivery = receiver.next().await;
    assert_eq!(delivery[0].kind(), EventKind::Comment);
    let stored: serde_json::Value = crate::support::http::get(format!("{url}/_emulator/comments"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created = stored["data"][0]["created_time"].as_i64().unwrap();
    assert!(
        (now_ms() - 8 * 86_400_000 - created).abs() < 60_000,
        "{created}"
    );

    let reply = trigger(&[
        "comment",
        "--user",
        IGSID,
        "--text",
        "Hello?",
        "--media",
        &media,
        "--reply-to",
        &comment,
    ])
    .await;
    assert!(reply.succeeded(), "{}", reply.stderr);
    let delivery = receiver.next().await;
    let meta_messaging_core::webhook::EventDetails::Comment(parsed) = &delivery[0].details else {
        panic!("not a comment: {:?}", delivery[0].details);
    };
    assert_eq!(
        parsed.parent_id.as_ref().map(|id| id.as_str()),
        Some(comment.as_str())
    );
    assert!(
        reply.stdout.contains(parsed.comment_id.as_str()),
        "{}",
        reply.stdout
    );

    let unknown = trigger(&["comment", "--user", IGSID, "--text", "x", "--reply-to", "1"]).await;
    assert!(!unknown.succeeded());
    assert!(
        unknown.stderr.contains("refused (400)") && unknown.stderr.contains("no comment \"1\""),
        "{}",
        unknown.stderr
    );
    let missing =
        Cli::try_parse_from(["meta-messaging", "trigger", "comment", "--user", IGSID]).unwrap_err();
    assert!(missing.to_string().contains("--text"), "{missing}");
}

#[tokio::test]
async fn trigger_names_an_unreachable_emulator_without_the_token() {
    let port = free_port().to_string();
    let url = format!("http://127.0.0.1:{port}");
    let out = crate::support::cli::run(
        &[
            "trigger",
            "--emulator",
            &url,
            "expire-token",
            "EAAG-secret-token-123",
        ],
        b"",
    )
    .await;
    assert!(!out.succeeded());
    assert!(out.stderr.contains(&url), "{}", out.stderr);
    assert!(
        !out.stderr.contains("EAAG-secret-token-123"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn emulate_can_require_the_app_secret_proof() {
    let port = free_port().to_string();
    let cli = Cli::try_parse_from([
        "meta-messaging",
        "emulate",
        "--port",
        &port,
        "--require-appsecret-proof",
    ])
    .unwrap();
    let server = tokio::spawn(async move {
        let mut io = Io {
            stdin: Box::new(std::io::empty()),
            stdout: Box::new(std::io::sink()),
            stderr: Box::new(std::io::sink()),
        };
        meta_messaging_cli::run(cli, &mut io).await
    });
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&base).await;

    let http = crate::support::http::client();
    let me = format!("{base}/v23.0/me");
    let refused = http.get(&me).bearer_auth(PAGE_TOKEN).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], 100, "{body}");
    assert_eq!(
        body["error"]["message"],
        "API calls from the server require an appsecret_proof argument"
    );
    // `printf %s EAAG-emulator-page-token | openssl dgst -sha256 -hmac emulator-app-secret`
    let proved = http
        .get(&me)
        .bearer_auth(PAGE_TOKEN)
        .query(&[(
            "appsecret_proof",
            "9f5c9497e6f93149abe29eda5300e60120229ef6a524e96a96e7b12e1aad27ff",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(proved.status(), 200);

    server.abort();
}
