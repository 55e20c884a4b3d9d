//! `meta-messaging token-key`: generate a key, re-seal a store's tokens after a rotation.

use meta_messaging_core::ids::{AccountId, TenantId};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::PageAccessToken;
use meta_messaging_core::store::{
    AccountToken, MessageStore, NewAccount, SqliteOptions, SqliteStore, TokenKeyring, TokenSealer,
};

use crate::support::cli::run;

const PAGE: &str = "104417552380421";

async fn sqlite(path: &std::path::Path, keys: &str) -> SqliteStore {
    let keys: TokenKeyring = keys.parse().expect("valid keys");
    SqliteStore::open_with(SqliteOptions::new(path).token_sealer(keys))
        .await
        .expect("open")
}

async fn scheme_of(store: &SqliteStore) -> String {
    store
        .get_account(
            &TenantId::new("acme"),
            Platform::Messenger,
            &AccountId::new(PAGE),
        )
        .await
        .expect("get")
        .expect("exists")
        .token
        .expect("token")
        .scheme()
        .expect("sealed")
        .to_owned()
}

#[tokio::test]
async fn generate_prints_a_fresh_base64_key() {
    let first = run(&["token-key", "generate"], b"").await;
    assert!(first.succeeded(), "stderr: {}", first.stderr);
    let key = first.stdout.trim();
    assert_eq!(key.len(), 44, "base64 of 32 bytes: {key}");
    let keys: TokenKeyring = key.parse().expect("the output is a valid META_TOKEN_KEY");
    assert_eq!(keys.key_ids().count(), 1);
    let second = run(&["token-key", "generate"], b"").await;
    assert_ne!(second.stdout.trim(), key, "random each time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reseal_rewrites_every_token_under_the_first_key() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("inbox.db");
    let (old, new) = (TokenKeyring::generate_key(), TokenKeyring::generate_key());
    {
        let store = sqlite(&path, &old).await;
        store
            .upsert_account(
                &TenantId::new("acme"),
                &NewAccount::new(Platform::Messenger, PAGE).with_token(
                    AccountToken::Page(PageAccessToken::new("EAAB-cli-token")),
                    None,
                ),
            )
            .await
            .expect("save");
    }
    let url = format!("sqlite://{}", path.display());

    // Without the old key the token does not open: nothing is rewritten, and the error says
    // which key is missing.
    let old_id = old
        .parse::<TokenKeyring>()
        .expect("old")
        .current_key_id()
        .to_owned();
    let refused = run(
        &["token-key", "reseal", "--store", &url, "--keys", &new],
        b"",
    )
    .await;
    assert!(!refused.succeeded());
    assert!(refused.stderr.contains(&old_id), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("META_TOKEN_KEY"),
        "{}",
        refused.stderr
    );

    let rotating = format!("{new},{old}");
    let out = run(
        &["token-key", "reseal", "--store", &url, "--keys", &rotating],
        b"",
    )
    .await;
    assert!(out.succeeded(), "stderr: {}", out.stderr);
    let new_keys: TokenKeyring = new.parse().expect("new");
    assert_eq!(
        out.stdout.trim(),
        format!(
            "re-sealed 1 account token under key {}",
            new_keys.current_key_id()
        )
    );

    let store = sqlite(&path, &new).await;
    assert_eq!(scheme_of(&store).await, new_keys.scheme());
    let token = store
        .get_account(
            &TenantId::new("acme"),
            Platform::Messenger,
            &AccountId::new(PAGE),
        )
        .await
        .expect("get")
        .expect("exists")
        .token
        .expect("token")
        .open()
        .await
        .expect("the new key alone opens it");
    match token {
        AccountToken::Page(t) => assert_eq!(t.expose(), "EAAB-cli-token"),
        other => panic!("a Page token was saved: {other:?}"),
    }
    drop(store);

    let again = run(
        &["token-key", "reseal", "--store", &url, "--keys", &new],
        b"",
    )
    .await;
    assert!(again.succeeded(), "stderr: {}", again.stderr);
    assert!(
        again.stdout.starts_with("re-sealed 0 account tokens"),
        "{}",
        again.stdout
    );
}

#[tokio::test]
async fn reseal_refuses_invalid_keys_and_unknown_stores() {
    let bad = run(
        &[
            "token-key",
            "reseal",
            "--store",
            "sqlite://x.db",
            "--keys",
            "short",
        ],
        b"",
    )
    .await;
    assert!(!bad.succeeded());
    assert!(bad.stderr.contains("META_TOKEN_KEY"), "{}", bad.stderr);
    assert!(bad.stderr.contains("token-key generate"), "{}", bad.stderr);

    let key = TokenKeyring::generate_key();
    let unknown = run(
        &[
            "token-key",
            "reseal",
            "--store",
            "redis://localhost",
            "--keys",
            &key,
        ],
        b"",
    )
    .await;
    assert!(!unknown.succeeded());
    assert!(
        unknown.stderr.contains("sqlite://PATH"),
        "{}",
        unknown.stderr
    );
}

#[tokio::test]
async fn reseal_refuses_a_missing_sqlite_file_and_creates_none() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("typo.db");
    let url = format!("sqlite://{}", path.display());
    let key = TokenKeyring::generate_key();
    let out = run(
        &["token-key", "reseal", "--store", &url, "--keys", &key],
        b"",
    )
    .await;
    assert!(!out.succeeded(), "stdout: {}", out.stdout);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr
            .contains(&format!("no database at {}", path.display())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("META_STORE"), "{}", out.stderr);
    assert!(!path.exists(), "reseal created {}", path.display());
}

#[test]
fn reseal_arguments_never_show_keys_or_the_store_password_in_debug() {
    use clap::Parser;
    let key = TokenKeyring::generate_key();
    let cli = meta_messaging_cli::Cli::try_parse_from([
        "meta-messaging",
        "token-key",
        "reseal",
        "--store",
        "postgres://inbox:db-PASSWORD-7@127.0.0.1:5432/inbox",
        "--keys",
        &key,
    ])
    .expect("valid arguments");
    let shown = format!("{cli:?} {cli:#?}");
    assert!(!shown.contains(&key), "{shown}");
    assert!(!shown.contains("db-PASSWORD-7"), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");
    assert!(shown.contains("127.0.0.1:5432/inbox"), "{shown}");
}
