//! The OpenAPI document is served at `GET {mount}/openapi.json`, behind the same credentials as
//! the other routes, by both adapters. (That `docs/openapi.json` is the generated document is
//! checked next to the generator, in `meta_messaging_core::contract::openapi`.)

use meta_messaging_core::contract::openapi_json;
use meta_messaging_core::inbox::Tenancy;
use reqwest::header::AUTHORIZATION;
use serde_json::Value;

use crate::support::inbox::{harness_with, tenant};
use crate::support::servers::{API_TOKEN, Adapter, serve};

async fn served(adapter: Adapter) {
    let h = harness_with(Tenancy::Single(tenant()), |b| b).await;
    let base = serve(adapter, h.inbox.clone()).await;
    let client = crate::support::http::client();
    let url = format!("{base}/openapi.json");

    let anonymous = client.get(&url).send().await.unwrap();
    assert_eq!(
        anonymous.status(),
        401,
        "{adapter:?}: the document needs credentials"
    );

    let answer = client
        .get(&url)
        .header(AUTHORIZATION, format!("Bearer {API_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{adapter:?}");
    assert_eq!(
        answer.headers()["content-type"],
        "application/json",
        "{adapter:?}"
    );
    let text = answer.text().await.unwrap();
    assert_eq!(text, openapi_json(), "{adapter:?}: the served document");
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/messages"]["post"].is_object());
}

#[tokio::test]
async fn axum_serves_the_document() {
    served(Adapter::Axum).await;
}

#[tokio::test]
async fn actix_serves_the_document() {
    served(Adapter::Actix).await;
}
