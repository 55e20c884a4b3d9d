//! Commands that need no network: `inspect`, `sign`, and the argument definitions.

use clap::CommandFactory;
use meta_messaging_cli::Cli;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::webhook;
use serde_json::Value;

use crate::support::cli::run;

const DELIVERY: &str = r#"{"object":"page","entry":[{"id":"104417552380421","time":1700000000000,"messaging":[
 {"sender":{"id":"6758492015643287"},"recipient":{"id":"104417552380421"},"timestamp":1700000000001,"message":{"mid":"m_one","text":"caf\u00e9"}},
 {"sender":{"id":"6758492015643287"},"recipient":{"id":"104417552380421"},"timestamp":1700000000002,"brand_new_event":{"x":1}}]}]}"#;

#[tokio::test]
async fn inspect_prints_one_json_object_per_event_from_stdin() {
    let out = run(&["inspect"], DELIVERY.as_bytes()).await;
    assert!(out.succeeded(), "stderr: {}", out.stderr);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["kind"], "message");
    assert_eq!(lines[0]["platform"], "messenger");
    assert_eq!(lines[0]["account_id"], "104417552380421");
    assert_eq!(lines[0]["message_id"], "m_one");
    assert_eq!(lines[0]["text"], "café");
    assert_eq!(lines[0]["timestamp_ms"], 1_700_000_000_001_i64);
    // The event this version does not know is printed, not dropped.
    assert_eq!(lines[1]["kind"], "unknown");
    assert_eq!(lines[1]["unknown"]["raw"]["brand_new_event"]["x"], 1);
}

#[tokio::test]
async fn inspect_reads_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("delivery.json");
    std::fs::write(&path, DELIVERY).unwrap();
    let out = run(&["inspect", path.to_str().unwrap()], b"").await;
    assert!(out.succeeded(), "stderr: {}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 2);
}

#[tokio::test]
async fn inspect_says_where_malformed_input_broke() {
    let out = run(&["inspect", "-"], b"{\"object\":\"page\",\n\"entry\":[}").await;
    assert!(!out.succeeded());
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains("error: the input is not a webhook delivery"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("line 2, column"), "{}", out.stderr);
}

