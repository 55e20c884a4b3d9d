//! The Messenger profile: read, set and delete on Messenger and on Instagram through a Page,
//! with Meta's limits checked before any call.

use meta_messaging_core::graph::{
    AccountClient, Button, ErrorKind, GraphError, Greeting, IceBreaker, IceBreakers,
    InvalidRequest, Limit, MessengerProfile, PersistentMenu, ProfileField,
};
use meta_messaging_core::ids::PageId;
use meta_messaging_core::secret::PageAccessToken;
use serde_json::json;
use wiremock::matchers::{body_json, header};

use crate::support::graph_mock::*;

const FIELDS: &str = "get_started,greeting,ice_breakers,persistent_menu";

fn messenger(mock: &GraphMock) -> AccountClient {
    mock.client()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
}

fn instagram(mock: &GraphMock) -> AccountClient {
    mock.client()
        .instagram_via_page(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
}

fn profile_path() -> String {
    format!("{PAGE_ID}/messenger_profile")
}

#[tokio::test]
async fn get_reads_the_typed_fields_from_data() {
    let mock = GraphMock::start().await;
    graph_call("GET", &profile_path(), PAGE_TOKEN)
        .and(QueryIs::exactly(&[("fields", FIELDS)]))
        .respond_with(json(
            200,
            json!({"data": [{
                "get_started": {"payload": "GET_STARTED"},
                "greeting": [{"locale": "default", "text": "Hello {{user_first_name}}!"}],
                "ice_breakers": [{"call_to_actions": [{"question": "Where is my order?", "payload": "ORDER"}], "locale": "default"}],
                "persistent_menu": [{
                    "locale": "default",
                    "composer_input_disabled": false,
                    "call_to_actions": [
                        {"type": "postback", "title": "Talk to an agent", "payload": "CARE_HELP"},
                        {"type": "web_url", "title": "Shop now", "url": "https://www.originalcoastclothing.com/", "webview_height_ratio": "full"},
                    ],
                }],
            }]}),
        ))
        .expect(1)
        .mount(&mock.server)
        .await;
    let profile = messenger(&mock).messenger_profile().await.unwrap();
    assert_eq!(profile.get_started.unwrap().payload, "GET_STARTED");
    assert_eq!(
        profile.greeting.unwrap(),
        [Greeting::new("default", "Hello {{user_first_name}}!")]
    );
    assert_eq!(
        profile.ice_breakers.unwrap(),
        [IceBreakers::new(
            "default",
            vec![IceBreaker::new("Where is my order?", "ORDER")]
        )]
    );
    let menu = profile.persistent_menu.unwrap();
    assert_eq!(menu[0].call_to_actions.len(), 2);
    assert_eq!(menu[0].call_to_actions[1].title(), "Shop now");
}

#[tokio::test]
async fn an_empty_profile_reads_as_no_field_set() {
    let mock = GraphMock::start().await;
    graph_call("GET", &profile_path(), PAGE_TOKEN)
        .and(QueryIs::exactly(&[
            ("fields", "ice_breakers,persistent_menu"),
            ("platform", "instagram"),
        ]))
        .respond_with(json(200, json!({"data": []})))
        .expect(1)
        .mount(&mock.server)
        .await;
    let profile = instagram(&mock).messenger_profile().await.unwrap();
    assert_eq!(profile, MessengerProfile::new());
    assert!(profile.fields().is_empty());
}

#[tokio::test]
async fn set_posts_the_fields_given_as_meta_documents_them() {
    let mock = GraphMock::start().await;
    graph_call("POST", &profile_path(), PAGE_TOKEN)
        .and(QueryIs::exactly(&[]))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "get_started": {"payload": "GET_STARTED"},
            "greeting": [{"locale": "default", "text": "Hello!"}, {"locale": "en_US", "text": "Timeless apparel for the masses."}],
        })))
        .respond_with(json(200, json!({"result": "success"})))
        .expect(1)
        .mount(&mock.server)
        .await;
    let profile = MessengerProfile::new()
        .get_started("GET_STARTED")
        .greeting(vec![
            Greeting::new("default", "Hello!"),
            Greeting::new("en_US", "Timeless apparel for the masses."),
        ]);
    messenger(&mock)
        .set_messenger_profile(&profile)
        .await
        .unwrap();
}

