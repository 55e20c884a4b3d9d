//! Comments: the public reply, hide and unhide, delete, and the private reply, on each route
//! and each host; what is retried and what is not; the errors of a repeated private reply and
//! of a deleted comment.

use std::time::Duration;

use meta_messaging_core::graph::{AccountClient, ErrorKind, GraphClient, GraphError};
use meta_messaging_core::ids::{CommentId, InstagramAccountId, PageId, UserId};
use meta_messaging_core::secret::{InstagramAccessToken, PageAccessToken};
use serde_json::json;
use wiremock::matchers::{body_json, header};
use wiremock::{MockBuilder, ResponseTemplate};

use crate::support::graph_mock::*;

const FB_COMMENT: &str = "104417552380421_987654321098765";
const IG_COMMENT: &str = "17858893269000001";
const NEW_COMMENT: &str = "17873440459141021";

/// Two servers, so a call to the wrong host reaches a catch-all and fails the test.
struct Hosts {
    facebook: GraphMock,
    instagram: GraphMock,
}

impl Hosts {
    async fn start() -> Self {
        Self {
            facebook: GraphMock::start().await,
            instagram: GraphMock::start().await,
        }
    }

    fn client(&self) -> GraphClient {
        self.facebook
            .builder()
            .instagram_url(self.instagram.uri())
            .build()
            .unwrap()
    }

    fn messenger(&self) -> AccountClient {
        self.client()
            .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
    }