#[tokio::test]
async fn inspect_reports_a_missing_file() {
    let out = run(&["inspect", "/nonexistent/delivery.json"], b"").await;
    assert!(!out.succeeded());
    assert!(
        out.stderr
            .contains("cannot read /nonexistent/delivery.json"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn inspect_prints_an_unsupported_object_as_an_unknown_event() {
    let out = run(
        &["inspect"],
        br#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[]}]}"#,
    )
    .await;
    assert!(out.succeeded(), "stderr: {}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stdout);
    let event: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(event["kind"], "unknown");
    assert_eq!(event["account_id"], "102290129340398");
    assert_eq!(event["unknown"]["object"], "whatsapp_business_account");
}

#[tokio::test]
async fn sign_matches_the_library_and_signs_bytes_verbatim() {
    let out = run(&["sign", "--secret", "s3cret"], DELIVERY.as_bytes()).await;
    assert!(out.succeeded(), "stderr: {}", out.stderr);
    let expected = webhook::sign(&AppSecret::new("s3cret"), DELIVERY.as_bytes());
    assert_eq!(out.stdout.trim_end(), expected);
    // A trailing newline is part of the body Meta would sign, so the signature changes.
    let with_newline = format!("{DELIVERY}\n");
    let out = run(&["sign", "--secret", "s3cret"], with_newline.as_bytes()).await;
    assert_ne!(out.stdout.trim_end(), expected);
}

#[tokio::test]
async fn sign_uses_the_first_of_several_rotating_app_secrets() {
    // META_APP_SECRET holds "NEW,OLD" while rotating (as InboxConfig reads it); the flag and
    // the variable share one parser, so the flag exercises what the variable gets.
    let expected = webhook::sign(&AppSecret::new("new"), DELIVERY.as_bytes());
    for value in ["new,old", " new , old", ",new,old"] {
        let out = run(&["sign", "--secret", value], DELIVERY.as_bytes()).await;
        assert!(out.succeeded(), "{value:?}: {}", out.stderr);
        assert_eq!(out.stdout.trim_end(), expected, "{value:?}");
    }
    let single = run(&["sign", "--secret", "new"], DELIVERY.as_bytes()).await;
    assert_eq!(single.stdout.trim_end(), expected);
    let empty =
        <Cli as clap::Parser>::try_parse_from(["meta-messaging", "sign", "--secret", " , "]);
    assert!(empty.is_err(), "an empty secret list is refused");
}

#[test]
fn secrets_can_come_from_the_environment_and_stay_hidden_in_help() {
    let cli = Cli::command();
    let expectations = [
        ("sign", "secret", "META_APP_SECRET"),
        ("verify", "secret", "META_APP_SECRET"),
        ("simulate", "secret", "META_APP_SECRET"),
        ("verify-endpoint", "verify_token", "META_VERIFY_TOKEN"),
        ("doctor", "token", "META_PAGE_TOKEN"),
        ("send", "token", "META_PAGE_TOKEN"),
    ];
    for (sub, arg, env) in expectations {
        let sub = cli.find_subcommand(sub).unwrap();
        let arg = sub.get_arguments().find(|a| a.get_id() == arg).unwrap();
        assert_eq!(arg.get_env().and_then(|e| e.to_str()), Some(env));
        assert!(
            arg.is_hide_env_values_set(),
            "{sub} {env} value would be shown"
        );
    }
}

#[test]
fn parsed_arguments_never_show_a_secret_in_debug() {
    use clap::Parser;
    let secret = "s3cret-VALUE-42";
    let command_lines: [&[&str]; 7] = [
        &["sign", "--secret", secret],
        &[
            "simulate",
            "--url",
            "http://127.0.0.1:1/webhook",
            "--secret",
            secret,
        ],
        &[
            "verify-endpoint",
            "--url",
            "http://127.0.0.1:1/webhook",
            "--verify-token",
            secret,
        ],
        &["doctor", "--token", secret],
        &[
            "send",
            "--token",
            secret,
            "--page-id",
            "1",
            "--to",
            "2",
            "--text",
            "hi",
        ],
        &["emulate", "--app-secret", secret],
        &["trigger", "expire-token", secret],
    ];
    for args in command_lines {
        let cli =
            Cli::try_parse_from(std::iter::once("meta-messaging").chain(args.iter().copied()))
                .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let shown = format!("{cli:?} {cli:#?}");
        assert!(
            !shown.contains(secret),
            "{args:?} shows the secret: {shown}"
        );
        assert!(shown.contains("[REDACTED]"), "{shown}");
    }
}

#[test]
fn every_subcommand_has_useful_help() {
    Cli::command().debug_assert();
    for sub in Cli::command().get_subcommands_mut() {
        let help = sub.render_long_help().to_string();
        assert!(
            sub.get_about().is_some(),
            "{} has no description",
            sub.get_name()
        );
        for arg in sub.get_arguments() {
            if arg.get_id() != "help" {
                assert!(
                    arg.get_help().is_some(),
                    "{} --{} has no help",
                    sub.get_name(),
                    arg.get_id()
                );
            }
        }
        assert!(help.contains("Usage:"), "{help}");
    }
}

/// A delivery as Meta sends it: `\uXXXX` for non-ASCII, `\/` for slashes, compact.
const META_BYTES: &str = r#"{"object":"page","entry":[{"id":"104417552380421","time":1700000000000,"messaging":[{"sender":{"id":"6758492015643287"},"recipient":{"id":"104417552380421"},"timestamp":1700000000001,"message":{"mid":"m_one","text":"Cr\u00e8me br\u00fbl\u00e9e \ud83c\udf6e https:\/\/example.com\/menu"}}]}]}"#;

#[tokio::test]
async fn verify_accepts_the_bytes_meta_signed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("captured.json");
    std::fs::write(&path, META_BYTES).unwrap();
    let signature = webhook::sign(&AppSecret::new("s3cret"), META_BYTES.as_bytes());
    let file = path.to_str().unwrap();
    let out = run(
        &[
            "verify",
            "--secret",
            "s3cret",
            "--signature",
            &signature,
            file,
        ],
        b"",
    )
    .await;
    assert!(out.succeeded(), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "valid\n");
}

#[tokio::test]
async fn verify_diagnoses_a_reserialized_body_without_showing_it() {
    let signature = webhook::sign(&AppSecret::new("s3cret"), META_BYTES.as_bytes());
    // What a framework's JSON extractor hands on: the same value, other bytes.
    let value: Value = serde_json::from_str(META_BYTES).unwrap();
    let rewritten = serde_json::to_string(&value).unwrap();
    let out = run(
        &["verify", "--secret", "s3cret", "--signature", &signature],
        rewritten.as_bytes(),
    )
    .await;
    assert!(!out.succeeded());
    assert!(out.stdout.starts_with("invalid: "), "{}", out.stdout);
    assert!(
        out.stdout.contains("X-Hub-Signature-256 present"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("body {} bytes", rewritten.len())),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("body looks re-serialized: raw non-ASCII characters"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("unescaped '/'"), "{}", out.stdout);
    for leaked in ["s3cret", "Cr", "menu", "6758492015643287", &signature[7..]] {
        assert!(!out.stdout.contains(leaked), "{leaked} in {}", out.stdout);
    }
}

#[tokio::test]
async fn verify_tells_a_sha1_only_or_missing_header() {
    let sha1 = format!("sha1={}", "0".repeat(40));
    let out = run(
        &["verify", "--secret", "s3cret", "--signature", &sha1],
        META_BYTES.as_bytes(),
    )
    .await;
    assert!(!out.succeeded());
    assert!(
        out.stdout.contains("only the SHA-1 X-Hub-Signature header"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("body does not look re-serialized"),
        "{}",
        out.stdout
    );

    let out = run(&["verify", "--secret", "s3cret"], META_BYTES.as_bytes()).await;
    assert!(!out.succeeded());
    assert!(out.stdout.contains("no signature header"), "{}", out.stdout);
    let out = run(
        &["verify", "--secret", "s3cret", "--sha1-header"],
        META_BYTES.as_bytes(),
    )
    .await;
    assert!(out.stdout.contains("only the SHA-1"), "{}", out.stdout);
}
