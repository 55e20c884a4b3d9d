//! Real Graph error bodies quoted in public trackers (`fixtures/graph/field/`): each one,
//! answered by a stand-in Graph API, gets the kind and the troubleshooting entry it must.

use meta_messaging_core::graph::{RetryPolicy, catalog};
use meta_messaging_core::ids::{PageId, Psid};
use meta_messaging_core::secret::PageAccessToken;
use wiremock::ResponseTemplate;

use crate::support::graph_mock::*;

#[tokio::test]
async fn every_real_error_body_gets_its_kind_and_its_specific_fix() {
    let cases = field_fixtures();
    assert!(cases.len() >= 25, "only {} real error bodies", cases.len());

    let mock = GraphMock::start().await;
    let client = mock.builder().retry(RetryPolicy::none()).build().unwrap();
    let page = client.messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    for (i, (name, case)) in cases.iter().enumerate() {
        let source = case["source"].as_str().unwrap();
        assert!(source.starts_with("https://"), "{name}: no source");
        assert!(case["quoted"].is_string(), "{name}: what was quoted?");
        let psid = format!("7{i:015}");
        graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
            .and(wiremock::matchers::body_partial_json(
                serde_json::json!({"recipient": {"id": psid}}),
            ))
            .respond_with(
                ResponseTemplate::new(case["status"].as_u64().unwrap() as u16)
                    .set_body_json(&case["body"]),
            )
            .expect(1)
            .mount(&mock.server)
            .await;

        let err = page
            .text(Psid::from(psid.as_str()), "hello")
            .send()
            .await
            .unwrap_err();
        let expected_title = case["title"].as_str().unwrap();
        let entry = catalog::CATALOG
            .iter()
            .find(|e| e.title == expected_title)
            .unwrap_or_else(|| panic!("{name}: no entry titled {expected_title:?}"));
        assert_eq!(err.kind().as_str(), case["kind"], "{name} ({source})");
        assert_eq!(entry.kind, err.kind(), "{name}");
        assert_eq!(
            err.troubleshooting().map(|t| t.title),
            Some(expected_title),
            "{name} ({source})"
        );
        assert_eq!(err.fix(), entry.fix, "{name}");
        let shown = err.to_string();
        assert!(shown.ends_with(&format!("Fix: {}", entry.fix)), "{shown}");
    }
}

#[tokio::test]
async fn the_two_examples_of_the_report_are_no_longer_misread() {
    let by_name = |wanted: &str| {
        field_fixtures()
            .into_iter()
            .find(|(name, _)| name == wanted)
            .unwrap()
            .1
    };
    let kind_of = |name: &str| {
        let case = by_name(name);
        let body = serde_json::to_vec(&case["body"]).unwrap();
        meta_messaging_core::graph::MetaError::from_body(400, &body)
            .unwrap()
            .kind
    };
    use meta_messaging_core::graph::ErrorKind;
    // Code 10 without a subcode: not a missing permission.
    assert_eq!(
        kind_of("window_10_no_subcode_home_assistant"),
        ErrorKind::OutsideMessagingWindow
    );
    // Code 200 with the blocked-recipient text: not a token or scope problem.
    let blocked = kind_of("blocked_200_botkit");
    assert_eq!(blocked, ErrorKind::UserUnavailable);
    assert!(!blocked.is_auth() && !blocked.is_retryable());
}
