//! SIGTERM in the middle of a webhook load, sent to the axum-basic and actix-basic examples
//! running as processes (the test binary runs itself again as the host: the ignored tests
//! below, which only these tests start, call the examples' `run`, signal handling included).
//!
//! What must hold: the listener closes at once (a new connection is refused) while the
//! requests in flight finish and are answered 200; every delivery answered 200 is in the
//! store; the live stream ends with a `retry:` hint; no request fails before the listener has
//! closed; the process exits 0, well within its shutdown timeout.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use meta_messaging_core::ids::{MessageId, TenantId};
use meta_messaging_core::inbox::DEFAULT_TENANT;
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::store::{MessageStore, SqliteStore};
use meta_messaging_core::webhook::{DeliveryBuilder, SIGNATURE_HEADER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

const CHILD_ENV: &str = "META_MESSAGING_SHUTDOWN_CHILD";
pub(super) const SECRET: &str = "shutdown-test-secret";
pub(super) const API_TOKEN: &str = "shutdown-test-api-token-0123456789";
pub(super) const ACCOUNT: &str = "17841400000000000";
/// The host's `META_SHUTDOWN_TIMEOUT_SECS`: the test expects it to exit long before.
const SHUTDOWN_TIMEOUT_SECS: u64 = 20;

/// The axum-basic example as the shutdown tests start it; does nothing otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "started by the shutdown tests as a child process"]
async fn axum_basic_host() {
    if std::env::var(CHILD_ENV).is_err() {
        return;
    }
    axum_basic::run().await.unwrap();
}

/// The actix-basic example as the shutdown tests start it; does nothing otherwise.
#[test]
#[ignore = "started by the shutdown tests as a child process"]
fn actix_basic_host() {
    if std::env::var(CHILD_ENV).is_err() {
        return;
    }
    actix_web::rt::System::new()
        .block_on(actix_basic::run())
        .unwrap();
}

pub(super) struct Host {
    pub(super) child: Child,
    pub(super) addr: SocketAddr,
    /// What the host printed after its address, line by line.
    pub(super) output: Arc<std::sync::Mutex<Vec<String>>>,
}

/// The ignored test that runs axum-basic as a host.
pub(super) const AXUM_BASIC_HOST: &str = "adapters::shutdown::axum_basic_host";
/// The ignored test that runs actix-basic as a host.
pub(super) const ACTIX_BASIC_HOST: &str = "adapters::shutdown::actix_basic_host";

fn start_host(test: &str, store: &str) -> Host {
    start_host_with(test, store, &[])
}

/// Starts the example of `test` with the shutdown tests' configuration, `store` and `env`.
pub(super) fn start_host_with(test: &str, store: &str, env: &[(&str, &str)]) -> Host {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // Only this test's configuration: none of the environment's META_* settings.
    for (name, _) in std::env::vars() {
        if name.starts_with("META_") {
            command.env_remove(name);
        }
    }
    command
        .env(CHILD_ENV, "1")
        .env("META_APP_SECRET", SECRET)
        .env("META_VERIFY_TOKEN", "shutdown-verify")
        .env("META_STORE", store)
        .env("META_API_TOKEN", API_TOKEN)
        .env(
            "META_SHUTDOWN_TIMEOUT_SECS",
            SHUTDOWN_TIMEOUT_SECS.to_string(),
        )
        .env("BIND", "127.0.0.1:0");
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let (_, rest) = line.split_once("listening on http://")?;
            rest.split('/').next()?.parse().ok()
        })
        .expect("the host printed its address");
    // Keep reading, so a full pipe never blocks the host.
    let output = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = Arc::clone(&output);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    Host {
        child,
        addr,
        output,
    }
}

/// One signed delivery of one Instagram message, and its id.
fn delivery(i: usize) -> (MessageId, Vec<u8>, String) {
    let builder = DeliveryBuilder::new(Platform::Instagram, ACCOUNT);
    let mid = builder.new_message_id();
    let (body, signature) = builder
        .message(
            format!("50000000000{:05}", i % 97),
            serde_json::json!({"mid": mid, "text": format!("shutdown test {i}")}),
        )
        .signed(&AppSecret::new(SECRET));
    (mid, body, signature)
}

fn request_head(addr: SocketAddr, signature: &str, length: usize) -> String {
    format!(
        "POST /api/meta/webhook HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         {SIGNATURE_HEADER}: {signature}\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// Reads one HTTP/1.1 response with a `Content-Length` and returns its status.
async fn read_response(stream: &mut TcpStream) -> u16 {
    let mut received = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.expect("the response");
        assert!(n > 0, "connection closed before a response: {received:?}");
        received.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&received).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return text[9..12].parse().expect("a status code");
            }
        }
    }
}

/// A delivery on a connection the host has accepted (it answered a first one), its headers
/// and half its body sent: in flight when the signal comes.
struct InFlight {
    stream: TcpStream,
    mid: MessageId,
    rest: Vec<u8>,
}

async fn in_flight(addr: SocketAddr, i: usize) -> (MessageId, InFlight) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (first, body, signature) = delivery(i);
    stream
        .write_all(request_head(addr, &signature, body.len()).as_bytes())
        .await
        .unwrap();
    stream.write_all(&body).await.unwrap();
    assert_eq!(read_response(&mut stream).await, 200);
    let (mid, body, signature) = delivery(i + 1);
    stream
        .write_all(request_head(addr, &signature, body.len()).as_bytes())
        .await
        .unwrap();
    let half = body.len() / 2;
    stream.write_all(&body[..half]).await.unwrap();
    let rest = body[half..].to_vec();
    (first, InFlight { stream, mid, rest })
}

