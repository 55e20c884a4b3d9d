//! SQLite on a full disk (a small tmpfs): deliveries that cannot be written are answered 500,
//! nothing is half-written, and when space returns the host goes on and Meta's redeliveries
//! are stored once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use meta_messaging_core::inbox::{Inbox, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{
    ChangeSubject, MAX_CHANGES_PAGE, MessageQuery, MessageStore, SqliteStore,
};
use meta_messaging_core::webhook::SIGNATURE_HEADER;
use sqlx::Connection;

use super::load::delivery;
use crate::support::graph_mock::APP_SECRET;
use crate::support::inbox::{VERIFY_TOKEN, tenant};
use crate::support::servers::{Adapter, serve};

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        mount(dir.path(), &format!("size={size},mode=0700"));
        SmallDisk { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// Gives the disk more room, as an operator freeing space would.
    fn grow(&self, size: &str) {
        mount(self.dir.path(), &format!("remount,size={size}"));
    }
}

fn mount(dir: &Path, options: &str) {
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs"])
        .arg(dir)
        .status()
        .expect("cannot run mount");
    assert!(
        status.success(),
        "mount -o {options} failed: the fault tests need root"
    );
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: the store's connections may still be closing.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Posts one delivery; its status.
async fn post(client: &reqwest::Client, hook: &str, body: &[u8], signature: &str) -> u16 {
    client
        .post(hook)
        .header(SIGNATURE_HEADER, signature)
        .body(body.to_vec())
        .send()
        .await
        .expect("the host answers even with its disk full")
        .status()
        .as_u16()
}

#[tokio::test]
#[ignore = "fault test: mounts a small tmpfs (root); run by .ci/run"]
async fn sqlite_on_a_full_disk_refuses_with_500_writes_nothing_half_and_recovers() {
    let disk = SmallDisk::mount("2m");
    let path = disk.path().join("inbox.db");
    let store: Arc<dyn MessageStore> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let inbox = Inbox::builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .verify_token(VerifyToken::new(VERIFY_TOKEN))
        .store(store.clone())
        .tenancy(Tenancy::Single(tenant()))
        .build()
        .unwrap();
    let hook = format!("{}/webhook", serve(Adapter::Axum, inbox).await);
    let client = crate::support::http::client();

    // Fill the disk: deliveries until 50 in a row are refused.
    let mut acknowledged = HashSet::new();
    let mut refused = Vec::new();
    let mut refused_in_a_row = 0;
    for i in 0.. {
        assert!(i < 50_000, "the 2 MiB disk never filled");
        let (mid, body, signature) = delivery(i);
        match post(&client, &hook, &body, &signature).await {
            200 => {
                acknowledged.insert(mid);
                refused_in_a_row = 0;
            }
            500 => {
                refused.push((mid, body, signature));
                refused_in_a_row += 1;
                if refused_in_a_row == 50 {
                    break;
                }
            }
            status => panic!("delivery {i} answered {status} on a full disk, not 500"),
        }
    }
    eprintln!(
        "full disk: {} deliveries stored before it filled, {} refused",
        acknowledged.len(),
        refused.len()
    );
    assert!(
        acknowledged.len() > 100,
        "the disk filled too early to prove anything"
    );

    // Nothing half-written: every acknowledged delivery is there with its conversation and
    // its one change, no refused one left a trace, and SQLite finds the file sound.
    let check = |acknowledged: HashSet<meta_messaging_core::ids::MessageId>| {
        let store = store.clone();
        async move {
            for mid in &acknowledged {
                let message = store
                    .find_message(&tenant(), Platform::Instagram, mid)
                    .await
                    .unwrap()
                    .unwrap_or_else(|| panic!("{mid} answered 200 but is not stored"));
                assert!(
                    store
                        .get_conversation(&tenant(), message.conversation_id)
                        .await
                        .unwrap()
                        .is_some(),
                    "{mid} is stored without its conversation"
                );
            }
            let mut logged = HashSet::new();
            let mut after = 0;
            loop {
                let page = store
                    .changes_after(&tenant(), after, MAX_CHANGES_PAGE)
                    .await
                    .unwrap();
                for change in &page.changes {
                    assert_eq!(change.seq, after + 1, "the change log has a gap");
                    after = change.seq;
                    if let ChangeSubject::MessageStored(message) = &change.subject {
                        assert!(
                            logged.insert(message.message_id.clone()),
                            "{} logged twice",
                            message.message_id
                        );
                    }
                }
                if !page.has_more() {
                    break;
                }
            }
            assert_eq!(
                logged, acknowledged,
                "message_stored changes against the deliveries answered 200"
            );
            let count = store
                .count_messages(&tenant(), &MessageQuery::new())
                .await
                .unwrap();
            assert_eq!(count, acknowledged.len() as u64, "stored messages");
        }
    };
    check(acknowledged.clone()).await;
    for (mid, _, _) in &refused {
        assert!(
            store
                .find_message(&tenant(), Platform::Instagram, mid)
                .await
                .unwrap()
                .is_none(),
            "{mid} was answered 500 but is stored"
        );
    }
    let mut raw = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(raw);

    // Space returns: Meta's redeliveries and new deliveries are stored, each once.
    disk.grow("64m");
    for (mid, body, signature) in &refused {
        assert_eq!(
            post(&client, &hook, body, signature).await,
            200,
            "the redelivery of {mid} once space returned"
        );
        acknowledged.insert(mid.clone());
    }
    for i in 1_000_000..1_000_100 {
        let (mid, body, signature) = delivery(i);
        assert_eq!(post(&client, &hook, &body, &signature).await, 200);
        acknowledged.insert(mid);
    }
    for (_, body, signature) in refused.iter().take(10) {
        assert_eq!(
            post(&client, &hook, body, signature).await,
            200,
            "a duplicate"
        );
    }
    check(acknowledged).await;
}
