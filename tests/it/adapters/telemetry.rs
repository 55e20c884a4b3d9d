//! The examples' logs, traces and metrics, run as processes: JSON log lines with
//! `LOG_FORMAT=json`, spans exported over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT`, and the
//! Prometheus metrics behind the API token, or on `META_METRICS_BIND` without it.

use std::process::Command;
use std::time::{Duration, Instant};

use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::webhook::{DeliveryBuilder, SIGNATURE_HEADER};
use serde_json::Value;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::servers::client;

use super::shutdown::{
    ACCOUNT, ACTIX_BASIC_HOST, API_TOKEN, AXUM_BASIC_HOST, Host, SECRET, start_host_with,
};

/// Posts one signed delivery of one Instagram message; returns the answer's status.
async fn deliver(base: &str, text: &str) -> u16 {
    let builder = DeliveryBuilder::new(Platform::Instagram, ACCOUNT);
    let mid = builder.new_message_id();
    let (body, signature) = builder
        .message(
            "5000000000000042",
            serde_json::json!({"mid": mid, "text": text}),
        )
        .signed(&AppSecret::new(SECRET));
    client()
        .post(format!("{base}/api/meta/webhook"))
        .header(SIGNATURE_HEADER, signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// SIGTERM, then waits for a clean exit.
async fn stop(mut host: Host) {
    let killed = Command::new("kill")
        .args(["-TERM", &host.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    loop {
        if let Some(status) = host.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "no exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_basic_logs_json_exports_spans_and_serves_metrics_behind_the_token() {
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .and(header("content-type", "application/x-protobuf"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&collector)
        .await;
    let host = start_host_with(
        AXUM_BASIC_HOST,
        "memory",
        &[
            ("LOG_FORMAT", "json"),
            ("RUST_LOG", "info"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.uri()),
        ],
    );
    let base = format!("http://{}", host.addr);
    let text = "a secret the logs must not show";
    assert_eq!(deliver(&base, text).await, 200);
    let refused = client()
        .post(format!("{base}/api/meta/webhook"))
        .header(SIGNATURE_HEADER, format!("sha256={}", "0".repeat(64)))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let metrics_url = format!("{base}/api/meta/metrics");
    let anonymous = client().get(&metrics_url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "the metrics need the API token");
    let metrics = client()
        .get(&metrics_url)
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let metrics = metrics.text().await.unwrap();
    for line in [
        "# HELP meta_messaging_webhook_deliveries_total Webhook deliveries.",
        "meta_messaging_webhook_deliveries_total{outcome=\"stored\"} 1",
        "meta_messaging_webhook_deliveries_total{outcome=\"refused_signature\"} 1",
        "meta_messaging_webhook_signature_failures_total{reason=\"mismatch\"} 1",
        "meta_messaging_webhook_events_total{platform=\"instagram\",kind=\"message\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} missing from\n{metrics}");
    }
    stop(host_with_output_check(host, text)).await;

    // The spans left before the process exited: the delivery's among them.
    let exports = collector.received_requests().await.unwrap();
    assert!(!exports.is_empty(), "no spans were exported");
    let names: Vec<u8> = exports.iter().flat_map(|r| r.body.clone()).collect();
    let found = |needle: &str| names.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(
        found("webhook.delivery"),
        "the delivery's span was not exported"
    );
    assert!(found("axum-basic"), "the service name was not exported");
    assert!(!found(text), "a message's text reached the spans");
}

/// Checks the host's log lines so far: JSON objects with a level and a message, the
/// delivery's span with its account, no message text; returns the host.
fn host_with_output_check(host: Host, text: &str) -> Host {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let lines = host.output.lock().unwrap().clone();
        let logs: Vec<Value> = lines
            .iter()
            .filter(|line| line.starts_with('{'))
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
            .collect();
        let refused = logs.iter().find(|l| {
            l["level"] == "WARN"
                && l["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("webhook delivery refused"))
        });
        if let Some(refused) = refused {
            assert_eq!(refused["span"]["name"], "webhook.delivery", "{refused}");
            assert!(logs.iter().all(|l| l["timestamp"].is_string()));
            assert!(!lines.iter().any(|l| l.contains(text)), "{lines:?}");
            return host;
        }
        assert!(
            Instant::now() < deadline,
            "no JSON line for the refused delivery in {lines:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_basic_serves_metrics_on_their_own_address_with_meta_metrics_bind() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let host = start_host_with(ACTIX_BASIC_HOST, "memory", &[("META_METRICS_BIND", &bind)]);
    let base = format!("http://{}", host.addr);
    assert_eq!(deliver(&base, "hello").await, 200);

    let metrics = client()
        .get(format!("http://{bind}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200, "the scraper needs no token there");
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("meta_messaging_webhook_deliveries_total{outcome=\"stored\"} 1"),
        "{metrics}"
    );
    // Not also under the inbox routes.
    let routes = client()
        .get(format!("{base}/api/meta/metrics"))
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(routes.status(), 404);
    let body: Value = routes.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "metrics_unavailable");
    stop(host).await;
}