/// How a load request ended.
#[derive(Debug)]
enum Failure {
    /// No connection: the listener is gone.
    Refused,
    /// Anything else (a reset, a connection closed mid-request, a status other than 200).
    Other(String),
}

/// An error and its causes, one line.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn sigterm_under_load(test: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shutdown.db");
    let host = start_host(test, &format!("sqlite://{}", db.display()));
    let base = format!("http://{}/api/meta", host.addr);
    let mut child = host.child;

    // A live stream, open until the host tells it to reconnect.
    let authorized = crate::support::http::client();
    let events = authorized
        .get(format!("{base}/events"))
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let mut events = events.bytes_stream();
    let ready = events.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&ready).contains("event: ready"));

    // Deliveries in flight across the signal.
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let mut slow = Vec::new();
    for n in 0..4 {
        let (first, request) = in_flight(host.addr, 10_000 + 2 * n).await;
        acked.lock().await.insert(first);
        slow.push(request);
    }

    // The load: 16 senders on pooled connections, each stopping at its first failure.
    let all: Arc<Vec<_>> = Arc::new((0..6_000).map(delivery).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<(Instant, Failure)>::new()));
    let client = crate::support::http::client();
    let mut senders = Vec::new();
    for _ in 0..16 {
        let (all, acked, next, failures, client) = (
            all.clone(),
            acked.clone(),
            next.clone(),
            failures.clone(),
            client.clone(),
        );
        let url = format!("{base}/webhook");
        senders.push(tokio::spawn(async move {
            while let Some((mid, body, signature)) = all.get(next.fetch_add(1, Ordering::SeqCst)) {
                let sent = client
                    .post(&url)
                    .header(SIGNATURE_HEADER, signature)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let failure = match sent {
                    Ok(response) if response.status() == 200 => {
                        acked.lock().await.insert(mid.clone());
                        continue;
                    }
                    Ok(response) => Failure::Other(format!("status {}", response.status())),
                    Err(err) if err.is_connect() => Failure::Refused,
                    Err(err) => Failure::Other(chain(&err)),
                };
                failures.lock().await.push((Instant::now(), failure));
                return;
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().await.len() < 300 {
        assert!(Instant::now() < deadline, "too few deliveries acknowledged");
        assert!(child.try_wait().unwrap().is_none(), "the host died");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        failures.lock().await.is_empty(),
        "requests failed before the signal: {:?}",
        failures.lock().await
    );

    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    // The listener closes at once...
    let closed = loop {
        match TcpStream::connect(host.addr).await {
            // A connection caught in the backlog of the listener as it closes is reset.
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                break Instant::now();
            }
            Err(err) => panic!("connecting while shutting down: {err}"),
            Ok(_) => {
                assert!(
                    signalled.elapsed() < Duration::from_secs(3),
                    "still accepting 3 s after SIGTERM"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    assert!(
        child.try_wait().unwrap().is_none(),
        "the host exited with requests in flight"
    );
    // ...while the requests in flight are still served to the end.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for mut request in slow {
        request.stream.write_all(&request.rest).await.unwrap();
        assert_eq!(
            read_response(&mut request.stream).await,
            200,
            "a delivery in flight at SIGTERM"
        );
        acked.lock().await.insert(request.mid);
    }

    // The live stream ends with a reconnect hint.
    let mut tail = String::new();
    tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = events.next().await {
            tail.push_str(&String::from_utf8_lossy(
                &chunk.expect("a clean end of stream"),
            ));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the live stream stayed open: {tail:?}"));
    assert!(tail.contains("retry: "), "no retry hint: {tail:?}");

    // The host exits 0, well within its timeout.
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(SHUTDOWN_TIMEOUT_SECS / 2),
            "the host did not exit within {} s of SIGTERM",
            SHUTDOWN_TIMEOUT_SECS / 2
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");
    for sender in senders {
        sender.await.unwrap();
    }

    // Failures only once the listener had closed: refused connections, or connections the
    // host closed as it stopped (never one of a request it had started to answer).
    let failures = failures.lock().await;
    let slack = Duration::from_millis(100);
    for (at, failure) in failures.iter() {
        assert!(
            matches!(failure, Failure::Refused) || *at + slack >= closed,
            "{failure:?} {:?} before the listener closed",
            closed.saturating_duration_since(*at)
        );
        if let Failure::Other(text) = failure {
            assert!(
                !text.starts_with("status"),
                "answered {text} while shutting down"
            );
        }
    }

    // Every delivery answered 200 is stored.
    let acked = acked.lock().await;
    assert!(acked.len() >= 304, "{} acked", acked.len());
    let store = SqliteStore::open(&db).await.unwrap();
    let tenant = TenantId::new(DEFAULT_TENANT);
    for mid in acked.iter() {
        assert!(
            store
                .find_message(&tenant, Platform::Instagram, mid)
                .await
                .unwrap()
                .is_some(),
            "delivery {mid} was answered 200 but is not in the store"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_basic_sigterm_under_load_loses_no_acknowledged_delivery() {
    sigterm_under_load(AXUM_BASIC_HOST).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_basic_sigterm_under_load_loses_no_acknowledged_delivery() {
    sigterm_under_load(ACTIX_BASIC_HOST).await;
}
