//! `meta-messaging verify-endpoint`

use std::io::Write;
use std::process::ExitCode;

use rand::Rng;

use super::{http_client, parse_url};
use crate::cli::VerifyEndpointArgs;
use crate::error::CliError;
use crate::io::Io;

/// What one handshake attempt got back.
struct Answer {
    status: reqwest::StatusCode,
    body: String,
}

pub(super) async fn run(args: &VerifyEndpointArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let url = parse_url(&args.url)?;
    let client = http_client()?;
    let challenge = rand::rng()
        .random_range(1_000_000_000u64..10_000_000_000)
        .to_string();

    let right = handshake(&client, &url, args.verify_token.expose(), &challenge).await?;
    let echoed = right.status.is_success() && right.body == challenge;
    let mut ok = echoed;
    if echoed {
        writeln!(io.stdout, "ok: the endpoint echoed the challenge (HTTP {})", right.status)
    } else if right.status.is_success() {
        writeln!(
            io.stdout,
            "FAIL: the endpoint answered HTTP {} but with body {:?} instead of the challenge {challenge:?}; \
             Meta requires the challenge alone as the body",
            right.status,
            preview(&right.body)
        )
    } else {
        writeln!(
            io.stdout,
            "FAIL: the endpoint answered HTTP {} to the right verify token; check that it uses the same verify \
             token as given here",
            right.status
        )
    }
    .map_err(CliError::Write)?;

    // A wrong token must be refused, or anyone can subscribe the endpoint to their own app.
    let wrong_token = format!("{}-wrong", args.verify_token.expose());
    let wrong = handshake(&client, &url, &wrong_token, &challenge).await?;
    if wrong.status.is_success() && wrong.body == challenge {
        ok = false;
        writeln!(
            io.stdout,
            "FAIL: the endpoint also echoed the challenge for a wrong verify token; it must answer 403"
        )
    } else {
        writeln!(
            io.stdout,
            "ok: a wrong verify token is refused (HTTP {})",
            wrong.status
        )
    }
    .map_err(CliError::Write)?;

    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn handshake(
    client: &reqwest::Client,
    url: &url::Url,
    token: &str,
    challenge: &str,
) -> Result<Answer, CliError> {
    let mut request_url = url.clone();
    request_url
        .query_pairs_mut()
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.verify_token", token)
        .append_pair("hub.challenge", challenge);
    let response = client
        .get(request_url)
        .send()
        .await
        .map_err(|err| CliError::http(url, err))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|err| CliError::http(url, err))?;
    Ok(Answer { status, body })
}

fn preview(body: &str) -> String {
    body.chars().take(80).collect()
}
