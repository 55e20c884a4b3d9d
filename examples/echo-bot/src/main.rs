//! An actix-web server whose bot answers every Messenger and Instagram message.
//!
//! See it answer, offline, against a local Meta emulator (a customer writes on each platform,
//! the bot answers, the program prints the conversation and exits):
//!
//! ```text
//! cargo run -p echo-bot -- --demo
//! ```
//!
//! Against Meta, configured from the environment like `actix-basic` (`META_APP_SECRET`,
//! `META_VERIFY_TOKEN`, `META_STORE`, `META_GRAPH_URL`, `BIND`, `META_API_TOKEN`,
//! `META_ALLOWED_HOSTS`, `META_TOKEN_KEY`; `META_APP_ID` turns on `/api/meta/oauth/start` to
//! connect a Page):
//!
//! ```text
//! META_APP_SECRET=... META_VERIFY_TOKEN=... META_APP_ID=... cargo run -p echo-bot
//! ```
//!
//! Point the Meta app's webhook at `https://<your host>/api/meta/webhook`. The other inbox
//! routes need `Authorization: Bearer <API token>` (`META_API_TOKEN`, or the token printed at
//! start when it is unset). Logs, traces and metrics as in the other examples: `LOG_FORMAT=json`,
//! `OTEL_EXPORTER_OTLP_ENDPOINT`, `GET /api/meta/metrics` or `META_METRICS_BIND`
//! (`docs/operations.md`).

use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use echo_bot::EchoBot;
use inbox_telemetry::Telemetry;
use meta_messaging_core::contract::{Access, ApiToken, ApiTokens};
use meta_messaging_core::graph::GraphClient;
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{Inbox, InboxConfig, OAuthSettings, Tenancy};
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::InMemoryStore;
use meta_messaging_emulator::{Emulator, Inbound, RunningEmulator, World};

type Error = Box<dyn std::error::Error>;

#[actix_web::main]
async fn main() -> ExitCode {
    let telemetry = match Telemetry::init(|name| std::env::var(name).ok(), "echo-bot", "info") {
        Ok(telemetry) => telemetry,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = if std::env::args().any(|a| a == "--demo") {
        demo().await
    } else {
        serve().await
    };
    telemetry.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// The bot behind the inbox routes, until interrupted.
async fn serve() -> Result<(), Error> {
    let (bind, config) = InboxConfig::for_app(|name| std::env::var(name).ok(), "/api/meta")?;
    let builder = config.builder().await?.handler(EchoBot);
    let inbox = inbox_telemetry::metrics(builder, config.metrics_bind)?.build()?;
    let listener = TcpListener::bind(&bind)?;
    let access = config.access();
    println!("echo-bot listening on http://{bind}/api/meta (webhook: /api/meta/webhook)");
    if let Some(token) = &access.generated {
        println!(
            "API token (made now; set META_API_TOKEN to keep one): {}",
            token.expose()
        );
    }
    // actix-web stops on Ctrl-C (or SIGTERM) after the requests in flight; then the answers
    // being sent are given time to finish (what does not finish runs again at the next start).
    server(inbox.clone(), access.access, listener)?.await?;
    // `shutdown` logs what did not finish in time: those events run again at the next start.
    inbox.shutdown(Duration::from_secs(30)).await;
    Ok(())
}

fn server(
    inbox: Inbox,
    access: Access,
    listener: TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    Ok(HttpServer::new(move || {
        App::new().service(
            web::scope("/api/meta").configure(meta_messaging_actix::configure(
                inbox.clone(),
                access.clone(),
            )),
        )
    })
    .workers(1)
    .listen(listener)?
    .run())
}

/// The emulator's demo world talking to the bot: connect, two customers write, the bot answers.
async fn demo() -> Result<(), Error> {
    let world = World::demo();
    let (app_id, secret) = (world.app.id.clone(), world.app.secret.clone());
    let emulator = Emulator::start(world).await?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}/api/meta", listener.local_addr()?);
    emulator.set_callback_url(Some(format!("{base}/webhook")))?;

    let graph = GraphClient::builder()
        .graph_url(emulator.url())
        .dialog_url(emulator.url())
        .build()?;
    let tenant = TenantId::new("demo");
    let inbox = Inbox::builder()
        .app_secret(AppSecret::new(secret))
        .verify_token(VerifyToken::new("demo-verify-token"))
        .store(InMemoryStore::new())
        .graph(graph)
        .tenancy(Tenancy::Single(tenant.clone()))
        .oauth(OAuthSettings::new(app_id, format!("{base}/oauth/callback")))
        .handler(EchoBot)
        .build()?;
    // Nobody calls the inbox routes in the demo, but they are never served open.
    let access = Access::api_tokens(ApiTokens::new().token(ApiToken::generate(), tenant.clone()));
    let server = server(inbox.clone(), access, listener)?;
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let connect = inbox.start_connect(&tenant)?;
    let callback = emulator.consent(&connect.authorize_url)?;
    let query = callback.split_once('?').map_or("", |(_, q)| q);
    let connected = inbox.finish_connect(query, Some(&connect.state)).await?;
    println!(
        "echo-bot on {base}: connected {} accounts",
        connected.data.len()
    );

    let customers = [
        ("6758492015643287", "Messenger", Inbound::text("Hi bot!")),
        (
            "5000000000000001",
            "Instagram",
            Inbound::attachment("image", "https://example.com/sneaker.jpg"),
        ),
    ];
    for (number, (user, platform, inbound)) in customers.into_iter().enumerate() {
        let shown = inbound.text.clone().unwrap_or_else(|| "[image]".to_owned());
        emulator.user_writes(user, inbound).await?;
        println!("{platform} customer {user}: {shown}");
        let answer = reply(&emulator, number + 1).await?;
        println!("echo-bot: {answer}");
    }
    handle.stop(true).await;
    Ok(())
}

/// The text of the bot's `count`-th answer, as the emulator received it.
async fn reply(emulator: &RunningEmulator, count: usize) -> Result<String, Error> {
    for _ in 0..500 {
        if let Some(sent) = emulator.sent_messages().get(count - 1) {
            return Ok(sent.message["text"].as_str().unwrap_or_default().to_owned());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err("the bot did not answer within 5 s".into())
}
