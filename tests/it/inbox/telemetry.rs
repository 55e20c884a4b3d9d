//! What the inbox records and traces: the `meta_messaging_*` metrics through the `metrics`
//! facade and one span per delivery, Graph call and send, with Meta's `fbtrace_id` and the
//! account and tenant ids, never a token or a message's text.
//!
//! The recorder and the subscriber are set for this test's thread only, and the inbox runs on
//! a current-thread runtime there, so other tests running at the same time record nothing
//! into them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use meta_messaging_core::inbox::{SendRequest, Tenancy};
use meta_messaging_core::platform::Platform;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

use crate::support::graph_mock::{
    PAGE_ID, PAGE_TOKEN, PSID, fixture, graph_call, json, meta_error,
};
use crate::support::inbox::{connect_accounts, delivery, harness, tenant};

/// The spans seen: name and fields, in the order they were opened.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<(String, HashMap<String, String>)>>>);

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

/// The counters recorded, as `name{label=value,...}` -> value.
fn counters(recorder: &DebuggingRecorder) -> HashMap<String, u64> {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| {
            let DebugValue::Counter(count) = value else {
                return None;
            };
            let key = key.key();
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            Some((format!("{}{{{}}}", key.name(), labels.join(",")), count))
        })
        .collect()
}

#[test]
fn deliveries_graph_calls_and_sends_are_counted_and_traced_without_secrets() {
    let recorder = DebuggingRecorder::new();
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    let text = "my card number is 4242";
    tracing::subscriber::with_default(subscriber, || {
        metrics::with_local_recorder(&recorder, || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
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
    });

    let counted = counters(&recorder);
    for (key, value) in [
        ("meta_messaging_webhook_deliveries_total{outcome=stored}", 1),
        (
            "meta_messaging_webhook_deliveries_total{outcome=duplicate}",
            1,
        ),
        (
            "meta_messaging_webhook_deliveries_total{outcome=refused_signature}",
            1,
        ),
        (
            "meta_messaging_webhook_signature_failures_total{reason=mismatch}",
            1,
        ),
        (
            "meta_messaging_webhook_events_total{platform=messenger,kind=message}",
            2,
        ),
        (
            "meta_messaging_sends_total{platform=messenger,outcome=stored}",
            1,
        ),
        (
            "meta_messaging_sends_total{platform=messenger,outcome=graph_error}",
            1,
        ),
        (
            "meta_messaging_graph_calls_total{endpoint={id}/messages,outcome=ok,error_kind=}",
            1,
        ),
    ] {
        assert_eq!(counted.get(key), Some(&value), "{key} in {counted:#?}");
    }
    let failed = counted.iter().find(|(k, _)| {
        k.starts_with(
            "meta_messaging_graph_calls_total{endpoint={id}/messages,outcome=error,error_kind=",
        )
    });
    assert!(failed.is_some(), "{counted:#?}");
    for key in counted.keys() {
        assert!(key.starts_with("meta_messaging_"), "{key}");
        assert!(!key.contains(PSID), "a customer id as a label: {key}");
    }

    let deliveries = spans.named("webhook.delivery");
    assert_eq!(deliveries.len(), 3, "{deliveries:?}");
    let outcomes: Vec<&str> = deliveries.iter().map(|d| d["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["stored", "duplicate", "refused"]);
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
