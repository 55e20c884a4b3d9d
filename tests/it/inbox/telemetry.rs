//! What the inbox records and traces: the `meta_messaging_*` metrics through the `metrics`
//! facade and one span per delivery, Graph call and send, with Meta's `fbtrace_id` and the
//! account and tenant ids, never a token or a message's text.
//!
//! The recorder and the subscriber are set for this test's thread only, and the inbox runs on
//! a current-thread runtime there, so other tests running at the same time record nothing
//! into them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use meta_messaging_core::graph::Throttle;
use meta_messaging_core::ids::{PageId, Psid};
use meta_messaging_core::inbox::{
    EventHandler, HandlerError, HandlerEvent, Inbox, InboxEvent, MediaOptions, SendRequest, Tenancy,
};
use meta_messaging_core::media::{FsMediaStore, MediaDownloader};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, PageAccessToken};
use meta_messaging_core::store::{MessageStore, SqliteStore};
use meta_messaging_core::webhook::{self, DeliveryBuilder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::graph_mock::{
    APP_SECRET, GraphMock, IG_ACCOUNT_ID, IGSID, PAGE_ID, PAGE_TOKEN, PSID, fixture, graph_call,
    json, meta_error,
};
use crate::support::inbox::{connect_accounts, delivery, harness, harness_with, tenant};

/// A span's name and fields.
type SeenSpan = (String, HashMap<String, String>);

/// The spans seen, in the order they were opened.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<SeenSpan>>>);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

/// The index of a span in [`Spans`], kept in the span's extensions.
struct Index(usize);

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut spans = self.0.lock().unwrap();
        spans.push((attrs.metadata().name().to_owned(), fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Index(spans.len() - 1));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let Some(Index(index)) = span.extensions().get::<Index>().map(|i| Index(i.0)) else {
            return;
        };
        values.record(&mut Fields(&mut self.0.lock().unwrap()[index].1));
    }
}

impl Spans {
    fn named(&self, name: &str) -> Vec<HashMap<String, String>> {
        let spans = self.0.lock().unwrap();
        spans
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, fields)| fields.clone())
            .collect()
    }
}

/// The value of one series (`name{label="value",...}`, as Prometheus shows it) in what the
/// recorder renders: what a scrape of `GET /metrics` reads.
fn value(recorder: &PrometheusRecorder, series: &str) -> Option<f64> {
    recorder
        .handle()
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Every series rendered, for failure messages.
fn rendered(recorder: &PrometheusRecorder) -> String {
    recorder.handle().render()
}

/// A Prometheus recorder, not installed: [`with_recorder`] sets it for one thread.
fn recorder() -> PrometheusRecorder {
    PrometheusBuilder::new().build_recorder()
}

/// Runs `test` on a current-thread runtime with `recorder` as this thread's recorder.
fn with_recorder(recorder: &PrometheusRecorder, test: impl std::future::Future<Output = ()>) {
    metrics::with_local_recorder(recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(test);
    });
}

/// Set in the process that runs [`traced_in_a_process_of_its_own`].
const CHILD_ENV: &str = "META_MESSAGING_TELEMETRY_CHILD";

/// The spans are captured in a process of their own: `tracing` caches, per callsite, whether
/// any subscriber wants it, and other tests opening the same spans on other threads while this
/// one installs its subscriber can leave that cache saying "nobody" (seen in full runs).
#[test]
fn deliveries_graph_calls_and_sends_are_counted_and_traced_without_secrets() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "inbox::telemetry::traced_in_a_process_of_its_own",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{stderr}"
    );
}

