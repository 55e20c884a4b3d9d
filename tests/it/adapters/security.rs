//! The security scenario table: credentials on every tenant route, cross-site requests, media
//! types, foreign hosts, body limits and slow bodies, the live-stream cap and unknown webhook
//! objects; identically for both adapters.

use std::time::Duration;

use meta_messaging_core::inbox::Tenancy;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::webhook::{self, SIGNATURE_HEADER};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HOST, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::graph_mock::{APP_SECRET, PAGE_ID, PSID};
use crate::support::inbox::{VERIFY_TOKEN, connect_accounts, harness_with, tenant};
use crate::support::servers::{API_TOKEN, Adapter, serve};

const LIMIT: usize = 4 * 1024;
const BODY_TIMEOUT: Duration = Duration::from_millis(400);
const STREAMS: usize = 2;

/// Every tenant route with a method it takes, a body, and whether a request that passes the
/// checks would call Meta or hold a live stream (those are tried without credentials only: the
/// Graph mock expects no call, and the stream cap is tested below).
fn tenant_routes() -> Vec<(reqwest::Method, &'static str, Option<Value>, bool)> {
    use reqwest::Method;
    let send =
        json!({"platform": "messenger", "account_id": PAGE_ID, "recipient_id": PSID, "text": "hi"});
    vec![
        (Method::GET, "/conversations", None, false),
        (Method::POST, "/conversations/1/read", None, false),
        (Method::POST, "/conversations/1/archive", None, false),
        (Method::POST, "/conversations/1/unarchive", None, false),
        (Method::POST, "/conversations/1/take_over", None, false),
        (Method::POST, "/conversations/1/hand_back", None, false),
        (
            Method::POST,
            "/comments/17998123456789012/replies",
            Some(json!({"text": "hi", "private": true})),
            true,
        ),
        (
            Method::POST,
            "/comments/17998123456789012/hide",
            None,
            false,
        ),
        (
            Method::POST,
            "/comments/17998123456789012/unhide",
            None,
            false,
        ),
        (Method::DELETE, "/comments/17998123456789012", None, false),
        (
            Method::POST,
            "/accounts/104417552380421/backfill",
            None,
            true,
        ),
        (Method::GET, "/messages", None, false),
        (Method::POST, "/messages", Some(send), true),
        (
            Method::POST,
            "/messages",
            Some(json!({"platform": "messenger"})),
            false,
        ),
        (Method::GET, "/accounts", None, false),
        (
            Method::GET,
            "/media/0123456789abcdef0123456789abcdef",
            None,
            false,
        ),
        (Method::GET, "/status", None, false),
        (Method::GET, "/status?check=true", None, true),
        (Method::GET, "/events", None, true),
        (Method::GET, "/oauth/start", None, false),
        // It reveals no data, but only the webhook and the OAuth callback go without
        // credentials.
        (Method::GET, "/openapi.json", None, false),
        // Counts, and the ids of the connected accounts: for the operator only.
        (Method::GET, "/metrics", None, false),
    ]
}

/// A send of a file as the page's form makes it.
fn file_form() -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("platform", "messenger")
        .text("account_id", PAGE_ID)
        .text("recipient_id", PSID)
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"%PDF-1.4".to_vec())
                .file_name("terms.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        )
}

/// An answer's status and error kind (`""` when it is not an error body).
async fn answer(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let kind = if response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v == "application/json")
    {
        let body: Value = response.json().await.unwrap_or_default();
        body["error"]["kind"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    } else {
        String::new()
    };
    (status, kind)
}

