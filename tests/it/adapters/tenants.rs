//! Multi-tenant hosts: the tenant comes from the host's resolver, or the route refuses.

use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::Tenancy;
use meta_messaging_core::platform::Platform;
use serde_json::Value;

use crate::support::graph_mock::{PAGE_ID, PSID};
use crate::support::inbox::{connect_accounts, delivery, harness};
use crate::support::servers::{Adapter, serve, serve_with_header_tenants};

async fn tenants(adapter: Adapter) {
    let h = harness(Tenancy::Multi).await;
    let (a, b) = (TenantId::new("tenant-a"), TenantId::new("tenant-b"));
    connect_accounts(h.store.as_ref(), &a).await;
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "for tenant a");
    h.inbox.receive(Some(&signature), &body).await.unwrap();

    // API tokens in multi-tenant mode: a request without one is refused, the webhook still
    // works, and the token's own tenant is all it reads.
    let base = serve(adapter, h.inbox.clone()).await;
    let response = crate::support::http::get(format!("{base}/messages"))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["kind"], "unauthorized");
    let page: Value = crate::support::servers::get_json(&base, "/messages").await;
    assert_eq!(
        page["data"].as_array().unwrap().len(),
        0,
        "tenant shop has nothing"
    );

    let base = serve_with_header_tenants(adapter, h.inbox.clone()).await;
    let client = crate::support::http::client();
    let refused = client.get(format!("{base}/messages")).send().await.unwrap();
    assert_eq!(refused.status(), 403, "the host's own refusal");
    assert_eq!(refused.text().await.unwrap(), "host says no");
    for (tenant, expected) in [(&a, 1), (&b, 0)] {
        let page: Value = client
            .get(format!("{base}/messages"))
            .header("x-tenant", tenant.as_str())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["data"].as_array().unwrap().len(), expected, "{tenant}");
    }
}

#[tokio::test]
async fn axum_routes_each_request_to_its_tenant() {
    tenants(Adapter::Axum).await;
}

#[tokio::test]
async fn actix_routes_each_request_to_its_tenant() {
    tenants(Adapter::Actix).await;
}
