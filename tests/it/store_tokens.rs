//! Account tokens at rest in the SQLite and PostgreSQL stores: sealed with a `TokenKeyring`,
//! opened only when used, re-sealed after a key rotation, never readable in the database.
//!
//! Each case runs on a SQLite file and, when `META_MESSAGING_TEST_POSTGRES_URL` is set, in a
//! fresh PostgreSQL schema (see `store.rs`).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::TryStreamExt;
use meta_messaging_core::ids::{AccountId, TenantId};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{InstagramAccessToken, PageAccessToken};
use meta_messaging_core::store::{
    AccountToken, MessageStore, NewAccount, PLAIN_SCHEME, PlaintextTokens, PostgresOptions,
    PostgresStore, SqliteOptions, SqliteStore, StoreError, TenantEvent, TokenKeyring,
    TokenSealError, TokenSealer,
};
use meta_messaging_core::webhook::{self, DeliveryBuilder};
use sqlx::Connection;

use crate::support::postgres as pg;

const OLD_KEY: [u8; 32] = [0x11; 32];
const NEW_KEY: [u8; 32] = [0x22; 32];
const PAGE: &str = "104417552380421";
const OTHER_PAGE: &str = "104417552380999";
const IG: &str = "17841400000000000";

fn keyring(keys: &[[u8; 32]]) -> TokenKeyring {
    TokenKeyring::new(keys.iter().copied()).expect("at least one key")
}

fn tenant() -> TenantId {
    TenantId::new("acme")
}

fn page_account(id: &str, token: &str) -> NewAccount {
    NewAccount::new(Platform::Messenger, id)
        .with_token(AccountToken::Page(PageAccessToken::new(token)), None)
}

fn token_value(token: &AccountToken) -> &str {
    match token {
        AccountToken::Page(t) => t.expose(),
        AccountToken::Instagram(t) => t.expose(),
        other => panic!("unexpected token kind {other:?}"),
    }
}

/// The database of one case, opened as often as the case likes with different sealers.
enum Db {
    Sqlite(PathBuf),
    Postgres { url: String, schema: String },
}

impl Db {
    async fn open(&self, sealer: impl TokenSealer + 'static) -> Arc<dyn MessageStore> {
        let sealer: Arc<dyn TokenSealer> = Arc::new(sealer);
        match self {
            Db::Sqlite(path) => Arc::new(
                SqliteStore::open_with(SqliteOptions::new(path).token_sealer(sealer))
                    .await
                    .expect("open SQLite"),
            ),
            Db::Postgres { url, schema } => Arc::new(
                PostgresStore::connect_with(
                    PostgresOptions::new(url)
                        .schema(schema)
                        .token_sealer(sealer),
                )
                .await
                .expect("connect PostgreSQL"),
            ),
        }
    }

    /// Runs a statement outside the store, as someone with access to the database would.
    async fn execute(&self, sql: &str) {
        match self {
            Db::Sqlite(path) => {
                let mut conn =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await
                        .expect("connect SQLite");
                sqlx::query(sql).execute(&mut conn).await.expect(sql);
            }
            Db::Postgres { url, schema } => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query(&format!("SET search_path TO \"{schema}\""))
                    .execute(&mut conn)
                    .await
                    .expect("search_path");
                sqlx::query(sql).execute(&mut conn).await.expect(sql);
            }
        }
    }
}

async fn on_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    case(Db::Sqlite(dir.path().join("tokens.db"))).await;
}

async fn on_postgres<F, Fut>(case: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = pg::url() else { return };
    let schema = pg::fresh_schema("mm_tokens");
    let db = Db::Postgres {
        url: url.clone(),
        schema: schema.clone(),
    };
    pg::in_schema(&url, &schema, case(db)).await;
}

macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::on_sqlite(super::$case).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::on_postgres(super::$case).await;
                }
            )*
        }
    };
}

