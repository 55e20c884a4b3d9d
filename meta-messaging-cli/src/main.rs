//! The `meta-messaging` command line tool. All logic lives in the library part of this crate.

use std::process::ExitCode;

use clap::Parser;
use meta_messaging_cli::{Cli, Io};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(meta_messaging_cli::run(cli, &mut Io::std()))
}