#[tokio::test]
async fn instagram_ice_breakers_carry_the_platform_in_query_and_body() {
    let mock = GraphMock::start().await;
    graph_call("POST", &profile_path(), PAGE_TOKEN)
        .and(QueryIs::exactly(&[("platform", "instagram")]))
        .and(body_json(json!({
            "platform": "instagram",
            "ice_breakers": [{
                "call_to_actions": [{"question": "Do you ship abroad?", "payload": "SHIPPING"}],
                "locale": "default",
            }],
            "persistent_menu": [{
                "locale": "default",
                "composer_input_disabled": false,
                "call_to_actions": [{"type": "web_url", "title": "Shop now", "url": "https://example.com/shop"}],
            }],
        })))
        .respond_with(json(200, json!({"result": "success"})))
        .expect(1)
        .mount(&mock.server)
        .await;
    let profile = MessengerProfile::new()
        .ice_breakers(vec![IceBreakers::new(
            "default",
            vec![IceBreaker::new("Do you ship abroad?", "SHIPPING")],
        )])
        .persistent_menu(vec![PersistentMenu::new(
            "default",
            vec![Button::web_url("Shop now", "https://example.com/shop")],
        )]);
    instagram(&mock)
        .set_messenger_profile(&profile)
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_sends_the_field_names() {
    let mock = GraphMock::start().await;
    graph_call("DELETE", &profile_path(), PAGE_TOKEN)
        .and(QueryIs::exactly(&[]))
        .and(body_json(json!({"fields": ["get_started", "greeting"]})))
        .respond_with(json(200, json!({"result": "success"})))
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("DELETE", &profile_path(), PAGE_TOKEN)
        .and(QueryIs::exactly(&[("platform", "instagram")]))
        .and(body_json(
            json!({"platform": "instagram", "fields": ["ice_breakers"]}),
        ))
        .respond_with(json(200, json!({"result": "success"})))
        .expect(1)
        .mount(&mock.server)
        .await;
    messenger(&mock)
        .delete_messenger_profile_fields(&[ProfileField::GetStarted, ProfileField::Greeting])
        .await
        .unwrap();
    instagram(&mock)
        .delete_messenger_profile_fields(&[ProfileField::IceBreakers])
        .await
        .unwrap();
}

#[tokio::test]
async fn over_limit_values_are_refused_before_any_call() {
    // The catch-all fails the test if anything is sent.
    let mock = GraphMock::start().await;
    let questions = (0..5)
        .map(|i| IceBreaker::new(format!("Question {i}?"), "P"))
        .collect();
    let err = messenger(&mock)
        .set_messenger_profile(
            &MessengerProfile::new().ice_breakers(vec![IceBreakers::new("default", questions)]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(matches!(
        err,
        GraphError::InvalidRequest(InvalidRequest::OutOfLimit {
            limit: Limit::IceBreakerQuestions,
            found: 5,
            ..
        })
    ));
    assert!(
        err.to_string().contains("Meta allows at most 4 items"),
        "{err}"
    );
    let err = instagram(&mock)
        .set_messenger_profile(&MessengerProfile::new().get_started("GO"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        GraphError::InvalidRequest(InvalidRequest::Unsupported {
            what: "get_started",
            ..
        })
    ));
}

#[tokio::test]
async fn metas_refusal_comes_back_classified() {
    let mock = GraphMock::start().await;
    graph_call("POST", &profile_path(), PAGE_TOKEN)
        .respond_with(meta_error(
            400,
            100,
            None,
            "(#100) You must set a Get Started button if you also wish to use persistent menu.",
        ))
        .expect(1)
        .mount(&mock.server)
        .await;
    let menu = PersistentMenu::new("default", vec![Button::postback("Help", "HELP")]);
    let err = messenger(&mock)
        .set_messenger_profile(&MessengerProfile::new().persistent_menu(vec![menu]))
        .await
        .unwrap_err();
    let meta = err.meta_error().unwrap();
    assert_eq!((meta.status, meta.code), (400, 100));
    assert!(meta.message.contains("Get Started"));
}
