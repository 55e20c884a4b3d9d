//! `meta-messaging inspect`

use std::io::Write;
use std::process::ExitCode;

use meta_messaging_core::webhook;

use super::read_input;
use crate::cli::InspectArgs;
use crate::error::CliError;
use crate::io::Io;

pub(super) fn run(args: &InspectArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let body = read_input(&args.input, io)?;
    let events = webhook::parse(&body).map_err(CliError::Webhook)?;
    for event in &events {
        let line = serde_json::to_string(event).map_err(|err| CliError::Write(err.into()))?;
        writeln!(io.stdout, "{line}").map_err(CliError::Write)?;
    }
    io.stdout.flush().map_err(CliError::Write)?;
    Ok(ExitCode::SUCCESS)
}
