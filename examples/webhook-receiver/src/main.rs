//! A minimal axum server that answers Meta's subscription handshake, verifies every delivery's
//! signature and prints its events as JSON lines.
//!
//! Run it and send it a simulated delivery:
//!
//! ```text
//! META_APP_SECRET=dev-secret META_VERIFY_TOKEN=dev-token cargo run -p webhook-receiver
//! META_APP_SECRET=dev-secret cargo run -p meta-messaging-cli -- simulate --url http://127.0.0.1:3000/webhook --text "Hi"
//! ```
//!
//! Or let it do both in one go (handshake check, a Messenger and an Instagram delivery, a forged
//! one that is refused), then exit:
//!
//! ```text
//! cargo run -p webhook-receiver -- --demo
//! ```
//!
//! Environment: `META_APP_SECRET` (required unless `--demo`), `META_VERIFY_TOKEN` (required
//! unless `--demo`), `BIND` (default `127.0.0.1:3000`; `--demo` picks a free port).

use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use clap::Parser;
use meta_messaging_cli::{Cli, Io};
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::webhook::{self, SIGNATURE_HEADER, SignatureVerifier, WebhookError};

const DEMO_SECRET: &str = "demo-app-secret";
const DEMO_TOKEN: &str = "demo-verify-token";

struct Receiver {
    verifier: SignatureVerifier,
    verify_token: VerifyToken,
}

async fn handshake(
    State(receiver): State<Arc<Receiver>>,
    RawQuery(query): RawQuery,
) -> (StatusCode, String) {
    match webhook::verify_subscription(query.as_deref().unwrap_or(""), &receiver.verify_token) {
        Ok(challenge) => (StatusCode::OK, challenge),
        Err(err) => (StatusCode::FORBIDDEN, err.to_string()),
    }
}

async fn deliver(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let result = receiver
        .verifier
        .verify(signature, &body)
        .and_then(|()| webhook::parse(&body));
    match result {
        Ok(events) => {
            for event in &events {
                match serde_json::to_string(event) {
                    Ok(line) => println!("received: {line}"),
                    Err(err) => eprintln!("cannot print an event: {err}"),
                }
            }
            (StatusCode::OK, format!("{} event(s)", events.len()))
        }
        Err(err) => {
            eprintln!("refused a delivery: {err}");
            (status_of(&err), err.to_string())
        }
    }
}

fn status_of(err: &WebhookError) -> StatusCode {
    if err.is_signature() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    }
}

fn app(receiver: Receiver) -> Router {
    Router::new()
        .route("/webhook", get(handshake).post(deliver))
        .with_state(Arc::new(receiver))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> ExitCode {
    let demo = std::env::args().skip(1).any(|arg| arg == "--demo");
    let (secret, token) = if demo {
        (DEMO_SECRET.to_owned(), DEMO_TOKEN.to_owned())
    } else {
        match (env("META_APP_SECRET"), env("META_VERIFY_TOKEN")) {
            (Some(secret), Some(token)) => (secret, token),
            _ => {
                eprintln!("error: set META_APP_SECRET and META_VERIFY_TOKEN, or run with --demo");
                return ExitCode::FAILURE;
            }
        }
    };
    let bind = if demo {
        "127.0.0.1:0".to_owned()
    } else {
        env("BIND").unwrap_or_else(|| "127.0.0.1:3000".to_owned())
    };
    let listener = match tokio::net::TcpListener::bind(&bind).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("error: cannot listen on {bind}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}/webhook"),
        Err(err) => {
            eprintln!("error: cannot read the listening address: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("webhook receiver listening on {url}");
    let receiver = Receiver {
        verifier: SignatureVerifier::new(AppSecret::new(secret)),
        verify_token: VerifyToken::new(token),
    };
    let server = axum::serve(listener, app(receiver));
    if !demo {
        return match server.await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: server stopped: {err}");
                ExitCode::FAILURE
            }
        };
    }
    tokio::spawn(async move { server.await });
    run_demo(&url).await
}

/// Drives the receiver with the `meta-messaging` CLI, exactly as a user would from a shell.
async fn run_demo(url: &str) -> ExitCode {
    let steps: [(&str, Vec<&str>, bool); 4] = [
        (
            "handshake",
            vec![
                "verify-endpoint",
                "--url",
                url,
                "--verify-token",
                DEMO_TOKEN,
            ],
            true,
        ),
        (
            "a Messenger message",
            vec![
                "simulate",
                "--url",
                url,
                "--secret",
                DEMO_SECRET,
                "--platform",
                "messenger",
                "--account-id",
                "104417552380421",
                "--sender-id",
                "6758492015643287",
                "--text",
                "Hi from Messenger",
            ],
            true,
        ),
        (
            "an Instagram message",
            vec![
                "simulate",
                "--url",
                url,
                "--secret",
                DEMO_SECRET,
                "--platform",
                "instagram",
                "--text",
                "Hi from Instagram",
            ],
            true,
        ),
        (
            "a delivery signed with the wrong secret (must be refused with 401)",
            vec![
                "simulate",
                "--url",
                url,
                "--secret",
                "not-the-app-secret",
                "--text",
                "forged",
            ],
            false,
        ),
    ];
    let mut all_as_expected = true;
    for (what, args, should_succeed) in steps {
        println!("\n== meta-messaging {}  ({what})", args.join(" "));
        let cli = match Cli::try_parse_from(std::iter::once("meta-messaging").chain(args)) {
            Ok(cli) => cli,
            Err(err) => {
                eprintln!("{err}");
                return ExitCode::FAILURE;
            }
        };
        let succeeded = meta_messaging_cli::run(cli, &mut Io::std()).await == ExitCode::SUCCESS;
        if succeeded != should_succeed {
            all_as_expected = false;
            eprintln!("unexpected outcome for {what}");
        }
    }
    if all_as_expected {
        println!(
            "\ndemo complete: the receiver verified, parsed and printed both platforms' deliveries and refused the forged one."
        );
        println!(
            "run it yourself: META_APP_SECRET=dev-secret META_VERIFY_TOKEN=dev-token cargo run -p webhook-receiver"
        );
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
