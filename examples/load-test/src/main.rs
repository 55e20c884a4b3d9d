//! Load test of the HTTP webhook path: signed, unique deliveries against a server in a child
//! process, compared in the same run with a minimal axum handler that only verifies the
//! signature and parses the JSON.
//!
//! ```text
//! cargo run --release -p load-test                      # minimal, memory and sqlite, 20 s each
//! cargo run --release -p load-test -- --duration 300 --targets memory   # memory over 5 minutes
//! cargo run --release -p load-test -- --targets sqlite,sqlite+sse,sqlite-multi
//! cargo run --release -p load-test -- --targets postgres+sse --connections 32
//! cargo run --release -p load-test -- --targets sqlite,sqlite+media   # keeping attachments
//! ```
//!
//! When a target keeps attachments (`+media`), every delivery of the run, to every target,
//! carries a 16 KiB picture served by a stand-in CDN in this process, so the targets with and
//! without media ingest the same deliveries; the table then also shows how many pictures the
//! server kept.
//!
//! Each target runs in its own process (this binary, `serve` subcommand) so its memory can be
//! watched; the load comes from `--connections` keep-alive connections sending one delivery at
//! a time. Prints requests/s, p50 and p99 latency, errors, and the server's resident memory at
//! the start and end of the measured period.

mod live;
mod load;
mod media;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Load-test the webhook endpoint")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Seconds of measured load per target.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Targets to load, in order: minimal, memory, sqlite, sqlite-multi, postgres (needs
    /// META_MESSAGING_TEST_POSTGRES_URL); `<target>+sse` also follows `GET /events` with one
    /// client, measures the push latency and reconnects once in the middle; `<target>+media`
    /// keeps attachments (every delivery then carries a picture).
    #[arg(long, value_delimiter = ',', default_value = "minimal,memory,sqlite")]
    targets: Vec<serve::Spec>,
    /// Keep the `+sse` client connected for the whole run, with no reconnect (and no resume
    /// measured): what a connected subscriber alone costs ingestion.
    #[arg(long)]
    sse_stay: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Serve one target on 127.0.0.1 (started by the load test itself).
    Serve {
        /// What to serve.
        target: serve::Target,
        /// Keep attachments, in a media store in the server's temporary directory.
        #[arg(long)]
        media: bool,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match args.command {
        Some(Command::Serve { target, media }) => runtime.block_on(serve::run(target, media)),
        None => runtime.block_on(load::compare(
            &args.targets,
            args.connections,
            args.warmup,
            args.duration,
            args.sse_stay,
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