async fn run(adapter: Adapter) {
    let h = harness_with(Tenancy::Single(tenant()), |b| {
        b.max_body_bytes(LIMIT)
            .body_timeout(BODY_TIMEOUT)
            .max_event_streams_per_tenant(STREAMS)
    })
    .await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let base = serve(adapter, h.inbox.clone()).await;
    let anonymous = crate::support::http::client();

    // Credentials: none, a wrong token, a right one, on every tenant route.
    for (method, path, body, side_effects) in tenant_routes() {
        let request = |token: Option<&str>| {
            let mut request = anonymous.request(method.clone(), format!("{base}{path}"));
            if let Some(token) = token {
                request = request.header(AUTHORIZATION, format!("Bearer {token}"));
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            request
        };
        for (who, token) in [
            ("no credentials", None),
            ("a wrong token", Some("not-the-token")),
        ] {
            let (status, kind) = answer(request(token).send().await.unwrap()).await;
            assert_eq!(
                (status, kind.as_str()),
                (401, "unauthorized"),
                "{adapter:?}: {method} {path} with {who}"
            );
        }
        if !side_effects {
            let response = request(Some(API_TOKEN)).send().await.unwrap();
            let status = response.status().as_u16();
            assert!(
                status != 401 && status != 403,
                "{adapter:?}: {method} {path} with the token: {status}"
            );
        }
    }
    // A scheme other than Bearer, and the token in the query string, are not credentials.
    for request in [
        anonymous
            .get(format!("{base}/messages"))
            .header(AUTHORIZATION, format!("Basic {API_TOKEN}")),
        anonymous.get(format!("{base}/messages?access_token={API_TOKEN}")),
    ] {
        assert_eq!(
            answer(request.send().await.unwrap()).await.0,
            401,
            "{adapter:?}"
        );
    }

    // The webhook and the OAuth callback need no token: Meta calls them.
    let handshake = anonymous
        .get(format!(
            "{base}/webhook?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
        ))
        .send()
        .await
        .unwrap();
    assert_ne!(
        handshake.status(),
        401,
        "{adapter:?}: the handshake is Meta's"
    );
    assert_eq!(handshake.status(), 200, "{adapter:?}: the handshake");
    assert_eq!(
        handshake.text().await.unwrap(),
        "1158201444",
        "{adapter:?}: the handshake echoes the challenge"
    );
    // The harness configures no connect flow: the callback answers that, not 401.
    let callback = anonymous
        .get(format!("{base}/oauth/callback?code=x&state=y"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(callback).await,
        (404, "oauth_not_configured".to_owned()),
        "{adapter:?}: the OAuth callback is Meta's redirect, not a tenant route"
    );

    // The health probes are the other deliberate exception: an orchestrator calls them, under
    // the pod's address, and they answer a word, never a cause or a tenant's data.
    for path in ["/health/live", "/health/ready"] {
        let probe = anonymous
            .get(format!("{base}{path}"))
            .header(HOST, "10.0.0.7:8080")
            .send()
            .await
            .unwrap();
        assert_eq!(
            probe.status(),
            200,
            "{adapter:?}: {path} needs no credentials"
        );
        assert_eq!(
            probe.text().await.unwrap(),
            r#"{"status":"ok"}"#,
            "{adapter:?}: {path} says nothing else"
        );
    }
    // Every route is a tenant route of the table above or one of these exceptions: a new
    // route left out of both fails here.
    let exceptions = [
        "/webhook",
        "/oauth/callback",
        "/session",
        "/health/live",
        "/health/ready",
    ];
    let tested: Vec<String> = tenant_routes()
        .iter()
        .map(|(_, path, _, _)| {
            path.split('?')
                .next()
                .unwrap_or_default()
                .replace("/1/", "/{id}/")
                .replace("17998123456789012", "{id}")
                .replace("104417552380421", "{id}")
                .replace("0123456789abcdef0123456789abcdef", "{id}")
        })
        .collect();
    for spec in meta_messaging_core::contract::ROUTES {
        let covered = exceptions.contains(&spec.path) || tested.iter().any(|p| p == spec.path);
        assert!(
            covered,
            "{} is neither tested for credentials nor a deliberate exception",
            spec.path
        );
        assert_eq!(
            spec.route.needs_tenant(),
            !exceptions.contains(&spec.path),
            "{}: only the exceptions act for no tenant",
            spec.path
        );
    }

    // Sign in: the session cookie is HttpOnly and SameSite=Strict.
    let signed_in = anonymous
        .post(format!("{base}/session"))
        .json(&json!({"token": API_TOKEN}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200, "{adapter:?}: sign-in");
    let set_cookie = signed_in.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{adapter:?}: {set_cookie}");
    }
    assert!(
        !set_cookie.contains(API_TOKEN),
        "the cookie is not the token"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let wrong = anonymous
        .post(format!("{base}/session"))
        .json(&json!({"token": "guess"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(wrong).await,
        (401, "unauthorized".to_owned()),
        "{adapter:?}"
    );
    let who = anonymous
        .get(format!("{base}/session"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        who.json::<Value>().await.unwrap()["tenant_id"],
        tenant().as_str()
    );

    // The cookie reads; a cookie-authenticated state change needs the request's own origin.
    let origin = base
        .trim_end_matches(crate::support::servers::PREFIX)
        .to_owned();
    let read = anonymous
        .get(format!("{base}/messages"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200, "{adapter:?}: cookie GET");
    // A file sent as a form needs the credentials as any send does.
    for (who, token) in [
        ("no credentials", None),
        ("a wrong token", Some("not-the-token")),
    ] {
        let mut upload = anonymous
            .post(format!("{base}/messages"))
            .multipart(file_form());
        if let Some(token) = token {
            upload = upload.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let (status, kind) = answer(upload.send().await.unwrap()).await;
        assert_eq!(
            (status, kind.as_str()),
            (401, "unauthorized"),
            "{adapter:?}: a multipart POST /messages with {who}"
        );
    }
    let cross_site = [
        (
            "a foreign Origin",
            vec![(ORIGIN.as_str(), "http://evil.example")],
        ),
        (
            "Sec-Fetch-Site: cross-site",
            vec![("sec-fetch-site", "cross-site")],
        ),
        (
            "Sec-Fetch-Site: same-site",
            vec![("sec-fetch-site", "same-site")],
        ),
        ("neither Origin nor Sec-Fetch-Site", vec![]),
        ("Origin: null", vec![(ORIGIN.as_str(), "null")]),
    ];
    let state_changes = [
        (reqwest::Method::POST, "/messages"),
        (reqwest::Method::POST, "/conversations/1/read"),
        (reqwest::Method::POST, "/conversations/1/take_over"),
        (reqwest::Method::POST, "/comments/17998123456789012/replies"),
        (reqwest::Method::POST, "/comments/17998123456789012/hide"),
        (reqwest::Method::DELETE, "/comments/17998123456789012"),
        (reqwest::Method::POST, "/accounts/104417552380421/backfill"),
    ];
    for (what, headers) in cross_site {
        for (method, path) in &state_changes {
            let mut request = anonymous
                .request(method.clone(), format!("{base}{path}"))
                .header(COOKIE, &cookie)
                .json(&json!({}));
            for (name, value) in &headers {
                request = request.header(*name, *value);
            }
            let (status, kind) = answer(request.send().await.unwrap()).await;
            assert_eq!(
                (status, kind.as_str()),
                (403, "cross_site_request"),
                "{adapter:?}: {method} {path} with {what}"
            );
        }
        // A file from another site's HTML form: a form may send multipart with the cookie.
        let mut upload = anonymous
            .post(format!("{base}/messages"))
            .header(COOKIE, &cookie)
            .multipart(file_form());
        for (name, value) in &headers {
            upload = upload.header(*name, *value);
        }
        let (status, kind) = answer(upload.send().await.unwrap()).await;
        assert_eq!(
            (status, kind.as_str()),
            (403, "cross_site_request"),
            "{adapter:?}: a multipart POST /messages with {what}"
        );
    }
    let same_origin = anonymous
        .post(format!("{base}/conversations/987654/read"))
        .header(COOKIE, &cookie)
        .header(ORIGIN, &origin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(same_origin).await,
        (404, "not_found".to_owned()),
        "{adapter:?}: same-origin POST reaches the route"
    );
    let fetch_metadata = anonymous
        .post(format!("{base}/conversations/987654/read"))
        .header(COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_metadata.status(), 404, "{adapter:?}");
    // Signing in from another site (login CSRF) is refused too.
    let forced = anonymous
        .post(format!("{base}/session"))
        .header(ORIGIN, "http://evil.example")
        .json(&json!({"token": API_TOKEN}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(forced).await.1, "cross_site_request", "{adapter:?}");
    // A bearer token cannot be attached by another site: no origin check for it.
    let bearer_cross = crate::support::servers::client()
        .post(format!("{base}/conversations/987654/read"))
        .header(ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer_cross.status(), 404, "{adapter:?}");

    // JSON routes take only JSON: an HTML form or a text/plain fetch cannot forge one.
    // `POST /messages` takes a file as `multipart/form-data` too, which must then be one.
    for (path, credentials) in [("/messages", Some(API_TOKEN)), ("/session", None)] {
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            let expected = if path == "/messages" && content_type.starts_with("multipart/") {
                (400, "invalid_request")
            } else {
                (415, "unsupported_media_type")
            };
            let mut request = anonymous
                .post(format!("{base}{path}"))
                .header(CONTENT_TYPE, content_type)
                .body(json!({"token": API_TOKEN, "platform": "messenger"}).to_string());
            if let Some(token) = credentials {
                request = request.header(AUTHORIZATION, format!("Bearer {token}"));
            }
            let (status, kind) = answer(request.send().await.unwrap()).await;
            assert_eq!(
                (status, kind.as_str()),
                expected,
                "{adapter:?}: {path} as {content_type}"
            );
        }
    }

    // A Host that is not this server's (DNS rebinding) gets nothing, even with the token.
    for path in ["/messages", "/session"] {
        let rebound = crate::support::servers::client()
            .get(format!("{base}{path}"))
            .header(HOST, "evil.example:3000")
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer(rebound).await,
            (421, "host_not_allowed".to_owned()),
            "{adapter:?}: {path}"
        );
    }

    // Body limits: exactly the limit is read, one byte more is refused, on every body route.
    let signed = |body: &[u8]| webhook::sign(&AppSecret::new(APP_SECRET), body);
    for size in [LIMIT, LIMIT + 1] {
        let padding = vec![b' '; size];
        let cases = [
            (
                "/webhook",
                crate::support::servers::client()
                    .post(format!("{base}/webhook"))
                    .header(SIGNATURE_HEADER, signed(&padding)),
            ),
            (
                "/messages",
                crate::support::servers::client()
                    .post(format!("{base}/messages"))
                    .header(CONTENT_TYPE, "application/json"),
            ),
            (
                "/session",
                anonymous
                    .post(format!("{base}/session"))
                    .header(CONTENT_TYPE, "application/json"),
            ),
        ];
        for (path, request) in cases {
            let (status, kind) = answer(request.body(padding.clone()).send().await.unwrap()).await;
            if size > LIMIT {
                assert_eq!(
                    (status, kind.as_str()),
                    (413, "payload_too_large"),
                    "{adapter:?}: {path} at limit+1"
                );
            } else {
                // Read whole and judged on its content (blank is not valid JSON or a delivery).
                assert!(
                    status == 400 || status == 401,
                    "{adapter:?}: {path} at the limit: {status} {kind}"
                );
            }
        }
    }

    // A body that trickles in is cut off; one that stops half-way is not "too large".
    let host = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let slow = raw_post(&host, "/api/meta/webhook", 100, b"{\"object\":", false).await;
    assert!(
        slow.starts_with("HTTP/1.1 408"),
        "{adapter:?}: slow body: {slow}"
    );
    assert!(slow.contains("body_timeout"), "{adapter:?}: {slow}");
    let cut = raw_post(&host, "/api/meta/webhook", 100, b"{\"object\":", true).await;
    // The server may answer before it closes, or just close: never "too large".
    assert!(
        cut.is_empty() || cut.contains("body_incomplete"),
        "{adapter:?}: a cut body is incomplete, not too large: {cut}"
    );

    // The live streams of one tenant are capped. (A stream frees its place when the server
    // notices the client left, at its next write at the latest: core's unit tests cover that.)
    let client = crate::support::servers::client();
    let mut open = Vec::new();
    for _ in 0..STREAMS {
        let stream = client.get(format!("{base}/events")).send().await.unwrap();
        assert_eq!(stream.status(), 200, "{adapter:?}");
        open.push(stream);
    }
    let refused = client.get(format!("{base}/events")).send().await.unwrap();
    assert_eq!(
        answer(refused).await,
        (429, "too_many_streams".to_owned()),
        "{adapter:?}"
    );
    drop(open);

    // A signed delivery of an object the inbox does not handle is kept and answered 200, so
    // Meta does not disable the subscription.
    let whatsapp = json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp"}}]}]}).to_string();
    let kept = anonymous
        .post(format!("{base}/webhook"))
        .header(SIGNATURE_HEADER, signed(whatsapp.as_bytes()))
        .body(whatsapp)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), 200, "{adapter:?}: unknown object");

    // Signing out clears the cookie.
    let signed_out = anonymous
        .delete(format!("{base}/session"))
        .header(COOKIE, &cookie)
        .header(ORIGIN, &origin)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 204, "{adapter:?}");
    assert!(
        signed_out.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

/// A POST that announces `length` bytes and sends `sent` of them, then waits (or, with
/// `hang_up`, closes its sending side); the server's raw answer.
async fn raw_post(host: &str, path: &str, length: usize, sent: &[u8], hang_up: bool) -> String {
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         X-Hub-Signature-256: sha256=00\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(sent).await.unwrap();
    if hang_up {
        stream.shutdown().await.unwrap();
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buffer[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    let _ = read;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn axum_passes_the_security_table() {
    run(Adapter::Axum).await;
}

#[tokio::test]
async fn actix_passes_the_security_table() {
    run(Adapter::Actix).await;
}
