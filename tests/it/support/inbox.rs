//! An inbox over an in-memory store and a strict Graph mock, and delivery helpers.

use std::sync::Arc;

use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{Inbox, InboxBuilder, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, PageAccessToken, VerifyToken};
use meta_messaging_core::store::{AccountToken, InMemoryStore, MessageStore, NewAccount};
use meta_messaging_core::webhook::DeliveryBuilder;

use crate::support::graph_mock::{APP_SECRET, GraphMock, IG_ACCOUNT_ID, PAGE_ID, PAGE_TOKEN};

pub(crate) const VERIFY_TOKEN: &str = "inbox-verify-token";

pub(crate) fn tenant() -> TenantId {
    TenantId::new("shop")
}

pub(crate) struct Harness {
    pub(crate) inbox: Inbox,
    pub(crate) store: Arc<InMemoryStore>,
    pub(crate) graph: GraphMock,
}

pub(crate) async fn harness(tenancy: Tenancy) -> Harness {
    harness_with(tenancy, |b| b).await
}

pub(crate) async fn harness_with(
    tenancy: Tenancy,
    configure: impl FnOnce(InboxBuilder) -> InboxBuilder,
) -> Harness {
    let store = Arc::new(InMemoryStore::new());
    let graph = GraphMock::start().await;
    let inbox = configure(builder_on(&store, &graph, tenancy))
        .build()
        .unwrap();
    Harness {
        inbox,
        store,
        graph,
    }
}

/// The builder of the harness's inboxes: another one on the same store and Graph mock is
/// what a restarted process, or a second instance, would be.
pub(crate) fn builder_on(
    store: &Arc<InMemoryStore>,
    graph: &GraphMock,
    tenancy: Tenancy,
) -> InboxBuilder {
    Inbox::builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .verify_token(VerifyToken::new(VERIFY_TOKEN))
        .store(store.clone())
        .graph(graph.client())
        .tenancy(tenancy)
}

/// Connects the test Page (Messenger) and its linked Instagram account for `tenant`.
pub(crate) async fn connect_accounts(store: &dyn MessageStore, tenant: &TenantId) {
    let token = AccountToken::Page(PageAccessToken::new(PAGE_TOKEN));
    store
        .upsert_account(
            tenant,
            &NewAccount::new(Platform::Messenger, PAGE_ID)
                .with_name("Acme Shop")
                .with_token(token.clone(), None),
        )
        .await
        .unwrap();
    store
        .upsert_account(
            tenant,
            &NewAccount::new(Platform::Instagram, IG_ACCOUNT_ID)
                .with_username("acme.shop")
                .with_linked_page(PAGE_ID)
                .with_token(token, None),
        )
        .await
        .unwrap();
}

/// A signed one-message delivery.
pub(crate) fn delivery(
    platform: Platform,
    account: &str,
    user: &str,
    text: &str,
) -> (Vec<u8>, String) {
    DeliveryBuilder::new(platform, account)
        .text(user, text)
        .signed(&AppSecret::new(APP_SECRET))
}