on_both!(
    sealed_tokens_round_trip,
    rotation_opens_old_tokens_and_reseals_them,
    plain_tokens_are_sealed_by_reseal,
    a_token_copied_to_another_account_does_not_open,
    a_wrong_key_fails_only_opening,
);

/// Tokens come back sealed under the keyring's scheme and open to what was saved.
async fn sealed_tokens_round_trip(db: Db) {
    let keys = keyring(&[NEW_KEY]);
    let scheme = keys.scheme().to_owned();
    let store = db.open(keys).await;
    store
        .upsert_account(&tenant(), &page_account(PAGE, "EAAB-page-one"))
        .await
        .expect("save page");
    let ig = NewAccount::new(Platform::Instagram, IG).with_token(
        AccountToken::Instagram(InstagramAccessToken::new("IGAA-user-token")),
        None,
    );
    store.upsert_account(&tenant(), &ig).await.expect("save ig");

    let accounts = store.list_accounts(&tenant()).await.expect("list");
    assert_eq!(accounts.len(), 2);
    for account in &accounts {
        let token = account.token.as_ref().expect("token kept");
        assert!(token.is_sealed());
        assert_eq!(token.scheme(), Some(scheme.as_str()));
        assert!(!format!("{token:?}").contains("EAAB") && !format!("{token:?}").contains("IGAA"));
    }
    let token_of = |platform: Platform| {
        accounts
            .iter()
            .find(|a| a.platform == platform)
            .and_then(|a| a.token.as_ref())
            .expect("token")
    };
    let page = token_of(Platform::Messenger);
    match page.open().await.expect("opens") {
        AccountToken::Page(t) => assert_eq!(t.expose(), "EAAB-page-one"),
        other => panic!("a Page token was saved: {other:?}"),
    }
    let ig = token_of(Platform::Instagram);
    match ig.open().await.expect("opens") {
        AccountToken::Instagram(t) => assert_eq!(t.expose(), "IGAA-user-token"),
        other => panic!("an Instagram token was saved: {other:?}"),
    }
}

/// After a rotation (new key first, old key kept), tokens sealed under the old key open, are
/// re-sealed under the new key when opened, and `reseal_tokens` re-seals the rest; then the old
/// key can go.
async fn rotation_opens_old_tokens_and_reseals_them(db: Db) {
    let old = keyring(&[OLD_KEY]);
    let old_scheme = old.scheme().to_owned();
    {
        let store = db.open(old).await;
        for (id, token) in [(PAGE, "EAAB-first"), (OTHER_PAGE, "EAAB-second")] {
            store
                .upsert_account(&tenant(), &page_account(id, token))
                .await
                .expect("save");
        }
    }
    let rotated = keyring(&[NEW_KEY, OLD_KEY]);
    let new_scheme = rotated.scheme().to_owned();
    assert_ne!(new_scheme, old_scheme);
    let store = db.open(rotated).await;
    let first = AccountId::new(PAGE);
    let get = |id: &'static str| {
        let store = Arc::clone(&store);
        async move {
            store
                .get_account(&tenant(), Platform::Messenger, &AccountId::new(id))
                .await
                .expect("get")
                .expect("exists")
                .token
                .expect("token")
        }
    };
    let token = get(PAGE).await;
    assert_eq!(token.scheme(), Some(old_scheme.as_str()));
    assert_eq!(
        token_value(&token.open().await.expect("the old key opens")),
        "EAAB-first"
    );
    assert_eq!(
        get(PAGE).await.scheme(),
        Some(new_scheme.as_str()),
        "re-sealed under the new key when opened ({first})"
    );
    assert_eq!(get(OTHER_PAGE).await.scheme(), Some(old_scheme.as_str()));

    assert_eq!(store.reseal_tokens().await.expect("reseal"), 1);
    assert_eq!(get(OTHER_PAGE).await.scheme(), Some(new_scheme.as_str()));
    assert_eq!(store.reseal_tokens().await.expect("again"), 0);
    drop(store);

    let store = db.open(keyring(&[NEW_KEY])).await;
    for (id, token) in [(PAGE, "EAAB-first"), (OTHER_PAGE, "EAAB-second")] {
        let account = store
            .get_account(&tenant(), Platform::Messenger, &AccountId::new(id))
            .await
            .expect("get")
            .expect("exists");
        let opened = account
            .token
            .expect("token")
            .open()
            .await
            .expect("the new key alone opens every token");
        assert_eq!(token_value(&opened), token);
    }
}

