//! The command line of the `unified-inbox` binary: [`run`] parses the arguments, starts the
//! app (or checks its configuration) and says how it ended.

use std::ffi::OsString;
use std::time::Duration;

use clap::Parser;
use meta_messaging_core::inbox::shutdown_signal;

use crate::{Mode, check_config, start};

/// A unified inbox of Facebook Messenger and Instagram Direct, live in the browser.
#[derive(Debug, Parser)]
#[command(name = "unified-inbox", version, about, long_about = None)]
struct Args {
    /// Run offline against a local Meta emulator, with a demo Page, its Instagram account and
    /// simulated customers.
    #[arg(long)]
    demo: bool,
    /// In demo mode, seconds between two things the simulated customers do (0: they only play
    /// the opening scene).
    #[arg(long, default_value_t = 4, requires = "demo")]
    every: u64,
    /// Print the effective configuration (secrets redacted) and exit: 0 when it is valid, 1
    /// when it is not.
    #[arg(long, conflicts_with = "demo")]
    check_config: bool,
}

/// Runs the binary with `args` (the program name first) until it is stopped (SIGTERM or
/// Ctrl-C: a graceful shutdown) or fails; returns the process's exit code.
pub async fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> u8 {
    let args = match Args::try_parse_from(args) {
        Ok(args) => args,
        Err(err) => {
            // Help and version are printed and succeed; a usage error is printed and fails.
            let _ = err.print();
            return u8::from(err.use_stderr()) * 2;
        }
    };
    if args.check_config {
        return match check_config(|name| std::env::var(name).ok()) {
            Ok(effective) => {
                print!("{effective}");
                println!("configuration valid");
                0
            }
            Err(err) => {
                report(&err);
                1
            }
        };
    }
    let mode = if args.demo {
        Mode::Demo {
            customers_every: (args.every > 0).then(|| Duration::from_secs(args.every)),
        }
    } else {
        Mode::Live
    };
    let running = match start(mode).await {
        Ok(running) => running,
        Err(err) => {
            report(&err);
            return 1;
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
    match running.serve_until(shutdown_signal()).await {
        Ok(_report) => 0,
        Err(err) => {
            report(&err);
            1
        }
    }
}

/// Prints an error and its causes, one a line.
fn report(err: &(dyn std::error::Error + 'static)) {
    eprintln!("error: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
}