#[test]
#[ignore = "run by deliveries_graph_calls_and_sends_are_counted_and_traced_without_secrets in a process of its own"]
fn traced_in_a_process_of_its_own() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let recorder = recorder();
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    let text = "my card number is 4242";
    tracing::subscriber::with_default(subscriber, || {
        with_recorder(&recorder, async {
            let h = harness(Tenancy::Single(tenant())).await;
            connect_accounts(h.store.as_ref(), &tenant()).await;
            let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, text);
            h.inbox.receive(Some(&signature), &body).await.unwrap();
            h.inbox.receive(Some(&signature), &body).await.unwrap();
            let forged = format!("sha256={}", "0".repeat(64));
            assert!(h.inbox.receive(Some(&forged), &body).await.is_err());

            graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
                .respond_with(
                    json(200, fixture("send_response"))
                        .insert_header("x-fb-trace-id", "AbCdSent42"),
                )
                .up_to_n_times(1)
                .mount(&h.graph.server)
                .await;
            graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
                .respond_with(meta_error(
                    400,
                    10,
                    Some(2_018_278),
                    "This message is sent outside of allowed window.",
                ))
                .mount(&h.graph.server)
                .await;
            let request =
                SendRequest::text(Platform::Messenger, PAGE_ID, PSID, "Your order shipped");
            h.inbox.send(&tenant(), &request).await.unwrap();
            assert!(h.inbox.send(&tenant(), &request).await.is_err());
        });
    });

    let all = rendered(&recorder);
    for (series, expected) in [
        (
            r#"meta_messaging_webhook_deliveries_total{outcome="stored"}"#,
            1.0,
        ),
        (
            r#"meta_messaging_webhook_deliveries_total{outcome="duplicate"}"#,
            1.0,
        ),
        (
            r#"meta_messaging_webhook_deliveries_total{outcome="refused_signature"}"#,
            1.0,
        ),
        (
            r#"meta_messaging_webhook_signature_failures_total{reason="mismatch"}"#,
            1.0,
        ),
        (
            r#"meta_messaging_webhook_events_total{platform="messenger",kind="message"}"#,
            2.0,
        ),
        (
            r#"meta_messaging_sends_total{platform="messenger",outcome="stored"}"#,
            1.0,
        ),
        (
            r#"meta_messaging_sends_total{platform="messenger",outcome="graph_error"}"#,
            1.0,
        ),
        (
            r#"meta_messaging_graph_calls_total{endpoint="{id}/messages",outcome="ok",error_kind=""}"#,
            1.0,
        ),
    ] {
        assert_eq!(
            value(&recorder, series),
            Some(expected),
            "{series} in\n{all}"
        );
    }
    assert!(
        all.contains(r#"meta_messaging_graph_calls_total{endpoint="{id}/messages",outcome="error",error_kind="#),
        "{all}"
    );
    for line in all.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        assert!(line.starts_with("meta_messaging_"), "{line}");
        assert!(!line.contains(PSID), "a customer id as a label: {line}");
    }

    let deliveries = spans.named("webhook.delivery");
    assert_eq!(deliveries.len(), 3, "{deliveries:?}");
    let outcomes: Vec<&str> = deliveries.iter().map(|d| d["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["stored", "duplicate", "refused_signature"]);
    assert_eq!(deliveries[0]["account_id"], PAGE_ID);
    assert_eq!(deliveries[0]["tenant_id"], tenant().as_str());

    let calls = spans.named("graph.call");
    let sends: Vec<_> = calls
        .iter()
        .filter(|c| c["endpoint"] == "{id}/messages")
        .collect();
    assert_eq!(sends.len(), 2, "{calls:?}");
    assert_eq!(sends[0]["fbtrace_id"], "AbCdSent42");
    assert_eq!(sends[0]["status"], "200");
    assert_eq!(sends[0]["account_id"], PAGE_ID);
    assert_eq!(sends[1]["fbtrace_id"], "AzFbTrace01");
    assert!(sends[1].contains_key("error_kind"), "{:?}", sends[1]);

    let sent = spans.named("inbox.send");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["outcome"], "stored");
    assert_eq!(sent[0]["tenant_id"], tenant().as_str());
    assert_eq!(sent[0]["account_id"], PAGE_ID);
    assert_eq!(sent[1]["outcome"], "graph_error");
    assert_eq!(sent[1]["fbtrace_id"], "AzFbTrace01");

    let all = spans.0.lock().unwrap();
    for (name, fields) in all.iter() {
        for value in fields.values() {
            assert!(
                !value.contains(PAGE_TOKEN) && !value.contains(text),
                "{name} carries a secret or a message: {fields:?}"
            );
        }
    }
}

/// Does nothing with the events it is given.
struct Quiet;

#[async_trait::async_trait]
impl EventHandler for Quiet {
    fn name(&self) -> &str {
        "quiet"
    }