/// Tokens stored in clear by `PlaintextTokens` open with a keyring and are sealed by
/// `reseal_tokens`.
async fn plain_tokens_are_sealed_by_reseal(db: Db) {
    {
        let store = db.open(PlaintextTokens).await;
        store
            .upsert_account(&tenant(), &page_account(PAGE, "EAAB-was-plain"))
            .await
            .expect("save");
    }
    let keys = keyring(&[NEW_KEY]);
    let scheme = keys.scheme().to_owned();
    let store = db.open(keys).await;
    let before = store.list_accounts(&tenant()).await.expect("list");
    assert_eq!(
        before[0].token.as_ref().and_then(|t| t.scheme()),
        Some(PLAIN_SCHEME)
    );
    assert_eq!(store.reseal_tokens().await.expect("reseal"), 1);
    let after = store.list_accounts(&tenant()).await.expect("list");
    let token = after[0].token.as_ref().expect("token");
    assert_eq!(token.scheme(), Some(scheme.as_str()));
    assert_eq!(
        token_value(&token.open().await.expect("opens")),
        "EAAB-was-plain"
    );
}

/// The account is the associated data: a sealed token copied into another account's row
/// (same key, same tenant) does not open there.
async fn a_token_copied_to_another_account_does_not_open(db: Db) {
    let store = db.open(keyring(&[NEW_KEY])).await;
    store
        .upsert_account(&tenant(), &page_account(PAGE, "EAAB-victim"))
        .await
        .expect("save");
    store
        .upsert_account(&tenant(), &page_account(OTHER_PAGE, "EAAB-attacker"))
        .await
        .expect("save");
    db.execute(&format!(
        "UPDATE accounts SET \
         token_scheme = (SELECT token_scheme FROM accounts WHERE account_id = '{PAGE}'), \
         token_sealed = (SELECT token_sealed FROM accounts WHERE account_id = '{PAGE}') \
         WHERE account_id = '{OTHER_PAGE}'"
    ))
    .await;
    let copied = store
        .get_account(&tenant(), Platform::Messenger, &AccountId::new(OTHER_PAGE))
        .await
        .expect("get")
        .expect("exists")
        .token
        .expect("token");
    let err = copied
        .open()
        .await
        .expect_err("a copied token must not open");
    let StoreError::Token(source) = &err else {
        panic!("expected StoreError::Token, got {err:?}");
    };
    assert!(
        matches!(
            source.downcast_ref::<TokenSealError>(),
            Some(TokenSealError::Rejected { .. })
        ),
        "{source}"
    );
}

