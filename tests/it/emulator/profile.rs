//! The Messenger profile on the emulator: set, read and delete through the real client, kept
//! per platform, and Meta's refusal of over-limit values for a client that does not check.

use meta_messaging_core::graph::{
    Button, Greeting, IceBreaker, IceBreakers, MessengerProfile, PersistentMenu, ProfileField,
};
use serde_json::json;

use super::*;

#[tokio::test]
async fn set_get_and_delete_per_platform() {
    let (emulator, client) = start(None).await;
    let page = messenger(&client);
    let ig = instagram(&client);
    assert_eq!(
        page.messenger_profile().await.unwrap(),
        MessengerProfile::new()
    );

    let menu = PersistentMenu::new("default", vec![Button::postback("Help", "HELP")]);
    let profile = MessengerProfile::new()
        .get_started("GET_STARTED")
        .greeting(vec![Greeting::new("default", "Hello!")])
        .persistent_menu(vec![menu.clone()]);
    page.set_messenger_profile(&profile).await.unwrap();
    let breakers = vec![IceBreakers::new(
        "default",
        vec![IceBreaker::new("Do you ship abroad?", "SHIPPING")],
    )];
    ig.set_messenger_profile(&MessengerProfile::new().ice_breakers(breakers.clone()))
        .await
        .unwrap();

    assert_eq!(page.messenger_profile().await.unwrap(), profile);
    assert_eq!(
        ig.messenger_profile().await.unwrap(),
        MessengerProfile::new().ice_breakers(breakers)
    );

    // A write sets only the fields it names.
    page.set_messenger_profile(&MessengerProfile::new().get_started("AGAIN"))
        .await
        .unwrap();
    page.delete_messenger_profile_fields(&[ProfileField::Greeting])
        .await
        .unwrap();
    assert_eq!(
        page.messenger_profile().await.unwrap(),
        MessengerProfile::new()
            .get_started("AGAIN")
            .persistent_menu(vec![menu])
    );
    drop(emulator);
}

#[tokio::test]
async fn over_limit_values_get_metas_invalid_parameter_error() {
    let (emulator, _client) = start(None).await;
    let http = crate::support::http::client();
    let url = format!("{}/v23.0/me/messenger_profile", emulator.url());
    let answer = http
        .post(&url)
        .bearer_auth(PAGE_TOKEN)
        .json(&json!({"greeting": [{"locale": "default", "text": "x".repeat(161)}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], 100);
    assert_eq!(body["error"]["type"], "OAuthException");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("(#100) greeting[0].text has 161 characters"),
        "{message}"
    );

    let answer = http
        .post(format!("{url}?platform=instagram"))
        .bearer_auth(PAGE_TOKEN)
        .json(&json!({"platform": "instagram", "get_started": {"payload": "GO"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);

    let answer = http
        .get(format!("{url}?fields=get_started"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], 190);
}
