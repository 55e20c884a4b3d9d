//! The live-event client of a `<target>+sse` run: follows `GET /events` during the load,
//! measures the push latency (from the webhook's 200 to the frame, until it first drops its
//! connection) and, once, drops its connection for two seconds and resumes with
//! `Last-Event-ID`, measuring how long it takes to catch up and checking that no change is
//! skipped or repeated.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::watch;

use crate::serve::API_TOKEN;

/// How long the client stays away when it drops its connection.
const AWAY: Duration = Duration::from_secs(2);

/// When each delivery was answered 200, by its number.
#[derive(Debug, Default)]
pub(crate) struct Acknowledged(Mutex<HashMap<u64, Instant>>);

impl Acknowledged {
    pub(crate) fn record(&self, n: u64) {
        self.lock().insert(n, Instant::now());
    }

    fn at(&self, n: u64) -> Option<Instant> {
        self.lock().get(&n).copied()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Instant>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The number a load-test message id ends with.
pub(crate) fn delivery_number(message_id: &str) -> Option<u64> {
    message_id
        .get(message_id.len().checked_sub(20)?..)?
        .parse()
        .ok()
}

/// What the client saw.
#[derive(Debug, Default)]
pub(crate) struct LiveReport {
    frames: u64,
    messages: u64,
    /// Frames whose id was not the one after the previous frame's.
    gaps: u64,
    /// Message ids stored twice.
    repeats: u64,
    /// From the 200 to the frame, for frames pushed live (not read back after the reconnect).
    latencies_us: Vec<u64>,
    /// Changes read back after the reconnect, and how long until the client was live again.
    resume: Option<(u64, Duration)>,
    error: Option<String>,
}

impl fmt::Display for LiveReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let at = |p: f64| {
            sorted
                .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
                .map_or(0.0, |us| *us as f64 / 1000.0)
        };
        write!(
            f,
            "{} frames, {} message_stored, {} gaps, {} repeats; push latency p50 {:.2} ms, p99 {:.2} ms",
            self.frames,
            self.messages,
            self.gaps,
            self.repeats,
            at(0.5),
            at(0.99)
        )?;
        match self.resume {
            Some((backlog, took)) => write!(
                f,
                "; resumed after {} s away: {backlog} changes caught up in {:.1} ms",
                AWAY.as_secs(),
                took.as_secs_f64() * 1000.0
            )?,
            None => write!(f, "; no resume measured")?,
        }
        if let Some(error) = &self.error {
            write!(f, "; error: {error}")?;
        }
        Ok(())
    }
}

/// The client, running.
pub(crate) struct LiveClient {
    acknowledged: Arc<Acknowledged>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<LiveReport>,
}

impl LiveClient {
    /// Connects to `{base}/events` and follows it; drops the connection once after
    /// `reconnect_after`, if given.
    pub(crate) async fn start(
        base: &str,
        reconnect_after: Option<Duration>,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let acknowledged = Arc::new(Acknowledged::default());
        let (stop, stopped) = watch::channel(false);
        let follower = Follower {
            url: format!("{base}/events"),
            acknowledged: Arc::clone(&acknowledged),
            reconnect_at: reconnect_after.map(|after| Instant::now() + after),
            stopped,
        };
        Ok(Self {
            acknowledged,
            stop,
            task: tokio::spawn(follower.run()),
        })
    }

    pub(crate) fn acknowledged(&self) -> Arc<Acknowledged> {
        Arc::clone(&self.acknowledged)
    }

    /// Stops following, after the frames of the last deliveries had a moment to arrive.
    pub(crate) async fn finish(self) -> LiveReport {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = self.stop.send(true);
        self.task.await.unwrap_or_else(|err| LiveReport {
            error: Some(err.to_string()),
            ..LiveReport::default()
        })
    }
}

struct Follower {
    url: String,
    acknowledged: Arc<Acknowledged>,
    /// When to drop the connection and come back; `None`: stay.
    reconnect_at: Option<Instant>,
    stopped: watch::Receiver<bool>,
}

/// Where the client is in its one reconnect.
enum Phase {
    Before,
    CatchingUp { since: Instant, backlog: u64 },
    Live,
}