/// With a key that is not the one tokens were sealed with, opening a token fails with a typed
/// error naming the missing key, but listing accounts, routing and storing webhook events work.
async fn a_wrong_key_fails_only_opening(db: Db) {
    let sealed_with = keyring(&[OLD_KEY]);
    let old_id = sealed_with.current_key_id().to_owned();
    {
        let store = db.open(sealed_with).await;
        store
            .upsert_account(&tenant(), &page_account(PAGE, "EAAB-sealed"))
            .await
            .expect("save");
    }
    let store = db.open(keyring(&[NEW_KEY])).await;
    let accounts = store.list_accounts(&tenant()).await.expect("listing works");
    assert_eq!(accounts.len(), 1);
    assert!(accounts[0].token.is_some());
    assert_eq!(
        store
            .tenants_for_account(Platform::Messenger, &AccountId::new(PAGE))
            .await
            .expect("routing works"),
        vec![tenant()]
    );
    let body = DeliveryBuilder::new(Platform::Messenger, PAGE)
        .text("6758492015643287", "still stored")
        .build();
    let events: Vec<TenantEvent> = webhook::parse(&body)
        .expect("parse")
        .into_iter()
        .map(|e| TenantEvent::new(tenant(), e))
        .collect();
    assert_eq!(
        store
            .apply(&events)
            .await
            .expect("ingestion works")
            .inserted,
        1
    );

    let err = accounts[0]
        .token
        .as_ref()
        .expect("token")
        .open()
        .await
        .expect_err("the key is missing");
    let StoreError::Token(source) = &err else {
        panic!("expected StoreError::Token, got {err:?}");
    };
    match source.downcast_ref::<TokenSealError>() {
        Some(TokenSealError::UnknownKey { key_id, .. }) => assert_eq!(key_id, &old_id),
        other => panic!("expected UnknownKey, got {other:?} ({source})"),
    }
    assert!(source.to_string().contains("META_TOKEN_KEY"), "{source}");
    // Nothing was half-resealed by the failed open or by a reseal that cannot open it.
    assert!(store.reseal_tokens().await.is_err());
}

