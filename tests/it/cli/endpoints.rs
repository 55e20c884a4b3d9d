//! Commands that talk to a webhook endpoint: `simulate` and `verify-endpoint`, against wiremock
//! servers standing in for the user's endpoint.

use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::webhook::{self, EventKind, SIGNATURE_HEADER, SignatureVerifier};
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::cli::run;

/// Matches deliveries a real endpoint would accept: a valid signature over the exact body, and a
/// body that parses into one event of the expected platform.
struct SignedDelivery {
    secret: &'static str,
    platform: &'static str,
}

impl Match for SignedDelivery {
    fn matches(&self, request: &Request) -> bool {
        let signature = request
            .headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok());
        let verified = SignatureVerifier::new(AppSecret::new(self.secret))
            .verify(signature, &request.body)
            .is_ok();
        let parsed = webhook::parse(&request.body).is_ok_and(|events| {
            events.len() == 1
                && events[0].platform.as_str() == self.platform
                && events[0].kind() == EventKind::Message
        });
        let json = request
            .headers
            .get("content-type")
            .is_some_and(|v| v == "application/json");
        verified && parsed && json
    }
}

/// Mounted last: any request no other mock expected fails the test with a readable message.
async fn refuse_everything_else(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &Request| {
            ResponseTemplate::new(599)
                .set_body_string(format!("unexpected request: {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .expect(0)
        .mount(server)
        .await;
}

#[tokio::test]
async fn simulate_posts_a_signed_realistic_delivery() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/webhook"))
        .and(SignedDelivery {
            secret: "app-secret",
            platform: "messenger",
        })
        .respond_with(ResponseTemplate::new(200).set_body_string("EVENT_RECEIVED"))
        .expect(1)
        .mount(&server)
        .await;
    refuse_everything_else(&server).await;
    let url = format!("{}/webhook", server.uri());
    let out = run(
        &[
            "simulate",
            "--url",
            &url,
            "--secret",
            "app-secret",
            "--platform",
            "messenger",
            "--text",
            "Bonjour",
        ],
        b"",
    )
    .await;
    assert!(
        out.succeeded(),
        "stdout: {} stderr: {}",
        out.stdout,
        out.stderr
    );
    assert_eq!(out.stdout, "HTTP 200 OK\nEVENT_RECEIVED\n");
    let received = server.received_requests().await.unwrap();
    let events = webhook::parse(&received[0].body).unwrap();
    assert_eq!(events[0].text(), Some("Bonjour"));
}

#[tokio::test]
async fn simulate_sends_a_file_byte_for_byte() {
    let server = MockServer::start().await;
    let body = br#"{"object":"instagram","entry":[{"id":"17841400000000000","time":1700000000,"messaging":[{"sender":{"id":"1"},"recipient":{"id":"17841400000000000"},"timestamp":1700000000,"message":{"mid":"aWdf","text":"\u00e9 \/"}}]}]}"#;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .and(SignedDelivery {
            secret: "s",
            platform: "instagram",
        })
        .and(wiremock::matchers::body_bytes(body.to_vec()))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    refuse_everything_else(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.json");
    std::fs::write(&file, body).unwrap();
    let url = format!("{}/hook", server.uri());
    let out = run(
        &[
            "simulate",
            "--url",
            &url,
            "--secret",
            "s",
            "--file",
            file.to_str().unwrap(),
        ],
        b"",
    )
    .await;
    assert!(
        out.succeeded(),
        "stdout: {} stderr: {}",
        out.stdout,
        out.stderr
    );
}

#[tokio::test]
async fn simulate_fails_when_the_endpoint_does_not_answer_2xx() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/webhook"))
        .respond_with(ResponseTemplate::new(401).set_body_string("bad signature"))
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}/webhook", server.uri());
    let out = run(&["simulate", "--url", &url, "--secret", "x"], b"").await;
    assert!(!out.succeeded());
    assert_eq!(out.stdout, "HTTP 401 Unauthorized\nbad signature\n");
    assert!(
        out.stderr.contains("Meta treats anything but 2xx"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn simulate_rejects_a_bad_url_and_reports_an_unreachable_one() {
    let out = run(
        &[
            "simulate",
            "--url",
            "ftp://example/webhook",
            "--secret",
            "x",
        ],
        b"",
    )
    .await;
    assert!(!out.succeeded());
    assert!(
        out.stderr.contains("is not http or https"),
        "{}",
        out.stderr
    );

    // Port 9 on loopback: nothing listens there.
    let out = run(
        &[
            "simulate",
            "--url",
            "http://127.0.0.1:9/webhook?token=abc",
            "--secret",
            "x",
        ],
        b"",
    )
    .await;
    assert!(!out.succeeded());
    assert!(
        out.stderr
            .contains("request to http://127.0.0.1:9/webhook failed"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("token=abc"),
        "query leaked: {}",
        out.stderr
    );
}

/// Answers the handshake like an endpoint configured with `token` (or like a broken one).
struct Handshake {
    token: &'static str,
    accept_any_token: bool,
    echo: bool,
}

impl Respond for Handshake {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let param = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let token_ok =
            self.accept_any_token || param("hub.verify_token").as_deref() == Some(self.token);
        if param("hub.mode").as_deref() != Some("subscribe") || !token_ok {
            return ResponseTemplate::new(403);
        }
        let body = if self.echo {
            param("hub.challenge").unwrap_or_default()
        } else {
            "OK".to_owned()
        };
        ResponseTemplate::new(200).set_body_string(body)
    }
}

async fn verify_against(handshake: Handshake) -> crate::support::cli::Outcome {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/webhook"))
        .respond_with(handshake)
        .expect(2)
        .mount(&server)
        .await;
    let url = format!("{}/webhook", server.uri());
    run(
        &["verify-endpoint", "--url", &url, "--verify-token", "tok en"],
        b"",
    )
    .await
}

#[tokio::test]
async fn verify_endpoint_passes_a_correct_endpoint() {
    let out = verify_against(Handshake {
        token: "tok en",
        accept_any_token: false,
        echo: true,
    })
    .await;
    assert!(out.succeeded(), "{}", out.stdout);
    assert!(
        out.stdout.contains("ok: the endpoint echoed the challenge"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("ok: a wrong verify token is refused (HTTP 403"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn verify_endpoint_fails_an_endpoint_that_accepts_any_token() {
    let out = verify_against(Handshake {
        token: "tok en",
        accept_any_token: true,
        echo: true,
    })
    .await;
    assert!(!out.succeeded());
    assert!(
        out.stdout
            .contains("FAIL: the endpoint also echoed the challenge for a wrong verify token"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn verify_endpoint_fails_an_endpoint_that_does_not_echo() {
    let out = verify_against(Handshake {
        token: "tok en",
        accept_any_token: false,
        echo: false,
    })
    .await;
    assert!(!out.succeeded());
    assert!(
        out.stdout.contains("instead of the challenge"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn verify_endpoint_fails_on_a_token_mismatch() {
    let out = verify_against(Handshake {
        token: "another",
        accept_any_token: false,
        echo: true,
    })
    .await;
    assert!(!out.succeeded());
    assert!(
        out.stdout
            .contains("FAIL: the endpoint answered HTTP 403 Forbidden to the right verify token"),
        "{}",
        out.stdout
    );
}
