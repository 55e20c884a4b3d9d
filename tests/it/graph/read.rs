//! Conversations, messages, profiles, and cursor paging.

use futures_util::StreamExt;
use meta_messaging_core::graph::ErrorKind;
use meta_messaging_core::ids::GraphConversationId;
use meta_messaging_core::ids::{PageId, UserId};
use meta_messaging_core::secret::PageAccessToken;
use wiremock::matchers::query_param;

use crate::support::graph_mock::*;

const CONVERSATION_FIELDS: &str = "id,updated_time,message_count,unread_count,participants";

fn conversations(page_after: Option<&str>) -> wiremock::MockBuilder {
    let mut mock = graph_call("GET", &format!("{PAGE_ID}/conversations"), PAGE_TOKEN)
        .and(query_param("platform", "messenger"))
        .and(query_param("fields", CONVERSATION_FIELDS))
        .and(query_param("limit", "2"));
    match page_after {
        Some(after) => mock = mock.and(query_param("after", after)),
        None => mock = mock.and(wiremock::matchers::query_param_is_missing("after")),
    }
    mock
}

fn page_client(mock: &GraphMock) -> meta_messaging_core::graph::AccountClient {
    mock.client()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
}

#[tokio::test]
async fn one_page_of_conversations() {
    let mock = GraphMock::start().await;
    conversations(None)
        .respond_with(json(200, fixture("conversations_page1")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let page = page_client(&mock)
        .conversations()
        .limit(2)
        .page()
        .await
        .unwrap();
    assert_eq!(page.data.len(), 2);
    assert_eq!(
        page.data[0].id,
        GraphConversationId::from("t_10161219448962063")
    );
    assert_eq!(
        page.data[0].participants.data[0].name.as_deref(),
        Some("Jane Doe")
    );
    assert_eq!(page.data[0].unread_count, Some(1));
    assert_eq!(page.next_cursor(), Some("QVFIUkZAPAGE2"));
    assert!(
        !format!("{page:?}").contains(PAGE_TOKEN),
        "the next link carries the token"
    );
}

#[tokio::test]
async fn the_stream_follows_cursors_to_the_last_page() {
    let mock = GraphMock::start().await;
    conversations(None)
        .respond_with(json(200, fixture("conversations_page1")))
        .expect(1)
        .mount(&mock.server)
        .await;
    conversations(Some("QVFIUkZAPAGE2"))
        .respond_with(json(200, fixture("conversations_page2")))
        .expect(1)
        .mount(&mock.server)
        .await;
    conversations(Some("QVFIUkZAPAGE3"))
        .respond_with(json(200, fixture("conversations_page3")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let all: Vec<_> = page_client(&mock)
        .conversations()
        .limit(2)
        .stream()
        .collect()
        .await;
    let ids: Vec<_> = all
        .into_iter()
        .map(|c| c.unwrap().id.as_str().to_owned())
        .collect();
    assert_eq!(
        ids,
        [
            "t_10161219448962063",
            "t_10161219448962064",
            "t_10161219448962065",
            "t_10161219448962066"
        ]
    );
}

#[tokio::test]
async fn the_stream_ends_after_an_error_in_the_middle() {
    let mock = GraphMock::start().await;
    conversations(None)
        .respond_with(json(200, fixture("conversations_page1")))
        .expect(1)
        .mount(&mock.server)
        .await;
    conversations(Some("QVFIUkZAPAGE2"))
        .respond_with(meta_error(400, 100, None, "(#100) Invalid cursor"))
        .expect(1)
        .mount(&mock.server)
        .await;
    let all: Vec<_> = page_client(&mock)
        .conversations()
        .limit(2)
        .stream()
        .collect()
        .await;
    assert_eq!(all.len(), 3, "two items, then the error, then the end");
    assert!(all[0].is_ok() && all[1].is_ok());
    assert_eq!(
        all[2].as_ref().unwrap_err().kind(),
        ErrorKind::ParameterInvalid
    );
}

#[tokio::test]
async fn a_transient_failure_in_the_middle_is_retried_inside_the_stream() {
    let mock = GraphMock::start().await;
    conversations(None)
        .respond_with(json(200, fixture("conversations_page1")))
        .expect(1)
        .mount(&mock.server)
        .await;
    conversations(Some("QVFIUkZAPAGE2"))
        .respond_with(meta_error(
            500,
            2,
            None,
            "An unexpected error has occurred. Please retry your request later.",
        ))
        .up_to_n_times(1)
        .expect(1)
        .mount(&mock.server)
        .await;
    conversations(Some("QVFIUkZAPAGE2"))
        .respond_with(json(200, fixture("conversations_page3")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let all: Vec<_> = page_client(&mock)
        .conversations()
        .limit(2)
        .stream()
        .collect()
        .await;
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(Result::is_ok));
}

#[tokio::test]
async fn a_repeated_cursor_stops_the_stream() {
    let mock = GraphMock::start().await;
    conversations(None)
        .respond_with(json(200, fixture("conversations_page1")))
        .expect(1)
        .mount(&mock.server)
        .await;
    // Meta hands back the same cursor again: without the guard this would loop forever.
    conversations(Some("QVFIUkZAPAGE2"))
        .respond_with(json(200, fixture("conversations_page1")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let all: Vec<_> = page_client(&mock)
        .conversations()
        .limit(2)
        .stream()
        .collect()
        .await;
    assert_eq!(all.len(), 4);
}

#[tokio::test]
async fn messages_of_a_conversation_and_one_message() {
    let mock = GraphMock::start().await;
    let message = fixture("message");
    graph_call("GET", "t_10161219448962063/messages", PAGE_TOKEN)
        .and(query_param("fields", "id,created_time,from,to,message,attachments"))
        .respond_with(json(200, serde_json::json!({"data": [message.clone()], "paging": {"cursors": {"before": "a", "after": "b"}}})))
        .expect(1)
        .mount(&mock.server)
        .await;
    let mid = message["id"].as_str().unwrap().to_owned();
    graph_call("GET", &mid, PAGE_TOKEN)
        .and(query_param(
            "fields",
            "id,created_time,from,to,message,attachments",
        ))
        .respond_with(json(200, message))
        .expect(1)
        .mount(&mock.server)
        .await;
    let page = page_client(&mock);
    let list = page
        .conversation_messages(&"t_10161219448962063".into())
        .page()
        .await
        .unwrap();
    assert_eq!(list.data.len(), 1);
    assert_eq!(list.next_cursor(), None);
    let one = page.message(&mid.as_str().into()).await.unwrap();
    assert_eq!(one.message.as_deref(), Some("Do you have these in size 9?"));
    assert_eq!(one.from.unwrap().id, "6758492015643287");
    assert_eq!(
        one.attachments.data[0].mime_type.as_deref(),
        Some("image/jpeg")
    );
    assert!(one.attachments.data[0].other.contains_key("image_data"));
}

#[tokio::test]
async fn profiles_ask_each_platform_for_its_fields() {
    let mock = GraphMock::start().await;
    graph_call("GET", PSID, PAGE_TOKEN)
        .and(query_param(
            "fields",
            "id,first_name,last_name,name,profile_pic",
        ))
        .respond_with(json(200, fixture("profile_messenger")))
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("GET", IGSID, PAGE_TOKEN)
        .and(query_param(
            "fields",
            "id,name,username,profile_pic,follower_count,is_verified_user,is_user_follow_business,is_business_follow_user",
        ))
        .respond_with(json(200, fixture("profile_instagram")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let client = mock.client();
    let messenger = client.messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let jane = messenger.user_profile(&UserId::from(PSID)).await.unwrap();
    assert_eq!(jane.first_name.as_deref(), Some("Jane"));
    let instagram =
        client.instagram_via_page(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let ig = instagram.user_profile(&UserId::from(IGSID)).await.unwrap();
    assert_eq!(ig.username.as_deref(), Some("jane.doe"));
    assert_eq!(ig.follower_count, Some(1234));
    assert_eq!(ig.is_user_follow_business, Some(true));
}

#[tokio::test]
async fn instagram_conversations_ask_for_the_instagram_platform() {
    let mock = GraphMock::start().await;
    graph_call("GET", &format!("{PAGE_ID}/conversations"), PAGE_TOKEN)
        .and(query_param("platform", "instagram"))
        .respond_with(json(200, fixture("conversations_page3")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let instagram = mock
        .client()
        .instagram_via_page(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let page = instagram.conversations().page().await.unwrap();
    assert_eq!(page.data.len(), 1);
}