/// A distinctive token, to look for in the database's bytes.
const NEEDLE: &str = "EAAB-needle-7d1f3c9a-do-not-store-in-clear";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every byte of a SQLite database: the file, its WAL and its shared memory.
fn sqlite_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        if let Ok(bytes) = std::fs::read(PathBuf::from(file)) {
            all.extend(bytes);
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_never_hold_a_token_in_clear() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The control: with PlaintextTokens the scan finds the token, so it would find a leak.
    let plain = dir.path().join("plain.db");
    {
        let db = Db::Sqlite(plain.clone());
        let store = db.open(PlaintextTokens).await;
        store
            .upsert_account(&tenant(), &page_account(PAGE, NEEDLE))
            .await
            .expect("save");
        assert!(contains(&sqlite_bytes(&plain), NEEDLE), "the scan works");
    }

    let sealed = dir.path().join("sealed.db");
    let db = Db::Sqlite(sealed.clone());
    let store = db.open(keyring(&[NEW_KEY])).await;
    store
        .upsert_account(&tenant(), &page_account(PAGE, NEEDLE))
        .await
        .expect("save");
    let token = store.list_accounts(&tenant()).await.expect("list")[0]
        .token
        .clone()
        .expect("token");
    assert_eq!(token_value(&token.open().await.expect("opens")), NEEDLE);
    let bytes = sqlite_bytes(&sealed);
    assert!(contains(&bytes, PAGE), "the account row was written");
    assert!(
        !contains(&bytes, NEEDLE),
        "the token is in the database files"
    );
    drop(store);
    assert!(!contains(&sqlite_bytes(&sealed), NEEDLE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_accounts_table_never_holds_a_token_in_clear() {
    on_postgres(|db| async move {
        let store = db.open(keyring(&[NEW_KEY])).await;
        store
            .upsert_account(&tenant(), &page_account(PAGE, NEEDLE))
            .await
            .expect("save");
        let Db::Postgres { url, schema } = &db else {
            unreachable!("on_postgres gives a PostgreSQL database")
        };
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        let dump: Vec<u8> = conn
            .copy_out_raw(&format!("COPY \"{schema}\".accounts TO STDOUT"))
            .await
            .expect("COPY")
            .try_fold(Vec::new(), |mut all, chunk| async move {
                all.extend_from_slice(&chunk);
                Ok(all)
            })
            .await
            .expect("read the dump");
        assert!(contains(&dump, PAGE), "the dump holds the account row");
        assert!(
            !contains(&dump, NEEDLE),
            "the token is in the accounts table"
        );
        assert!(
            contains(&dump, "xchacha20poly1305:"),
            "the scheme is stored"
        );
    })
    .await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("private.db");
    let files = || {
        ["", "-wal", "-shm"].map(|suffix| {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            PathBuf::from(file)
        })
    };
    let mode = |file: &PathBuf| {
        std::fs::metadata(file)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let db = Db::Sqlite(path.clone());
    {
        let store = db.open(keyring(&[NEW_KEY])).await;
        store
            .upsert_account(&tenant(), &page_account(PAGE, "EAAB-mode"))
            .await
            .expect("save");
        for file in files() {
            assert_eq!(mode(&file), 0o600, "{} when created", file.display());
        }
    }
    // A database left readable by others (an older version, a copy) is tightened on open.
    for file in files().iter().filter(|f| f.exists()) {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let store = db.open(keyring(&[NEW_KEY])).await;
    store
        .upsert_account(&tenant(), &page_account(OTHER_PAGE, "EAAB-mode-2"))
        .await
        .expect("save");
    for file in files() {
        assert_eq!(mode(&file), 0o600, "{} after reopening", file.display());
    }
}

/// Through the inbox, with keys that do not open the stored tokens: webhooks are received and
/// stored and accounts listed; a send fails with 422 `account_cannot_send` before calling
/// Meta, and the status checks report the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbox_with_the_wrong_key_still_ingests_and_fails_only_sends() {
    use meta_messaging_core::inbox::{Inbox, SendRequest, Tenancy};
    use meta_messaging_core::secret::VerifyToken;

    use crate::support::graph_mock::{GraphMock, PAGE_ID};
    use crate::support::inbox::{connect_accounts, delivery};

    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::Sqlite(dir.path().join("inbox.db"));
    {
        let store = db.open(keyring(&[OLD_KEY])).await;
        connect_accounts(store.as_ref(), &tenant()).await;
    }
    let store = db.open(keyring(&[NEW_KEY])).await;
    let graph = GraphMock::start().await;
    let inbox = Inbox::builder()
        .app_secret(meta_messaging_core::secret::AppSecret::new(
            crate::support::graph_mock::APP_SECRET,
        ))
        .verify_token(VerifyToken::new("v"))
        .store(store.clone())
        .graph(graph.client())
        .tenancy(Tenancy::Single(tenant()))
        .build()
        .expect("inbox");

    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, "6758492015643287", "hello");
    inbox
        .receive(Some(&signature), &body)
        .await
        .expect("ingestion does not need the token");
    assert_eq!(
        store
            .count_messages(&tenant(), &meta_messaging_core::store::MessageQuery::new())
            .await
            .expect("count"),
        1
    );
    assert_eq!(inbox.accounts(&tenant()).await.expect("listing").len(), 2);

    let request = SendRequest::text(Platform::Messenger, PAGE_ID, "6758492015643287", "hi");
    let err = inbox
        .send(&tenant(), &request)
        .await
        .expect_err("the token does not open");
    assert_eq!(
        (meta_messaging_core::contract::status(&err), err.kind()),
        (422, "account_cannot_send")
    );
    assert!(err.to_string().contains("META_TOKEN_KEY"), "{err}");
    assert!(
        err.fix().contains("META_TOKEN_KEY"),
        "the fix says which setting to correct: {}",
        err.fix()
    );

    let report = inbox.status_checked(&tenant()).await.expect("status");
    for account in &report.accounts {
        let checks = account.checks.as_ref().expect("checked");
        assert_eq!(checks.len(), 1, "{checks:?}");
        assert_eq!(checks[0].id, "stored_token");
        assert_eq!(
            checks[0].status,
            meta_messaging_core::graph::CheckStatus::Fail
        );
        assert!(
            checks[0].detail.contains("META_TOKEN_KEY"),
            "{}",
            checks[0].detail
        );
    }
}
