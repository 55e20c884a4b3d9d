//! `meta-messaging sign`

use std::io::Write;
use std::process::ExitCode;

use meta_messaging_core::webhook;

use super::read_input;
use crate::cli::SignArgs;
use crate::error::CliError;
use crate::io::Io;

pub(super) fn run(args: &SignArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let body = read_input(&args.input, io)?;
    let signature = webhook::sign(&args.secret, &body);
    writeln!(io.stdout, "{signature}").map_err(CliError::Write)?;
    Ok(ExitCode::SUCCESS)
}
