//! `meta-messaging profile get` and `profile apply`: against the strict Graph mock (what is
//! sent, and that a second apply sends nothing) and against the emulator (offline use).

use std::path::PathBuf;

use serde_json::json;
use wiremock::matchers::body_json;

use crate::support::cli::{Outcome, run};
use crate::support::graph_mock::*;

const FIELDS: &str = "get_started,greeting,ice_breakers,persistent_menu";

const PROFILE_TOML: &str = r#"
# Fields listed here are managed; "delete" names fields to remove.
delete = ["greeting"]

[get_started]
payload = "GET_STARTED"

[[ice_breakers]]
locale = "default"

[[ice_breakers.call_to_actions]]
question = "Where is my order?"
payload = "ORDER"
"#;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn apply(graph_url: &str, token: &str, file: &std::path::Path, extra: &[&str]) -> Outcome {
    let file = file.to_str().unwrap();
    let mut args = vec![
        "profile",
        "apply",
        file,
        "--token",
        token,
        "--page-id",
        PAGE_ID,
        "--graph-url",
        graph_url,
    ];
    args.extend_from_slice(extra);
    run(&args, b"").await
}

fn the_applied_fields() -> serde_json::Value {
    json!({
        "get_started": {"payload": "GET_STARTED"},
        "ice_breakers": [{"call_to_actions": [{"question": "Where is my order?", "payload": "ORDER"}], "locale": "default"}],
    })
}

#[tokio::test]
async fn apply_twice_changes_nothing_the_second_time() {
    let mock = GraphMock::start().await;
    let menu = json!([{"locale": "default", "composer_input_disabled": false,
        "call_to_actions": [{"type": "postback", "title": "Help", "payload": "HELP"}]}]);
    // Before: a greeting (to delete) and a menu (not in the file: left alone).
    graph_call("GET", &format!("{PAGE_ID}/messenger_profile"), PAGE_TOKEN)
        .and(QueryIs::exactly(&[("fields", FIELDS)]))
        .respond_with(json(
            200,
            json!({"data": [{"greeting": [{"locale": "default", "text": "Old"}], "persistent_menu": menu}]}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&mock.server)
        .await;
    // After the first apply.
    let mut after = the_applied_fields();
    after["persistent_menu"] = menu.clone();
    graph_call("GET", &format!("{PAGE_ID}/messenger_profile"), PAGE_TOKEN)
        .and(QueryIs::exactly(&[("fields", FIELDS)]))
        .respond_with(json(200, json!({"data": [after]})))
        .with_priority(2)
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("POST", &format!("{PAGE_ID}/messenger_profile"), PAGE_TOKEN)
        .and(body_json(the_applied_fields()))
        .respond_with(json(200, json!({"result": "success"})))
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call(
        "DELETE",
        &format!("{PAGE_ID}/messenger_profile"),
        PAGE_TOKEN,
    )
    .and(body_json(json!({"fields": ["greeting"]})))
    .respond_with(json(200, json!({"result": "success"})))
    .expect(1)
    .mount(&mock.server)
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "profile.toml", PROFILE_TOML);

    let first = apply(&mock.uri(), PAGE_TOKEN, &file, &[]).await;
    assert!(first.succeeded(), "{}{}", first.stdout, first.stderr);
    assert!(
        first
            .stdout
            .contains(r#"set       get_started = {"payload":"GET_STARTED"}"#),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("set       ice_breakers = "),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("delete    greeting"),
        "{}",
        first.stdout
    );
    assert!(
        !first.stdout.contains("persistent_menu"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("applied: 2 set, 1 deleted"),
        "{}",
        first.stdout
    );
    assert!(!first.stdout.contains(PAGE_TOKEN) && !first.stderr.contains(PAGE_TOKEN));

    let second = apply(&mock.uri(), PAGE_TOKEN, &file, &[]).await;
    assert!(second.succeeded(), "{}{}", second.stdout, second.stderr);
    assert_eq!(
        second.stdout,
        "unchanged get_started\nunchanged greeting\nunchanged ice_breakers\nnothing to change\n"
    );
    // Dropping the mock checks the counts: one POST and one DELETE in all.
}

#[tokio::test]
async fn dry_run_prints_the_diff_and_sends_nothing() {
    let mock = GraphMock::start().await;
    graph_call("GET", &format!("{PAGE_ID}/messenger_profile"), PAGE_TOKEN)
        .and(QueryIs::exactly(&[("fields", FIELDS)]))
        .respond_with(json(200, json!({"data": []})))
        .expect(1)
        .mount(&mock.server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "profile.json",
        &json!({"get_started": {"payload": "GET_STARTED"}, "delete": ["greeting"]}).to_string(),
    );
    let out = apply(&mock.uri(), PAGE_TOKEN, &file, &["--dry-run"]).await;
    assert!(out.succeeded(), "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout,
        "set       get_started = {\"payload\":\"GET_STARTED\"}\nunchanged greeting\ndry run: nothing was changed\n"
    );
}

#[tokio::test]
async fn an_over_limit_file_is_refused_before_any_call() {
    let mock = GraphMock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(31);
    let file = write(
        &dir,
        "menu.toml",
        &format!(
            "[[persistent_menu]]\nlocale = \"default\"\n[[persistent_menu.call_to_actions]]\ntype = \"postback\"\ntitle = \"{long}\"\npayload = \"P\"\n"
        ),
    );
    let out = apply(&mock.uri(), PAGE_TOKEN, &file, &[]).await;
    assert!(!out.succeeded());
    assert!(
        out.stderr
            .contains("persistent_menu[0].call_to_actions[0].title has 31 characters"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn apply_and_get_against_the_emulator() {
    use crate::support::emulator::{PAGE_TOKEN as EMULATOR_TOKEN, start};
    let (emulator, _client) = start(None).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "profile.toml", PROFILE_TOML);
    let first = apply(&emulator.url(), EMULATOR_TOKEN, &file, &[]).await;
    assert!(first.succeeded(), "{}{}", first.stdout, first.stderr);
    assert!(
        first.stdout.contains("applied: 2 set, 0 deleted"),
        "{}",
        first.stdout
    );
    let second = apply(&emulator.url(), EMULATOR_TOKEN, &file, &[]).await;
    assert!(
        second.stdout.contains("nothing to change"),
        "{}",
        second.stdout
    );

    let got = run(
        &[
            "profile",
            "get",
            "--token",
            EMULATOR_TOKEN,
            "--page-id",
            PAGE_ID,
            "--graph-url",
            &emulator.url(),
        ],
        b"",
    )
    .await;
    assert!(got.succeeded(), "{}", got.stderr);
    let printed: serde_json::Value = serde_json::from_str(&got.stdout).unwrap();
    assert_eq!(printed, the_applied_fields());
}
