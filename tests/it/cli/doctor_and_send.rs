//! `meta-messaging doctor` and `meta-messaging send` against the mock Graph API, in-process.

use std::process::ExitCode;

use serde_json::json;
use wiremock::matchers::body_json;

use crate::support::graph_mock::*;

/// Runs the command with no standard input: (exit code, stdout, stderr).
async fn run(args: &[&str]) -> (ExitCode, String, String) {
    let out = crate::support::cli::run(args, b"").await;
    (out.code, out.stdout, out.stderr)
}

#[tokio::test]
async fn doctor_passes_a_healthy_page() {
    let mock = GraphMock::start().await;
    mount_healthy_page(&mock, fixture("debug_token_page")["data"]["scopes"].clone()).await;
    let (code, out, err) = run(&[
        "doctor",
        "--token",
        PAGE_TOKEN,
        "--app-secret",
        APP_SECRET,
        "--graph-url",
        &mock.uri(),
    ])
    .await;
    assert_eq!(code, ExitCode::SUCCESS, "{out}{err}");
    assert!(
        out.contains("Connection report for Acme Shoes (104417552380421)"),
        "{out}"
    );
    assert!(
        out.contains("[ok]   Instagram account linked to the Page: @acmeshoes"),
        "{out}"
    );
    assert!(
        out.contains("[ok]   App subscribed to the instagram webhook fields"),
        "{out}"
    );
    assert!(out.contains("All checks passed."), "{out}");
    assert!(!out.contains(PAGE_TOKEN) && !out.contains(APP_SECRET));
}

#[tokio::test]
async fn doctor_prints_a_fix_for_each_failure_and_exits_non_zero() {
    let mock = GraphMock::start().await;
    mount_healthy_page(
        &mock,
        json!([
            "pages_messaging",
            "pages_manage_metadata",
            "instagram_basic"
        ]),
    )
    .await;
    let (code, out, _) = run(&[
        "doctor",
        "--token",
        PAGE_TOKEN,
        "--page-id",
        PAGE_ID,
        "--app-secret",
        APP_SECRET,
        "--graph-url",
        &mock.uri(),
    ])
    .await;
    assert_eq!(code, ExitCode::FAILURE);
    assert!(
        out.contains("[FAIL] Instagram permissions granted: missing: instagram_manage_messages"),
        "{out}"
    );
    assert!(
        out.contains("fix: run the OAuth flow again with instagram_manage_messages"),
        "{out}"
    );
    assert!(out.contains("1 check(s) failed."), "{out}");
}

#[tokio::test]
async fn doctor_json_is_machine_readable() {
    let mock = GraphMock::start().await;
    graph_call("GET", "debug_token", PAGE_TOKEN)
        .respond_with(meta_error(
            400,
            190,
            Some(460),
            "Error validating access token: The session has been invalidated",
        ))
        .expect(1)
        .mount(&mock.server)
        .await;
    let (code, out, _) = run(&[
        "doctor",
        "--token",
        PAGE_TOKEN,
        "--json",
        "--graph-url",
        &mock.uri(),
    ])
    .await;
    assert_eq!(code, ExitCode::FAILURE);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["checks"][0]["status"], "fail");
    assert_eq!(report["checks"][0]["error_kind"], "password_changed");
    assert_eq!(report["checks"][0]["fbtrace_id"], "AzFbTrace01");
    assert_eq!(report["checks"][5]["status"], "skipped");
}

#[tokio::test]
async fn send_prints_the_message_id() {
    let mock = GraphMock::start().await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_json(json!({"recipient": {"id": IGSID}, "messaging_type": "RESPONSE", "message": {"attachment": {
            "type": "image", "payload": {"url": "https://cdn.example.com/a.jpg"}}}})))
        .respond_with(json(200, fixture("send_response_instagram")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let args = [
        "send",
        "--token",
        PAGE_TOKEN,
        "--page-id",
        PAGE_ID,
        "--to",
        IGSID,
        "--platform",
        "instagram",
        "--attachment",
        "https://cdn.example.com/a.jpg",
        "--graph-url",
        &mock.uri(),
    ];
    let (code, out, err) = run(&args).await;
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["recipient_id"], IGSID);
    assert!(
        answer["message_id"]
            .as_str()
            .unwrap()
            .starts_with("aWdfZAG1")
    );
}

#[tokio::test]
async fn send_explains_a_graph_error() {
    let mock = GraphMock::start().await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_json(json!({"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "Hi"}})))
        .respond_with(meta_error(400, 10, Some(2018278), "(#10) This message is sent outside of allowed window."))
        .expect(1)
        .mount(&mock.server)
        .await;
    let args = [
        "send",
        "--token",
        PAGE_TOKEN,
        "--page-id",
        PAGE_ID,
        "--to",
        PSID,
        "--text",
        "Hi",
        "--graph-url",
        &mock.uri(),
    ];
    let (code, out, err) = run(&args).await;
    assert_eq!(code, ExitCode::FAILURE);
    assert!(out.is_empty());
    assert!(
        err.starts_with("error: outside_messaging_window\n"),
        "{err}"
    );
    assert!(err.contains("meta: (#10) This message is sent outside of allowed window. (code 10, subcode 2018278, HTTP 400)"), "{err}");
    assert!(err.contains("fbtrace_id: AzFbTrace01"), "{err}");
    assert!(err.contains("cause: More than 24 hours passed"), "{err}");
    assert!(err.contains("fix: Reply within 24 hours"), "{err}");
    assert!(!err.contains(PAGE_TOKEN));
}

#[tokio::test]
async fn send_with_the_app_secret_carries_the_appsecret_proof() {
    let mock = GraphMock::start().await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(wiremock::matchers::query_param(
            "appsecret_proof",
            PAGE_TOKEN_PROOF,
        ))
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&mock.server)
        .await;
    let args = [
        "send",
        "--token",
        PAGE_TOKEN,
        "--app-secret",
        APP_SECRET,
        "--page-id",
        PAGE_ID,
        "--to",
        PSID,
        "--text",
        "Your order shipped",
        "--graph-url",
        &mock.uri(),
    ];
    let (code, _, err) = run(&args).await;
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
}

#[tokio::test]
async fn send_explains_the_real_errors_the_report_quoted() {
    let fixtures = field_fixtures();
    let cases = [
        (
            "window_10_no_subcode_home_assistant",
            "error: outside_messaging_window\n",
            "fix: Reply within 24 hours",
        ),
        (
            "blocked_200_botkit",
            "error: user_unavailable\n",
            "fix: Do not retry and do not reconnect",
        ),
    ];
    for (name, first_line, fix) in cases {
        let case = &fixtures.iter().find(|(n, _)| n == name).unwrap().1;
        let mock = GraphMock::start().await;
        graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
            .respond_with(json(
                case["status"].as_u64().unwrap() as u16,
                case["body"].clone(),
            ))
            .expect(1)
            .mount(&mock.server)
            .await;
        let args = [
            "send",
            "--token",
            PAGE_TOKEN,
            "--page-id",
            PAGE_ID,
            "--to",
            PSID,
            "--text",
            "Hi",
            "--graph-url",
            &mock.uri(),
        ];
        let (code, _, err) = run(&args).await;
        assert_eq!(code, ExitCode::FAILURE);
        assert!(err.starts_with(first_line), "{name}: {err}");
        assert!(err.contains(fix), "{name}: {err}");
    }
}
