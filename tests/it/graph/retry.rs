//! Retries, idempotency of sends, usage headers and the per-account throttle.

use std::time::{Duration, Instant};

use meta_messaging_core::graph::{ErrorKind, GraphError, RetryPolicy, Throttle};
use meta_messaging_core::ids::{PageId, Psid};
use meta_messaging_core::secret::PageAccessToken;
use wiremock::ResponseTemplate;

use crate::support::graph_mock::*;

fn messages() -> String {
    format!("{PAGE_ID}/messages")
}

#[tokio::test]
async fn a_throttled_send_is_retried_because_meta_refused_it() {
    let mock = GraphMock::start().await;
    graph_call("POST", &messages(), PAGE_TOKEN)
        .respond_with(meta_error(
            400,
            613,
            None,
            "(#613) Calls to this api have exceeded the rate limit.",
        ))
        .up_to_n_times(2)
        .expect(2)
        .mount(&mock.server)
        .await;
    graph_call("POST", &messages(), PAGE_TOKEN)
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let page = mock
        .client()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    page.text(Psid::from(PSID), "hi").send().await.unwrap();
}

#[tokio::test]
async fn retries_are_bounded() {
    let mock = GraphMock::start().await;
    graph_call("POST", &messages(), PAGE_TOKEN)
        .respond_with(meta_error(
            500,
            1200,
            None,
            "(#1200) Temporary send message failure. Please try again later",
        ))
        .expect(3) // the first attempt and two retries
        .mount(&mock.server)
        .await;
    let client = mock
        .builder()
        .retry(fast_retries().max_retries(2))
        .build()
        .unwrap();
    let page = client.messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let err = page.text(Psid::from(PSID), "hi").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TemporarilyUnavailable);
}

#[tokio::test]
async fn reads_are_retried_after_a_gateway_error_but_sends_are_not() {
    let mock = GraphMock::start().await;
    graph_call("GET", "m_1", PAGE_TOKEN)
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream connect error"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("GET", "m_1", PAGE_TOKEN)
        .respond_with(json(200, fixture("message")))
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("POST", &messages(), PAGE_TOKEN)
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream connect error"))
        .expect(1)
        .mount(&mock.server)
        .await;
    let page = mock
        .client()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    page.message(&"m_1".into()).await.unwrap();
    let err = page.text(Psid::from(PSID), "hi").send().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
}

#[tokio::test]
async fn a_send_that_timed_out_is_not_repeated_and_says_it_may_have_been_delivered() {
    let mock = GraphMock::start().await;
    graph_call("POST", &messages(), PAGE_TOKEN)
        .respond_with(json(200, fixture("send_response")).set_delay(Duration::from_millis(500)))
        .expect(1)
        .mount(&mock.server)
        .await;
    let client = mock
        .builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let page = client.messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let err = page.text(Psid::from(PSID), "hi").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(matches!(
        err,
        GraphError::Transport {
            may_have_been_delivered: true,
            ..
        }
    ));
    assert!(err.to_string().contains("may have reached Meta"), "{err}");
}

#[tokio::test]
async fn opting_in_repeats_ambiguous_sends() {
    let mock = GraphMock::start().await;
    graph_call("POST", &messages(), PAGE_TOKEN)
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&mock.server)
        .await;
    graph_call("POST", &messages(), PAGE_TOKEN)
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let client = mock
        .builder()
        .retry(fast_retries().retry_ambiguous_sends(true))
        .build()
        .unwrap();
    let page = client.messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    page.text(Psid::from(PSID), "hi").send().await.unwrap();
}

#[tokio::test]
async fn a_long_business_use_case_block_is_not_retried_and_reports_when_to_come_back() {
    let mock = GraphMock::start().await;
    let usage = format!(
        r#"{{"{PAGE_ID}":[{{"type":"messenger","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":12}}]}}"#
    );
    graph_call("POST", &messages(), PAGE_TOKEN)
        .respond_with(
            meta_error(
                400,
                80006,
                None,
                "There have been too many messages sent to this Messenger account.",
            )
            .insert_header("x-business-use-case-usage", usage.as_str()),
        )
        .expect(1)
        .mount(&mock.server)
        .await;
    let page = mock
        .client()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let err = page.text(Psid::from(PSID), "hi").send().await.unwrap_err();
    assert!(err.is_rate_limited());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(12 * 60)));
}

#[tokio::test]
async fn usage_headers_are_exposed() {
    let mock = GraphMock::start().await;
    graph_call("POST", &messages(), PAGE_TOKEN)
        .respond_with(
            json(200, fixture("send_response"))
                .insert_header(
                    "x-app-usage",
                    r#"{"call_count":28,"total_time":25,"total_cputime":25}"#,
                )
                .insert_header(
                    "x-page-usage",
                    r#"{"call_count":91,"total_cputime":10,"total_time":12}"#,
                ),
        )
        .expect(1)
        .mount(&mock.server)
        .await;
    let client = mock.client();
    assert!(client.last_usage().is_empty());
    let page = client.messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    page.text(Psid::from(PSID), "hi").send().await.unwrap();
    let usage = client.last_usage();
    assert_eq!(usage.app.unwrap().call_count, 28);
    assert_eq!(usage.max_percent(), Some(91));
}

#[tokio::test]
async fn the_throttle_spaces_sends_of_one_page() {
    let mock = GraphMock::start().await;
    graph_call("POST", &messages(), PAGE_TOKEN)
        .respond_with(json(200, fixture("send_response")))
        .expect(5)
        .mount(&mock.server)
        .await;
    let client = mock
        .builder()
        .retry(RetryPolicy::none())
        .throttle(Throttle::new(20, 1))
        .build()
        .unwrap();
    let page = client.messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let start = Instant::now();
    let sends = (0..5).map(|_| page.text(Psid::from(PSID), "hi").send());
    for result in futures_util::future::join_all(sends).await {
        result.unwrap();
    }
    // 20 per second without burst: the fifth send waits four intervals of 50 ms.
    assert!(
        start.elapsed() >= Duration::from_millis(195),
        "{:?}",
        start.elapsed()
    );
}
