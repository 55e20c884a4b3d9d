//! `meta-messaging doctor` against the emulator: a healthy Page, then an expired token.

use meta_messaging_core::graph::MESSENGER_WEBHOOK_FIELDS;

use crate::support::emulator::*;

#[tokio::test]
async fn doctor_passes_against_the_emulator_once_webhooks_are_subscribed() {
    let (emulator, client) = start(None).await;
    messenger(&client)
        .subscribe_app(MESSENGER_WEBHOOK_FIELDS)
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
    assert!(out.succeeded(), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Acme Shoes (104417552380421)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("All checks passed."), "{}", out.stdout);
}

#[tokio::test]
async fn doctor_reports_an_expired_token() {
    let (emulator, _client) = start(None).await;
    emulator.expire_token(PAGE_TOKEN).unwrap();
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
    assert!(!out.succeeded(), "{}", out.stdout);
    assert!(
        out.stdout.contains("[FAIL] Access token is valid")
            && out.stdout.contains("kind: token_expired")
            && out.stdout.contains("fix: Reconnect through OAuth"),
        "{}",
        out.stdout
    );
}