impl Follower {
    async fn run(mut self) -> LiveReport {
        let mut report = LiveReport::default();
        let mut last_id: Option<u64> = None;
        let mut seen = std::collections::HashSet::new();
        let mut phase = Phase::Before;
        let client = match meta_messaging_core::graph::http_client_builder() {
            Ok(builder) => match builder.build() {
                Ok(client) => client,
                Err(err) => {
                    report.error = Some(err.to_string());
                    return report;
                }
            },
            Err(err) => {
                report.error = Some(err.to_string());
                return report;
            }
        };
        loop {
            let mut request = client.get(&self.url).bearer_auth(API_TOKEN);
            if let Some(id) = last_id {
                request = request.header("last-event-id", id.to_string());
            }
            let mut stream = match request.send().await {
                Ok(response) if response.status().is_success() => response.bytes_stream(),
                Ok(response) => {
                    report.error = Some(format!("GET /events answered {}", response.status()));
                    return report;
                }
                Err(err) => {
                    report.error = Some(err.to_string());
                    return report;
                }
            };
            let mut buffer = String::new();
            loop {
                let deadline = match (&phase, self.reconnect_at) {
                    (Phase::Before, Some(at)) => tokio::time::Instant::from_std(at),
                    _ => tokio::time::Instant::now() + Duration::from_secs(3600),
                };
                tokio::select! {
                    chunk = stream.next() => {
                        let Some(Ok(chunk)) = chunk else {
                            report.error = Some("the stream ended".to_owned());
                            return report;
                        };
                        buffer.push_str(&String::from_utf8_lossy(&chunk));
                        while let Some(end) = buffer.find("\n\n") {
                            let frame: String = buffer.drain(..end + 2).collect();
                            self.frame(&frame, &mut report, &mut last_id, &mut seen, &mut phase);
                        }
                    }
                    () = tokio::time::sleep_until(deadline) => {
                        drop(stream);
                        tokio::time::sleep(AWAY).await;
                        phase = Phase::CatchingUp { since: Instant::now(), backlog: 0 };
                        break;
                    }
                    _ = self.stopped.changed() => return report,
                }
            }
        }
    }

    fn frame(
        &self,
        frame: &str,
        report: &mut LiveReport,
        last_id: &mut Option<u64>,
        seen: &mut std::collections::HashSet<u64>,
        phase: &mut Phase,
    ) {
        let field = |name: &str| frame.lines().find_map(|l| l.strip_prefix(name));
        let (Some(event), Some(id)) = (field("event: "), field("id: ")) else {
            return;
        };
        let Ok(id) = id.parse::<u64>() else { return };
        if event == "ready" {
            *last_id = Some(id);
            return;
        }
        report.frames += 1;
        if last_id.is_some_and(|last| id != last + 1) {
            report.gaps += 1;
        }
        *last_id = Some(id);
        if let Phase::CatchingUp { backlog, .. } = phase {
            *backlog += 1;
        }
        if event != "message_stored" {
            return;
        }
        let arrived = Instant::now();
        report.messages += 1;
        let n = field("data: ")
            .and_then(|data| serde_json::from_str::<serde_json::Value>(data).ok())
            .and_then(|data| {
                data["message"]["message_id"]
                    .as_str()
                    .and_then(delivery_number)
            });
        let Some(n) = n else { return };
        if !seen.insert(n) {
            report.repeats += 1;
        }
        // A frame can beat the generator's reading of the 200 it follows: that is no delay.
        // Frames read back after the reconnect measure the resume, not the push.
        let acknowledged = self.acknowledged.at(n);
        // Only frames pushed live count: after the reconnect, frames of messages acknowledged
        // while the client was reading its backlog arrive with that backlog, and their delay is
        // the resume's, reported on its own.
        if let Some(at) = acknowledged
            && matches!(phase, Phase::Before)
        {
            report.latencies_us.push(
                u64::try_from(arrived.saturating_duration_since(at).as_micros())
                    .unwrap_or(u64::MAX),
            );
        }
        if let Phase::CatchingUp { since, backlog } = *phase
            && acknowledged.is_none_or(|at| at >= since)
        {
            report.resume = Some((backlog, since.elapsed()));
            *phase = Phase::Live;
        }
    }
}
