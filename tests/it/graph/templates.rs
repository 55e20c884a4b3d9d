//! Structured templates in the Send API body, and the platform checks made before sending.

use meta_messaging_core::graph::{
    Button, GenericElement, GraphError, InvalidRequest, MediaElement, MediaType, Template,
};
use meta_messaging_core::ids::{AttachmentId, Igsid, PageId, Psid};
use meta_messaging_core::secret::PageAccessToken;
use serde_json::json;
use wiremock::matchers::{body_json, header};

use crate::support::graph_mock::*;

#[tokio::test]
async fn a_generic_template_goes_out_as_metas_template_attachment() {
    let mock = GraphMock::start().await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "recipient": {"id": IGSID},
            "messaging_type": "RESPONSE",
            "message": {"attachment": {"type": "template", "payload": {
                "template_type": "generic",
                "elements": [{
                    "title": "Welcome!",
                    "image_url": "https://example.com/male-work.jpg",
                    "subtitle": "We have the right hat for everyone.",
                    "default_action": {"type": "web_url", "url": "https://www.originalcoastclothing.com"},
                    "buttons": [
                        {"type": "web_url", "url": "https://www.originalcoastclothing.com", "title": "View Website"},
                        {"type": "postback", "title": "Start Chatting", "payload": "DEVELOPER_DEFINED_PAYLOAD"},
                    ],
                }],
            }}},
        })))
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let card = GenericElement::new("Welcome!")
        .image_url("https://example.com/male-work.jpg")
        .subtitle("We have the right hat for everyone.")
        .default_action("https://www.originalcoastclothing.com")
        .button(Button::web_url(
            "View Website",
            "https://www.originalcoastclothing.com",
        ))
        .button(Button::postback(
            "Start Chatting",
            "DEVELOPER_DEFINED_PAYLOAD",
        ));
    let instagram = mock
        .client()
        .instagram_via_page(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    instagram
        .template(Igsid::from(IGSID), Template::generic(vec![card]).unwrap())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn button_and_media_templates_on_messenger() {
    let mock = GraphMock::start().await;
    for payload in [
        json!({"template_type": "button", "text": "What do you want to do next?", "buttons": [
            {"type": "web_url", "url": "https://www.messenger.com", "title": "Visit Messenger"},
            {"type": "postback", "title": "Talk to us", "payload": "AGENT"},
        ]}),
        json!({"template_type": "media", "elements": [{
            "media_type": "video", "attachment_id": "1857777774821032",
            "buttons": [{"type": "postback", "title": "Order", "payload": "ORDER"}],
        }]}),
    ] {
        graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
            .and(body_json(json!({
                "recipient": {"id": PSID},
                "messaging_type": "RESPONSE",
                "message": {"attachment": {"type": "template", "payload": payload}},
            })))
            .respond_with(json(200, fixture("send_response")))
            .expect(1)
            .mount(&mock.server)
            .await;
    }
    let page = mock
        .client()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let buttons = Template::button(
        "What do you want to do next?",
        vec![
            Button::web_url("Visit Messenger", "https://www.messenger.com"),
            Button::postback("Talk to us", "AGENT"),
        ],
    )
    .unwrap();
    page.template(Psid::from(PSID), buttons)
        .send()
        .await
        .unwrap();
    let media = Template::media(
        MediaElement::attachment(MediaType::Video, AttachmentId::from("1857777774821032"))
            .button(Button::postback("Order", "ORDER")),
    )
    .unwrap();
    page.template(Psid::from(PSID), media).send().await.unwrap();
}

#[tokio::test]
async fn a_media_template_is_refused_on_instagram_before_sending() {
    let mock = GraphMock::start().await;
    let instagram = mock
        .client()
        .instagram_via_page(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let media = Template::media(MediaElement::facebook_url(
        MediaType::Image,
        "https://www.facebook.com/photo.php?fbid=1",
    ))
    .unwrap();
    let err = instagram
        .template(Igsid::from(IGSID), media)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        GraphError::InvalidRequest(InvalidRequest::Unsupported {
            what: "the media template",
            ..
        })
    ));
}
