//! `meta-messaging backfill` against the emulator: an account's earlier conversations are
//! imported into a SQLite store once; a second run imports nothing new.

use clap::Parser;
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::store::{MessageQuery, MessageStore, SqliteStore};
use meta_messaging_emulator::World;
use serde_json::Value;

use crate::support::emulator::*;

#[tokio::test]
async fn backfill_imports_the_history_once() {
    let (emulator, _client) = start_world(World::demo().demo_history()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    let store = format!("sqlite://{}", path.display());
    let args = [
        "backfill",
        "--token",
        PAGE_TOKEN,
        "--page-id",
        PAGE_ID,
        "--store",
        &store,
        "--tenant",
        "acme",
        "--app-secret",
        APP_SECRET,
        "--graph-url",
        &emulator.url(),
    ];
    let first = crate::support::cli::run(&args, b"").await;
    assert!(first.succeeded(), "{}{}", first.stdout, first.stderr);
    let progress: Value = serde_json::from_str(first.stdout.trim()).unwrap();
    assert_eq!(progress["state"], "done", "{progress}");
    assert_eq!(progress["messages"], 3, "{progress}");
    assert_eq!(progress["account_id"], PAGE_ID);

    let again = crate::support::cli::run(&args, b"").await;
    assert!(again.succeeded(), "{}{}", again.stdout, again.stderr);
    let progress: Value = serde_json::from_str(again.stdout.trim()).unwrap();
    assert_eq!(
        progress["messages"], 0,
        "nothing is imported twice: {progress}"
    );

    let store = SqliteStore::open(&path).await.unwrap();
    let messages = store
        .list_messages(&TenantId::new("acme"), &MessageQuery::new())
        .await
        .unwrap();
    assert_eq!(messages.data.len(), 3);
    assert!(
        messages
            .data
            .iter()
            .any(|m| m.direction.as_str() == "outbound")
    );
}

#[tokio::test]
async fn backfill_of_an_instagram_account_needs_its_id() {
    let refused = meta_messaging_cli::Cli::try_parse_from([
        "meta-messaging",
        "backfill",
        "--token",
        PAGE_TOKEN,
        "--page-id",
        PAGE_ID,
        "--platform",
        "instagram",
        "--store",
        "sqlite:///tmp/x.db",
        "--app-secret",
        APP_SECRET,
    ])
    .expect_err("an Instagram backfill without the account id")
    .to_string();
    assert!(refused.contains("--instagram-account-id"), "{refused}");
}
