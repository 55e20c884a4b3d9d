//! Send throughput of `GraphClient` against a local HTTP server, compared with raw reqwest
//! posting the same body in the same run.
//!
//! Run: `cargo bench -p meta-messaging-core --bench send` (optionally `-- <sends> <rounds>`).
//! Prints sends/s, p50 and p99 latency for both at 64 concurrent sends, and the overhead per
//! send of the client over raw reqwest.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use meta_messaging_core::graph::{GraphClient, RetryPolicy, http_client_builder};
use meta_messaging_core::ids::{PageId, Psid};
use meta_messaging_core::secret::PageAccessToken;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const CONCURRENCY: usize = 64;
const PAGE: &str = "104417552380421";
const TOKEN: &str = "EAAGbench-page-token-0123456789";
const ANSWER: &str = r#"{"recipient_id":"6758492015643287","message_id":"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"}"#;

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawAnswer {
    recipient_id: String,
    message_id: String,
}

/// A minimal HTTP/1.1 keep-alive server that answers every request with the Send API's answer:
/// cheaper than any mock framework, so the client's own cost is what is measured.
async fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut reader = BufReader::new(read);
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{ANSWER}",
                    ANSWER.len()
                );
                let mut line = String::new();
                loop {
                    let mut length = 0usize;
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).await.is_err()
                        || write.write_all(response.as_bytes()).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

struct Run {
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
    }
}

async fn measure<F, Fut>(sends: usize, send: F) -> Run
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let start = Instant::now();
    let latencies = futures_util::stream::iter(0..sends)
        .map(|i| {
            let fut = send(i);
            async move {
                let t = Instant::now();
                fut.await;
                t.elapsed()
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    Run {
        elapsed: start.elapsed(),
        latencies,
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sends = args.first().copied().unwrap_or(20_000);
    let rounds = args.get(1).copied().unwrap_or(5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let base = serve().await;
        let graph = GraphClient::builder()
            .graph_url(&base)
            .http_client(http_client_builder().unwrap().build().unwrap())
            .retry(RetryPolicy::default())
            .build()
            .unwrap();
        let page = graph.messenger(PageId::from(PAGE), PageAccessToken::new(TOKEN));
        let raw = http_client_builder().unwrap().build().unwrap();
        let url = format!("{base}/v23.0/{PAGE}/messages");

        let ours = |_| {
            let page = &page;
            async move {
                page.text(Psid::from("6758492015643287"), "Your order shipped").send().await.unwrap();
            }
        };
        let baseline = |_| {
            let (raw, url) = (&raw, &url);
            async move {
                let body = serde_json::json!({
                    "recipient": {"id": "6758492015643287"},
                    "messaging_type": "RESPONSE",
                    "message": {"text": "Your order shipped"},
                });
                let response = raw.post(url).bearer_auth(TOKEN).json(&body).send().await.unwrap();
                let bytes = response.bytes().await.unwrap();
                let _: RawAnswer = serde_json::from_slice(&bytes).unwrap();
            }
        };

        // Warm both connection pools.
        measure(2_000, &ours).await;
        measure(2_000, &baseline).await;
        let (mut best_ours, mut best_raw): (Option<Run>, Option<Run>) = (None, None);
        let mut ratios = Vec::new();
        for round in 0..rounds {
            // Alternate the order so neither always runs on a warmer machine.
            let (r, o) = if round % 2 == 0 {
                let r = measure(sends, &baseline).await;
                (r, measure(sends, &ours).await)
            } else {
                let o = measure(sends, &ours).await;
                (measure(sends, &baseline).await, o)
            };
            ratios.push(o.elapsed.as_secs_f64() / r.elapsed.as_secs_f64());
            println!(
                "round {round}: raw reqwest {:>8.0} sends/s p99 {:>6.2} ms | GraphClient {:>8.0} sends/s p99 {:>6.2} ms | time ratio {:.3}",
                r.rate(),
                r.percentile(0.99).as_secs_f64() * 1e3,
                o.rate(),
                o.percentile(0.99).as_secs_f64() * 1e3,
                ratios[round]
            );
            if best_raw.as_ref().is_none_or(|b| r.elapsed < b.elapsed) {
                best_raw = Some(r);
            }
            if best_ours.as_ref().is_none_or(|b| o.elapsed < b.elapsed) {
                best_ours = Some(o);
            }
        }
        let (r, o) = (best_raw.unwrap(), best_ours.unwrap());
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        let per_send_us = (o.elapsed.as_secs_f64() - r.elapsed.as_secs_f64()) / sends as f64 * 1e6 * CONCURRENCY as f64;
        println!("\n{sends} sends x {rounds} rounds, {CONCURRENCY} concurrent (best round of each):");
        println!(
            "  raw reqwest : {:>8.0} sends/s, p50 {:.2} ms, p99 {:.2} ms",
            r.rate(),
            r.percentile(0.5).as_secs_f64() * 1e3,
            r.percentile(0.99).as_secs_f64() * 1e3
        );
        println!(
            "  GraphClient : {:>8.0} sends/s, p50 {:.2} ms, p99 {:.2} ms",
            o.rate(),
            o.percentile(0.5).as_secs_f64() * 1e3,
            o.percentile(0.99).as_secs_f64() * 1e3
        );
        println!(
            "  overhead    : median time ratio {median:.3} ({:+.1}%), best-vs-best {:+.1} us of latency per send",
            (median - 1.0) * 100.0,
            per_send_us
        );
        println!("  target      : within 10% of raw reqwest: {}", if median <= 1.10 { "met" } else { "NOT met" });
    });
}
