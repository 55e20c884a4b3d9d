//! Multi-tenant hosts: the tenant comes from the host's resolver, or the route refuses.

use meta_messaging_core::ids::MessageId;
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{MediaOptions, Tenancy};
use meta_messaging_core::media::FsMediaStore;
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::store::MessageStore as _;
use meta_messaging_core::webhook::{self, DeliveryBuilder};
use serde_json::Value;

use crate::support::graph_mock::{APP_SECRET, PAGE_ID, PSID};
use crate::support::inbox::{connect_accounts, delivery, harness_with};
use crate::support::servers::{Adapter, serve, serve_with_header_tenants};

async fn tenants(adapter: Adapter) {
    let cdn = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/p.png"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_raw(b"png".to_vec(), "image/png"),
        )
        .expect(1)
        .mount(&cdn)
        .await;
    let files = tempfile::tempdir().unwrap();
    let media = MediaOptions::new(FsMediaStore::new(files.path()).unwrap());
    let h = harness_with(Tenancy::Multi, |b| b.media(media)).await;
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

    // Kept media is served to the tenant that owns it, and to nobody else.
    let image = DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
        .messaging_event(serde_json::json!({
            "sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 1_733_412_999_000_i64,
            "message": {"mid": "m_tenant_media", "attachments": [
                {"type": "image", "payload": {"url": format!("{}/p.png", cdn.uri())}}]}
        }))
        .build();
    let signature = webhook::sign(&AppSecret::new(APP_SECRET), &image);
    h.inbox.receive(Some(&signature), &image).await.unwrap();
    let mut media_url = None;
    for _ in 0..250 {
        let message = h
            .store
            .find_message(&a, Platform::Messenger, &MessageId::new("m_tenant_media"))
            .await
            .unwrap()
            .unwrap();
        media_url = message.attachments[0].media_url.clone();
        if media_url.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let media_url = media_url.expect("the image is kept within 5 s");
    for (tenant, status) in [(&a, 200), (&b, 404)] {
        let response = client
            .get(format!("{base}/{media_url}"))
            .header("x-tenant", tenant.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{tenant}");
        if status == 200 {
            assert_eq!(response.bytes().await.unwrap().as_ref(), b"png");
        }
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