    async fn handle(&self, _: &Inbox, _: &HandlerEvent) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[test]
fn retries_usage_throttle_streams_handlers_and_media_are_recorded() {
    let recorder = recorder();
    with_recorder(&recorder, async {
        // A Graph read retried after a 500, answered with Meta's usage headers; a throttled send.
        let graph = GraphMock::start().await;
        graph_call("GET", PAGE_ID, PAGE_TOKEN)
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(1)
            .mount(&graph.server)
            .await;
        let usage = json!({ PAGE_ID: [{"type": "messenger", "call_count": 41, "total_cputime": 3,
            "total_time": 7, "estimated_time_to_regain_access": 0}] });
        graph_call("GET", PAGE_ID, PAGE_TOKEN)
            .respond_with(
                json(200, fixture("page_with_instagram"))
                    .insert_header(
                        "x-app-usage",
                        r#"{"call_count":12,"total_cputime":2,"total_time":3}"#,
                    )
                    .insert_header("x-business-use-case-usage", usage.to_string().as_str()),
            )
            .mount(&graph.server)
            .await;
        graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
            .respond_with(json(200, fixture("send_response")))
            .mount(&graph.server)
            .await;
        let client = graph
            .builder()
            .throttle(Throttle::per_second(1_000))
            .build()
            .unwrap();
        let page = client.messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN));
        page.page_info().await.unwrap();
        page.text(Psid::new(PSID), "Thanks!").send().await.unwrap();

        // A live stream opened and closed; a handler that catches up; a picture kept and an
        // expired one refused.
        let cdn = MockServer::start().await;
        let picture = vec![7_u8; 1_500];
        Mock::given(method("GET"))
            .and(path("/x/photo.jpg"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(picture.clone(), "image/jpeg"))
            .mount(&cdn)
            .await;
        Mock::given(method("GET"))
            .and(path("/x/gone.jpg"))
            .respond_with(ResponseTemplate::new(403))
            .mount(&cdn)
            .await;
        let dir = tempfile::tempdir().unwrap();
        let http = meta_messaging_core::graph::http_client_builder()
            .unwrap()
            .build()
            .unwrap();
        let media = MediaOptions::new(FsMediaStore::new(dir.path()).unwrap())
            .downloader(MediaDownloader::new(http).retry_delay(Duration::from_millis(10)));
        let h = harness_with(Tenancy::Single(tenant()), |b| b.media(media).handler(Quiet)).await;
        connect_accounts(h.store.as_ref(), &tenant()).await;
        let mut live = h.inbox.subscribe(&tenant()).await.unwrap();
        assert_eq!(
            value(&recorder, "meta_messaging_sse_subscribers"),
            Some(1.0)
        );
        let url = |p: &str| format!("{}{p}", cdn.uri());
        let body = DeliveryBuilder::new(Platform::Instagram, IG_ACCOUNT_ID)
            .messaging_event(json!({
                "sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT_ID}, "timestamp": 1_733_412_999_000_i64,
                "message": {"mid": "aWdfZAG1faXRlbTptZXRyaWNz", "attachments": [
                    {"type": "image", "payload": {"url": url("/x/photo.jpg")}},
                    {"type": "image", "payload": {"url": url("/x/gone.jpg")}},
                ]}
            }))
            .build();
        let signature = webhook::sign(&AppSecret::new(APP_SECRET), &body);
        h.inbox.receive(Some(&signature), &body).await.unwrap();
        loop {
            let event = tokio::time::timeout(Duration::from_secs(5), live.next())
                .await
                .expect("the kept picture announced within 5 s")
                .expect("open");
            if let InboxEvent::MessageUpdated { message } = &event.event
                && message.attachments.iter().any(|a| a.stored)
            {
                break;
            }
        }
        drop(live);
        assert_eq!(
            value(&recorder, "meta_messaging_sse_subscribers"),
            Some(0.0)
        );
        let lag = r#"meta_messaging_handler_lag_events{handler="quiet"}"#;
        let caught_up = tokio::time::timeout(Duration::from_secs(5), async {
            while value(&recorder, lag) != Some(0.0) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(caught_up.is_ok(), "{lag} in\n{}", rendered(&recorder));
    });

    let all = rendered(&recorder);
    for (series, expected) in [
        (
            r#"meta_messaging_graph_retries_total{endpoint="{id}"}"#,
            1.0,
        ),
        (
            r#"meta_messaging_graph_calls_total{endpoint="{id}",outcome="ok",error_kind=""}"#,
            1.0,
        ),
        (
            r#"meta_messaging_media_downloads_total{outcome="kept"}"#,
            1.0,
        ),
        (
            r#"meta_messaging_media_downloads_total{outcome="refused"}"#,
            1.0,
        ),
        ("meta_messaging_media_download_bytes_total", 1_500.0),
        (
            &format!(
                r#"meta_messaging_graph_rate_limit_usage_percent{{scope="messenger",account="{PAGE_ID}"}}"#
            ),
            41.0,
        ),
        (
            r#"meta_messaging_graph_rate_limit_usage_percent{scope="app",account=""}"#,
            12.0,
        ),
        ("meta_messaging_graph_throttle_wait_seconds_count", 1.0),
        (
            r#"meta_messaging_graph_call_seconds_count{endpoint="{id}"}"#,
            2.0,
        ),
    ] {
        assert_eq!(
            value(&recorder, series),
            Some(expected),
            "{series} in\n{all}"
        );
    }
}

#[test]
fn group_commits_and_database_errors_are_recorded() {
    let recorder = recorder();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inbox.db");
    with_recorder(&recorder, async {
        let store = SqliteStore::open(&file).await.unwrap();
        let (body, _) = delivery(Platform::Messenger, PAGE_ID, PSID, "hello");
        let events: Vec<_> = webhook::parse(&body)
            .unwrap()
            .into_iter()
            .map(|event| meta_messaging_core::store::TenantEvent::new(tenant(), event))
            .collect();
        store.apply(&events).await.unwrap();
        // Another process breaks the database under the store: its next read fails.
        let url = format!("sqlite://{}", file.display());
        let mut other = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query("DROP TABLE unrouted_events")
            .execute(&mut other)
            .await
            .unwrap();
        assert!(
            store
                .unrouted_count(Platform::Messenger, &PAGE_ID.into())
                .await
                .is_err()
        );
    });
    let all = rendered(&recorder);
    for (series, at_least) in [
        ("meta_messaging_store_batch_size_count", 1.0),
        ("meta_messaging_store_batch_size_sum", 1.0),
        (
            r#"meta_messaging_store_commit_seconds_count{outcome="ok"}"#,
            1.0,
        ),
        (
            r#"meta_messaging_store_errors_total{operation="counting unrouted events"}"#,
            1.0,
        ),
    ] {
        let found = value(&recorder, series);
        assert!(
            found.is_some_and(|v| v >= at_least),
            "{series}: {found:?} in\n{all}"
        );
    }
}
