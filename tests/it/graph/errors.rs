//! Meta's errors: classified, with the catalog's fix, secrets never shown.

use meta_messaging_core::graph::{ErrorKind, GraphError, RetryPolicy, catalog};
use meta_messaging_core::ids::{PageId, Psid};
use meta_messaging_core::secret::PageAccessToken;
use serde_json::Value;
use wiremock::ResponseTemplate;

use crate::support::graph_mock::*;

#[tokio::test]
async fn every_catalog_entry_is_classified_from_meta_s_error_shape() {
    let fixtures = fixture("errors");
    let fixtures = fixtures.as_array().unwrap();
    let key = |error: &Value| {
        (
            error["code"].as_i64().unwrap(),
            error["error_subcode"].as_i64(),
        )
    };
    let message = |error: &Value| error["message"].as_str().unwrap().to_owned();
    let entry_of = |error: &Value| {
        let (code, subcode) = key(error);
        catalog::lookup_error(code, subcode, &[&message(error)])
    };
    // errors.json covers the entries matched by numbers; the real bodies of field/ cover
    // those Meta's text picks.
    let field = field_fixtures();
    for entry in catalog::CATALOG {
        assert!(
            fixtures
                .iter()
                .chain(field.iter().map(|(_, case)| case))
                .any(|f| entry_of(&f["body"]["error"]).is_some_and(|e| std::ptr::eq(e, entry))),
            "no fixture in errors.json or field/ for catalog entry {} / {:?} / {:?}",
            entry.code,
            entry.subcode,
            entry.text
        );
    }

    let mock = GraphMock::start().await;
    let client = mock.builder().retry(RetryPolicy::none()).build().unwrap();
    let page = client.messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    for (i, case) in fixtures.iter().enumerate() {
        let psid = format!("9{i:015}");
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
        let wire = &case["body"]["error"];
        let (code, subcode) = key(wire);
        let entry = entry_of(wire).unwrap();
        assert_eq!(
            (entry.code, entry.subcode),
            (code, subcode),
            "fixture {i} has an entry of its own"
        );

        let err = page
            .text(Psid::from(psid.as_str()), "hello")
            .send()
            .await
            .unwrap_err();
        let api = err
            .meta_error()
            .unwrap_or_else(|| panic!("fixture {i}: not an API error: {err}"));
        assert_eq!(api.code, code);
        assert_eq!(api.error_subcode, subcode);
        assert_eq!(api.status, case["status"].as_u64().unwrap() as u16);
        assert_eq!(api.message, wire["message"].as_str().unwrap());
        assert_eq!(api.error_type.as_deref(), wire["type"].as_str());
        assert_eq!(api.fbtrace_id.as_deref(), wire["fbtrace_id"].as_str());
        assert_eq!(api.is_transient, wire["is_transient"].as_bool());
        assert_eq!(
            api.error_user_msg.as_deref(),
            wire["error_user_msg"].as_str()
        );
        assert_eq!(err.kind(), entry.kind, "{code}/{subcode:?}");
        assert_eq!(err.fix(), entry.fix);
        let shown = err.to_string();
        assert!(shown.contains(&format!("Fix: {}", entry.fix)), "{shown}");
        assert!(
            shown.contains(wire["fbtrace_id"].as_str().unwrap()),
            "{shown}"
        );
        assert!(shown.starts_with(entry.kind.as_str()), "{shown}");
    }
}

#[tokio::test]
async fn the_three_errors_of_the_seed_system_say_what_to_do() {
    let cases = [
        (
            3,
            None,
            ErrorKind::AppCapabilityMissing,
            ["instagram_manage_messages", "App Review"],
        ),
        (
            190,
            None,
            ErrorKind::TokenInvalid,
            ["GET /debug_token", "through the Facebook Page"],
        ),
        (
            100,
            Some(2018001),
            ErrorKind::UserNotFound,
            ["Message only", "wrote to the Page first"],
        ),
    ];
    let mock = GraphMock::start().await;
    let client = mock.builder().retry(RetryPolicy::none()).build().unwrap();
    let page = client.messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    for (i, (code, subcode, kind, words)) in cases.into_iter().enumerate() {
        let psid = format!("8{i:015}");
        graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
            .and(wiremock::matchers::body_partial_json(
                serde_json::json!({"recipient": {"id": psid}}),
            ))
            .respond_with(meta_error(400, code, subcode, "as Meta says it"))
            .expect(1)
            .mount(&mock.server)
            .await;
        let err = page
            .text(Psid::from(psid.as_str()), "hi")
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind);
        for word in words {
            assert!(
                err.to_string().contains(word),
                "{word:?} missing from: {err}"
            );
        }
    }
}

#[tokio::test]
async fn a_proxy_s_html_error_keeps_its_status_and_a_body_prefix() {
    let mock = GraphMock::start().await;
    let html = format!(
        "<html><body><h1>502 Bad Gateway</h1>{}</body></html>",
        "x".repeat(2000)
    );
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .respond_with(ResponseTemplate::new(502).set_body_string(html))
        .expect(1) // a send is not repeated after an ambiguous 502
        .mount(&mock.server)
        .await;
    let page = mock
        .client()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let err = page.text(Psid::from(PSID), "hi").send().await.unwrap_err();
    match &err {
        GraphError::Http {
            status,
            body_prefix,
        } => {
            assert_eq!(*status, 502);
            assert!(body_prefix.starts_with("<html><body><h1>502 Bad Gateway"));
            assert!(body_prefix.len() <= 512);
        }
        other => panic!("expected Http, got {other:?}"),
    }
    assert_eq!(err.kind(), ErrorKind::TemporarilyUnavailable);
    assert_eq!(err.status(), Some(502));
}

#[tokio::test]
async fn tokens_never_appear_in_errors_even_when_meta_echoes_them() {
    let mock = GraphMock::start().await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .respond_with(meta_error(
            400,
            190,
            None,
            &format!("Malformed access token {PAGE_TOKEN}"),
        ))
        .expect(1)
        .mount(&mock.server)
        .await;
    let page = mock
        .client()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
    let err = page.text(Psid::from(PSID), "hi").send().await.unwrap_err();
    let shown = format!("{err} {err:?} {page:?}");
    assert!(!shown.contains(PAGE_TOKEN), "{shown}");
    assert!(
        shown.contains("Malformed access token [REDACTED]"),
        "{shown}"
    );

    // A transport error (nothing listening) carries no URL and no token either.
    let dead = meta_messaging_core::graph::GraphClient::builder()
        .graph_url("http://127.0.0.1:9")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = dead
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
        .text(Psid::from(PSID), "hi")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    let shown = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
    // The connect error names the socket address, never the URL (path and query) of the call.
    assert!(
        !shown.contains(PAGE_TOKEN) && !shown.contains("/v23.0/"),
        "{shown}"
    );
    assert!(matches!(
        err,
        GraphError::Transport {
            may_have_been_delivered: false,
            ..
        }
    ));
}
