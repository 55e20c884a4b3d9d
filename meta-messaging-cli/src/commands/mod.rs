//! One module per subcommand.

mod backfill;
mod doctor;
mod emulate;
mod inspect;
mod profile;
mod send;
mod sign;
mod simulate;
mod store_url;
mod token_key;
mod trigger;
mod verify;
mod verify_endpoint;

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::Command;
use crate::error::CliError;
use crate::io::Io;

pub(crate) async fn run(command: Command, io: &mut Io) -> Result<ExitCode, CliError> {
    match command {
        Command::Inspect(args) => inspect::run(&args, io),
        Command::Sign(args) => sign::run(&args, io),
        Command::Verify(args) => verify::run(&args, io),
        Command::Simulate(args) => simulate::run(&args, io).await,
        Command::VerifyEndpoint(args) => verify_endpoint::run(&args, io).await,
        Command::Doctor(args) => doctor::run(&args, io).await,
        Command::Send(args) => send::run(&args, io).await,
        Command::Profile(command) => profile::run(&command, io).await,
        Command::Emulate(args) => emulate::run(&args, io).await,
        Command::Trigger(args) => trigger::run(&args, io).await,
        Command::TokenKey(command) => token_key::run(&command, io).await,
        Command::Backfill(args) => backfill::run(&args, io).await,
    }
}

/// Reads a whole input: the file at `path`, or standard input for `-`.
fn read_input(path: &Path, io: &mut Io) -> Result<Vec<u8>, CliError> {
    let read_error = |source| CliError::Read {
        path: path.to_owned(),
        source,
    };
    if path == Path::new("-") {
        let mut body = Vec::new();
        io.stdin.read_to_end(&mut body).map_err(read_error)?;
        Ok(body)
    } else {
        std::fs::read(path).map_err(read_error)
    }
}

fn parse_url(url: &str) -> Result<url::Url, CliError> {
    let parsed = url::Url::parse(url).map_err(|err| CliError::InvalidUrl {
        url: url.to_owned(),
        reason: err.to_string(),
    })?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        other => Err(CliError::InvalidUrl {
            url: url.to_owned(),
            reason: format!("scheme {other:?} is not http or https"),
        }),
    }
}

fn http_client() -> Result<reqwest::Client, CliError> {
    meta_messaging_core::graph::http_client_builder()
        .map_err(CliError::HttpTls)?
        .user_agent(concat!("meta-messaging-cli/", env!("CARGO_PKG_VERSION")))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|source| CliError::Http {
            url: String::from("(client setup)"),
            source,
        })
}
