//! `meta-messaging simulate`

use std::io::Write;
use std::process::ExitCode;

use meta_messaging_core::webhook::{self, DeliveryBuilder, SIGNATURE_HEADER};

use super::{http_client, parse_url, read_input};
use crate::cli::SimulateArgs;
use crate::error::CliError;
use crate::io::Io;

pub(super) async fn run(args: &SimulateArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let url = parse_url(&args.url)?;
    let body = match &args.file {
        Some(path) => read_input(path, io)?,
        None => DeliveryBuilder::new(args.platform, args.account_id.as_str())
            .text(args.sender_id.as_str(), &args.text)
            .build(),
    };
    let signature = webhook::sign(&args.secret, &body);
    let response = http_client()?
        .post(url.clone())
        .header(SIGNATURE_HEADER, signature)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|err| CliError::http(&url, err))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|err| CliError::http(&url, err))?;
    writeln!(io.stdout, "HTTP {status}").map_err(CliError::Write)?;
    if !text.is_empty() {
        writeln!(io.stdout, "{text}").map_err(CliError::Write)?;
    }
    if status.is_success() {
        Ok(ExitCode::SUCCESS)
    } else {
        writeln!(
            io.stderr,
            "error: the endpoint answered {status}; Meta treats anything but 2xx as a failed delivery and retries it"
        )
        .map_err(CliError::Write)?;
        Ok(ExitCode::FAILURE)
    }
}
