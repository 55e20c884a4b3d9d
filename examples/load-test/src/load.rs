//! The load generator and the comparison table.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::webhook::{SIGNATURE_HEADER, sign};

use crate::live::{LiveClient, LiveReport};
use crate::serve::{ACCOUNT, SECRET, Spec, Target};

/// What one target did during the measured period.
struct Outcome {
    spec: Spec,
    requests: u64,
    errors: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    rss_start_kib: u64,
    rss_end_kib: u64,
    live: Option<LiveReport>,
    /// With `+media`: the pictures kept by the end of the measured period, and once the
    /// downloads caught up after the load stopped.
    media: Option<crate::media::Kept>,
}

pub(crate) async fn compare(
    targets: &[Spec],
    connections: usize,
    warmup: u64,
    duration: u64,
    sse_stay: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let cdn = match targets.iter().any(|s| s.media) {
        true => Some(crate::media::start_cdn().await?),
        false => None,
    };
    let mut outcomes = Vec::new();
    for &spec in targets {
        let mut server = Server::start(spec)?;
        let times = (warmup, duration, sse_stay);
        let outcome = load(&server, spec, cdn.as_deref(), connections, times).await;
        server.stop();
        outcomes.push(outcome?);
    }
    let baseline = outcomes
        .iter()
        .find(|o| o.spec.target == Target::Minimal)
        .map(|o| o.requests as f64 / o.seconds);
    println!(
        "\n{:<14} {:>10} {:>8} {:>8} {:>8} {:>7} {:>12} {:>12}",
        "target", "req/s", "vs min", "p50 ms", "p99 ms", "errors", "rss start", "rss end"
    );
    for o in &outcomes {
        let rate = o.requests as f64 / o.seconds;
        let ratio = baseline.map_or("-".to_owned(), |b| format!("{:.0}%", 100.0 * rate / b));
        println!(
            "{:<14} {:>10.0} {:>8} {:>8.2} {:>8.2} {:>7} {:>9} KiB {:>9} KiB",
            o.spec.to_string(),
            rate,
            ratio,
            o.p50_ms,
            o.p99_ms,
            o.errors,
            o.rss_start_kib,
            o.rss_end_kib
        );
    }
    for o in &outcomes {
        if let Some(live) = &o.live {
            println!("{:<14} live events: {live}", o.spec.to_string());
        }
        if let Some(kept) = &o.media {
            println!("{:<14} media: {kept}", o.spec.to_string());
        }
    }
    Ok(())
}

/// A target serving in a child process.
struct Server {
    child: Child,
    /// The routes' base URL.
    base: String,
    /// Where it keeps attachments, with `+media`.
    media: Option<PathBuf>,
}

impl Server {
    fn start(spec: Spec) -> Result<Self, Box<dyn std::error::Error>> {
        let mut command = Command::new(std::env::current_exe()?);
        command.args(["serve", spec.target.name()]);
        if spec.media {
            command.arg("--media");
        }
        let mut child = command.stdout(Stdio::piped()).spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut media = None;
        let addr = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| {
                if let Some(dir) = line.strip_prefix("MEDIA ") {
                    media = Some(PathBuf::from(dir));
                }
                line.strip_prefix("LISTENING ").map(str::to_owned)
            })
            .ok_or("the server did not start")?;
        Ok(Self {
            child,
            base: format!("http://{addr}/api/meta"),
            media,
        })
    }

    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }

    fn stop(&mut self) {
        // The server holds nothing that needs a clean shutdown; a failed kill means it is gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One realistic one-message delivery with a unique message id, signed, carrying the picture
/// `{cdn}/{n}.jpg` when a stand-in CDN runs.
/// Its message id ends with `n` in 20 digits ([`crate::live::delivery_number`] reads it back).
fn delivery(n: u64, cdn: Option<&str>) -> (Vec<u8>, String) {
    let attachments = match cdn {
        Some(cdn) => format!(
            r#","attachments":[{{"type":"image","payload":{{"url":"{cdn}/{n}.jpg?_nc_cat=1&oh=00_load&oe=6700000"}}}}]"#
        ),
        None => String::new(),
    };
    let body = format!(
        r#"{{"object":"instagram","entry":[{{"id":"{ACCOUNT}","time":1700000000000,"messaging":[{{"sender":{{"id":"5000000000{:06}"}},"recipient":{{"id":"{ACCOUNT}"}},"timestamp":{},"message":{{"mid":"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAyMjQ5NjA0NjA1OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTgxNzE0OTk3NDc1MTg4NzozMTQ5NTY0NTM1Mjc1NjA3{n:020}","text":"Hi! Is the blue jacket still available in size M?"{attachments}}}}}]}}]}}"#,
        n % 1000,
        1_700_000_000_000_u64 + n
    );
    let signature = sign(&AppSecret::new(SECRET), body.as_bytes());
    (body.into_bytes(), signature)
}

async fn load(
    server: &Server,
    spec: Spec,
    cdn: Option<&str>,
    connections: usize,
    (warmup, duration, sse_stay): (u64, u64, bool),
) -> Result<Outcome, Box<dyn std::error::Error>> {
    eprintln!(
        "loading {spec} with {connections} connections: {warmup} s warm-up, {duration} s measured"
    );
    let live = match spec.sse {
        // The reconnect in the middle of the measured period, unless the client stays.
        true => {
            let reconnect = (!sse_stay).then(|| Duration::from_secs(warmup + duration / 2));
            Some(LiveClient::start(&server.base, reconnect).await?)
        }
        false => None,
    };
    let counter = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..connections {
        // One client per worker, one idle connection each: `connections` keep-alive connections.
        let client = meta_messaging_core::graph::http_client_builder()?
            .pool_max_idle_per_host(1)
            .build()?;
        let (url, counter, measuring, stop, errors, answered) = (
            format!("{}/webhook", server.base),
            counter.clone(),
            measuring.clone(),
            stop.clone(),
            errors.clone(),
            answered.clone(),
        );
        let cdn = cdn.map(str::to_owned);
        let acknowledged = live.as_ref().map(LiveClient::acknowledged);
        workers.push(tokio::spawn(async move {
            let mut latencies_us: Vec<u32> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let (body, signature) = delivery(n, cdn.as_deref());
                let started = Instant::now();
                let ok = client
                    .post(&url)
                    .header(SIGNATURE_HEADER, signature)
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                if ok && let Some(acknowledged) = &acknowledged {
                    acknowledged.record(n);
                }
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        latencies_us
                            .push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies_us
        }));
    }
    tokio::time::sleep(Duration::from_secs(warmup)).await;
    measuring.store(true, Ordering::Relaxed);
    let rss_start_kib = server.rss_kib();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(duration)).await;
    let rss_end_kib = server.rss_kib();
    let kept_under_load = server.media.as_deref().map(crate::media::kept_files);
    measuring.store(false, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await?);
    }
    let media = match (kept_under_load, server.media.as_deref()) {
        (Some(under_load), Some(dir)) => {
            let answered = answered.load(Ordering::Relaxed);
            Some(crate::media::catch_up(dir, answered, under_load).await)
        }
        _ => None,
    };
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |us| f64::from(*us) / 1000.0)
    };
    let live = match live {
        Some(client) => Some(client.finish().await),
        None => None,
    };
    Ok(Outcome {
        spec,
        live,
        media,
        requests: latencies.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        seconds,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        rss_start_kib,
        rss_end_kib,
    })
}
