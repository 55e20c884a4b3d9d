//! A unified inbox of Facebook Messenger and Instagram Direct, live in the browser.
//!
//! Try it offline, with simulated customers on a local Meta emulator:
//!
//! ```text
//! cargo run -p unified-inbox -- --demo
//! ```
//!
//! then open the sign-in link it prints (`http://127.0.0.1:3000/?token=...` unless that port is
//! taken). The link works once; to sign in again (another browser, an ended session), enter
//! the API token printed below it.
//!
//! Against Meta, configured from the environment like the basic examples:
//!
//! ```text
//! META_APP_SECRET=... META_VERIFY_TOKEN=... META_APP_ID=... cargo run -p unified-inbox
//! ```
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `META_APP_SECRET` | the app secret (comma-separated while rotating) | required (demo: the emulator's) |
//! | `META_VERIFY_TOKEN` | the webhook verify token | required (demo: `demo-verify-token`) |
//! | `META_STORE` | `memory`, `sqlite://PATH` or `postgres://...` | `sqlite://inbox.db` (demo: a fresh temporary file) |
//! | `META_TOKEN_KEY` | the key sealing account tokens at rest (`meta-messaging token-key generate`), comma-separated while rotating | SQLite: a key file beside the database, with a warning; PostgreSQL: required (demo: a throwaway key) |
//! | `META_GRAPH_URL` | the Graph API base URL | Meta's (demo: the emulator) |
//! | `META_APP_ID` | the app id; turns on the page's "Connect a Page" button | off (demo: the emulator's app) |
//! | `META_OAUTH_REDIRECT_URI` | the connect flow's callback, as registered with Meta | `http://{BIND}/api/meta/oauth/callback` |
//! | `META_DIALOG_URL` | the Login dialog's base URL | Meta's (demo: the emulator) |
//! | `BIND` | the listening address | `127.0.0.1:3000` |
//! | `META_MEDIA` | where attachments are kept, past Meta's expiring URLs: a directory, `file://DIR` or `s3://bucket/prefix` (docs/media.md); `META_MEDIA_DIR`, its older name, still works | off (demo: a temporary directory) |
//! | `META_MEDIA_S3_ENDPOINT`, `META_MEDIA_MAX_BYTES`, `META_MEDIA_RETENTION_DAYS` | an S3-compatible server's endpoint, the largest attachment kept, days kept (`AWS_*` for S3 credentials) | AWS, 25 MiB, 90 |
//! | `META_API_TOKEN` | the API tokens (comma-separated while rotating): `Authorization: Bearer ...` for scripts, and the page's sign-in form | a random one, printed at start |
//! | `META_ALLOWED_HOSTS` | host names the page and API answer to (DNS-rebinding guard) | loopback names |
//!
//! Point the Meta app's webhook at `https://<your host>/api/meta/webhook`. Everything else needs
//! a sign-in: the page opens from the one-time link printed at start (or asks for the API
//! token) and keeps a session cookie; scripts send `Authorization: Bearer <API token>`. See
//! docs/security.md.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use unified_inbox::Mode;

/// A unified inbox of Facebook Messenger and Instagram Direct, live in the browser.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Args {
    /// Run offline against a local Meta emulator, with a demo Page, its Instagram account and
    /// simulated customers.
    #[arg(long)]
    demo: bool,
    /// In demo mode, seconds between two things the simulated customers do (0: they only play
    /// the opening scene).
    #[arg(long, default_value_t = 4, requires = "demo")]
    every: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let mode = if args.demo {
        Mode::Demo {
            customers_every: (args.every > 0).then(|| Duration::from_secs(args.every)),
        }
    } else {
        Mode::Live
    };
    let running = match unified_inbox::start(mode).await {
        Ok(running) => running,
        Err(err) => {
            report(&err);
            return ExitCode::FAILURE;
        }
    };
    println!("Unified inbox: open {}", running.sign_in_url);
    if let Some(token) = &running.api_token {
        // Scripts and the sign-in form take the API token; the link above works once.
        println!(
            "  API token: {}  (made now; set META_API_TOKEN to keep one)",
            token.expose()
        );
    }
    if let Some(demo) = &running.demo {
        let emulator = demo.emulator().url();
        println!("  demo mode: simulated customers write every few seconds; reply from the page");
        println!("  Meta emulator: {emulator}");
        println!(
            "    make a customer write: cargo run -p meta-messaging-cli -- trigger --emulator {emulator} message --user 5000000000000001 --text \"Hi!\""
        );
        println!("  store: {}", demo.store());
    }
    println!("  webhook: {}api/meta/webhook  (Ctrl-C stops)", running.url);
    tokio::select! {
        result = running.wait() => match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                report(&err);
                ExitCode::FAILURE
            }
        },
        _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
    }
}

fn report(err: &(dyn std::error::Error + 'static)) {
    eprintln!("error: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
}