    fn instagram_via_page(&self) -> AccountClient {
        self.client()
            .instagram_via_page(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
    }

    fn instagram_login(&self) -> AccountClient {
        self.client().instagram_login(
            InstagramAccountId::from(IG_ACCOUNT_ID),
            InstagramAccessToken::new(IG_TOKEN),
        )
    }
}

/// `POST /v23.0/{rest}` with exactly `fields` as its form body and nothing in the query.
fn form_call(rest: &str, token: &str, fields: &[(&str, &str)]) -> MockBuilder {
    graph_call("POST", rest, token)
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(NoQuery)
        .and(FormBody::exactly(fields))
}

/// `DELETE /v23.0/{comment}` without a body or a query.
fn delete_call(comment: &str, token: &str) -> MockBuilder {
    graph_call("DELETE", comment, token)
        .and(NoQuery)
        .and(EmptyBody)
}

/// Matches a request without a body.
struct EmptyBody;

impl wiremock::Match for EmptyBody {
    fn matches(&self, request: &wiremock::Request) -> bool {
        request.body.is_empty()
    }
}

fn created() -> ResponseTemplate {
    json(200, json!({ "id": NEW_COMMENT }))
}

fn success() -> ResponseTemplate {
    json(200, fixture("success"))
}

#[tokio::test]
async fn a_page_comment_is_answered_on_its_comments_edge() {
    let hosts = Hosts::start().await;
    form_call(
        &format!("{FB_COMMENT}/comments"),
        PAGE_TOKEN,
        &[("message", "Thanks, we sent you the sizes & prices")],
    )
    .respond_with(created())
    .expect(1)
    .mount(&hosts.facebook.server)
    .await;
    let id = hosts
        .messenger()
        .reply_to_comment(
            &CommentId::from(FB_COMMENT),
            "Thanks, we sent you the sizes & prices",
        )
        .await
        .unwrap();
    assert_eq!(id, CommentId::from(NEW_COMMENT));
}

#[tokio::test]
async fn an_instagram_comment_is_answered_on_its_replies_edge_on_each_host() {
    let hosts = Hosts::start().await;
    let rest = format!("{IG_COMMENT}/replies");
    form_call(&rest, PAGE_TOKEN, &[("message", "Merci ✨")])
        .respond_with(created())
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    form_call(&rest, IG_TOKEN, &[("message", "Merci ✨")])
        .respond_with(created())
        .expect(1)
        .mount(&hosts.instagram.server)
        .await;
    let comment = CommentId::from(IG_COMMENT);
    for account in [hosts.instagram_via_page(), hosts.instagram_login()] {
        let id = account
            .reply_to_comment(&comment, "Merci ✨")
            .await
            .unwrap();
        assert_eq!(id, CommentId::from(NEW_COMMENT), "{:?}", account.route());
    }
}

#[tokio::test]
async fn an_empty_reply_is_refused_before_any_request() {
    let hosts = Hosts::start().await;
    let err = hosts
        .messenger()
        .reply_to_comment(&CommentId::from(FB_COMMENT), "")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
}

#[tokio::test]
async fn hiding_sends_is_hidden_on_a_page_and_hide_on_instagram() {
    let hosts = Hosts::start().await;
    for value in ["true", "false"] {
        form_call(FB_COMMENT, PAGE_TOKEN, &[("is_hidden", value)])
            .respond_with(success())
            .expect(1)
            .mount(&hosts.facebook.server)
            .await;
        form_call(IG_COMMENT, PAGE_TOKEN, &[("hide", value)])
            .respond_with(success())
            .expect(1)
            .mount(&hosts.facebook.server)
            .await;
        form_call(IG_COMMENT, IG_TOKEN, &[("hide", value)])
            .respond_with(success())
            .expect(1)
            .mount(&hosts.instagram.server)
            .await;
    }
    let page = hosts.messenger();
    let fb_comment = CommentId::from(FB_COMMENT);
    page.set_comment_hidden(&fb_comment, true).await.unwrap();
    page.set_comment_hidden(&fb_comment, false).await.unwrap();
    let ig_comment = CommentId::from(IG_COMMENT);
    for account in [hosts.instagram_via_page(), hosts.instagram_login()] {
        account.set_comment_hidden(&ig_comment, true).await.unwrap();
        account
            .set_comment_hidden(&ig_comment, false)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn deleting_sends_delete_to_the_comment_node_on_each_host() {
    let hosts = Hosts::start().await;
    delete_call(FB_COMMENT, PAGE_TOKEN)
        .respond_with(success())
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    delete_call(IG_COMMENT, PAGE_TOKEN)
        .respond_with(success())
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    delete_call(IG_COMMENT, IG_TOKEN)
        .respond_with(success())
        .expect(1)
        .mount(&hosts.instagram.server)
        .await;
    hosts
        .messenger()
        .delete_comment(&CommentId::from(FB_COMMENT))
        .await
        .unwrap();
    let ig_comment = CommentId::from(IG_COMMENT);
    hosts
        .instagram_via_page()
        .delete_comment(&ig_comment)
        .await
        .unwrap();
    hosts
        .instagram_login()
        .delete_comment(&ig_comment)
        .await
        .unwrap();
}

#[tokio::test]
async fn success_false_is_an_error_that_keeps_the_answer() {
    let hosts = Hosts::start().await;
    form_call(FB_COMMENT, PAGE_TOKEN, &[("is_hidden", "true")])
        .respond_with(json(200, json!({ "success": false })))
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    delete_call(FB_COMMENT, PAGE_TOKEN)
        .respond_with(json(200, json!({ "success": false })))
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    let page = hosts.messenger();
    let comment = CommentId::from(FB_COMMENT);
    for err in [
        page.set_comment_hidden(&comment, true).await.unwrap_err(),
        page.delete_comment(&comment).await.unwrap_err(),
    ] {
        assert!(
            matches!(&err, GraphError::Http { status: 200, body_prefix } if body_prefix == r#"{"success":false}"#),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn a_public_reply_is_not_repeated_after_a_gateway_error_but_hide_and_delete_are() {
    let hosts = Hosts::start().await;
    let gateway = || ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>");
    form_call(
        &format!("{FB_COMMENT}/comments"),
        PAGE_TOKEN,
        &[("message", "hi")],
    )
    .respond_with(gateway())
    .expect(1)
    .mount(&hosts.facebook.server)
    .await;
    form_call(FB_COMMENT, PAGE_TOKEN, &[("is_hidden", "true")])
        .respond_with(gateway())
        .up_to_n_times(1)
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    delete_call(FB_COMMENT, PAGE_TOKEN)
        .respond_with(gateway())
        .up_to_n_times(1)
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    // Mounted after the failures, so they answer only the retries.
    form_call(FB_COMMENT, PAGE_TOKEN, &[("is_hidden", "true")])
        .respond_with(success())
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    delete_call(FB_COMMENT, PAGE_TOKEN)
        .respond_with(success())
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    let page = hosts.messenger();
    let comment = CommentId::from(FB_COMMENT);
    let err = page.reply_to_comment(&comment, "hi").await.unwrap_err();
    assert_eq!(err.status(), Some(502), "{err}");
    assert!(err.may_have_reached_meta(), "{err}");
    page.set_comment_hidden(&comment, true).await.unwrap();
    page.delete_comment(&comment).await.unwrap();
}

#[tokio::test]
async fn a_public_reply_that_timed_out_is_not_repeated_but_a_hide_is() {
    let hosts = Hosts::start().await;
    let slow = || created().set_delay(Duration::from_millis(500));
    let rest = format!("{IG_COMMENT}/replies");
    form_call(&rest, IG_TOKEN, &[("message", "hi")])
        .respond_with(slow())
        .expect(1)
        .mount(&hosts.instagram.server)
        .await;
    form_call(IG_COMMENT, IG_TOKEN, &[("hide", "true")])
        .respond_with(success().set_delay(Duration::from_millis(500)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&hosts.instagram.server)
        .await;
    form_call(IG_COMMENT, IG_TOKEN, &[("hide", "true")])
        .respond_with(success())
        .expect(1)
        .mount(&hosts.instagram.server)
        .await;
    let client = hosts
        .facebook
        .builder()
        .instagram_url(hosts.instagram.uri())
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let account = client.instagram_login(
        InstagramAccountId::from(IG_ACCOUNT_ID),
        InstagramAccessToken::new(IG_TOKEN),
    );
    let comment = CommentId::from(IG_COMMENT);
    let err = account.reply_to_comment(&comment, "hi").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        matches!(
            err,
            GraphError::Transport {
                may_have_been_delivered: true,
                ..
            }
        ),
        "{err:?}"
    );
    account.set_comment_hidden(&comment, true).await.unwrap();
}

/// `POST /v23.0/{node}/messages` with the private reply's exact JSON body.
fn private_reply_call(node: &str, token: &str, comment: &str) -> MockBuilder {
    graph_call("POST", &format!("{node}/messages"), token)
        .and(header("content-type", "application/json"))
        .and(NoQuery)
        .and(body_json(json!({
            "recipient": { "comment_id": comment },
            "messaging_type": "RESPONSE",
            "message": { "text": "We sent you the details" }
        })))
}

#[tokio::test]
async fn a_private_reply_goes_to_the_page_node_for_messenger_and_instagram_via_page() {
    let hosts = Hosts::start().await;
    private_reply_call(PAGE_ID, PAGE_TOKEN, FB_COMMENT)
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    private_reply_call(PAGE_ID, PAGE_TOKEN, IG_COMMENT)
        .respond_with(json(200, fixture("send_response_instagram")))
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    let sent = hosts
        .messenger()
        .private_reply(CommentId::from(FB_COMMENT), "We sent you the details")
        .send()
        .await
        .unwrap();
    assert_eq!(sent.recipient_id, Some(UserId::from(PSID)));
    let sent = hosts
        .instagram_via_page()
        .private_reply(CommentId::from(IG_COMMENT), "We sent you the details")
        .send()
        .await
        .unwrap();
    assert_eq!(sent.recipient_id, Some(UserId::from(IGSID)));
}

#[tokio::test]
async fn a_private_reply_goes_to_the_instagram_account_node_for_instagram_login() {
    let hosts = Hosts::start().await;
    private_reply_call(IG_ACCOUNT_ID, IG_TOKEN, IG_COMMENT)
        .respond_with(json(200, fixture("send_response_instagram")))
        .expect(1)
        .mount(&hosts.instagram.server)
        .await;
    let sent = hosts
        .instagram_login()
        .private_reply(CommentId::from(IG_COMMENT), "We sent you the details")
        .send()
        .await
        .unwrap();
    assert_eq!(sent.recipient_id, Some(UserId::from(IGSID)));
    assert!(sent.message_id.as_str().starts_with("aWdf"));
}

#[tokio::test]
async fn a_second_private_reply_is_already_replied_with_its_fix_and_is_not_retried() {
    let hosts = Hosts::start().await;
    private_reply_call(PAGE_ID, PAGE_TOKEN, FB_COMMENT)
        .respond_with(meta_error(
            400,
            10900,
            None,
            "(#10900) Activity already replied to",
        ))
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    let err = hosts
        .messenger()
        .private_reply(CommentId::from(FB_COMMENT), "We sent you the details")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyReplied, "{err}");
    assert!(!err.is_transient());
    assert!(!err.may_have_reached_meta());
    let entry = err.troubleshooting().unwrap();
    assert_eq!((entry.code, entry.subcode), (10900, None));
    assert_eq!(entry.title, "Activity already replied to");
    assert!(err.to_string().ends_with(entry.fix), "{err}");
}

#[tokio::test]
async fn a_late_private_reply_is_not_allowed_with_its_fix() {
    let hosts = Hosts::start().await;
    private_reply_call(PAGE_ID, PAGE_TOKEN, FB_COMMENT)
        .respond_with(meta_error(
            400,
            10903,
            None,
            "(#10903) This user can't reply to this activity",
        ))
        .expect(1)
        .mount(&hosts.facebook.server)
        .await;
    let err = hosts
        .messenger()
        .private_reply(CommentId::from(FB_COMMENT), "We sent you the details")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReplyNotAllowed, "{err}");
    let entry = err.troubleshooting().unwrap();
    assert_eq!((entry.code, entry.subcode), (10903, None));
    assert!(entry.cause.contains("7 days"), "{}", entry.cause);
}

#[tokio::test]
async fn a_deleted_comment_is_object_not_found() {
    let hosts = Hosts::start().await;
    form_call(
        &format!("{FB_COMMENT}/comments"),
        PAGE_TOKEN,
        &[("message", "hi")],
    )
    .respond_with(meta_error(
        400,
        100,
        Some(33),
        "Unsupported post request. Object with ID '104417552380421_987654321098765' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
    ))
    .expect(1)
    .mount(&hosts.facebook.server)
    .await;
    let err = hosts
        .messenger()
        .reply_to_comment(&CommentId::from(FB_COMMENT), "hi")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ObjectNotFound, "{err}");
    let entry = err.troubleshooting().unwrap();
    assert_eq!((entry.code, entry.subcode), (100, Some(33)));
    assert!(entry.cause.contains("comment"), "{}", entry.cause);
}
