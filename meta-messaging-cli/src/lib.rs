//! The `meta-messaging` command line tool: inspect, sign and simulate Messenger and Instagram
//! webhook deliveries, check a webhook endpoint's subscription handshake, diagnose a connected
//! account, send messages and manage the Messenger profile.
//!
//! ```text
//! meta-messaging inspect delivery.json            # one JSON event per line
//! meta-messaging sign --secret S delivery.json    # sha256=... for X-Hub-Signature-256
//! meta-messaging simulate --url http://127.0.0.1:3000/webhook --secret S --text "Hi"
//! meta-messaging verify-endpoint --url http://127.0.0.1:3000/webhook --verify-token T
//! meta-messaging doctor --token PAGE_TOKEN        # checklist: token, permissions, Instagram link, webhooks
//! meta-messaging send --token PAGE_TOKEN --page-id P --to PSID --text "Hello"
//! meta-messaging profile apply profile.toml --token PAGE_TOKEN --page-id P --dry-run   # ice breakers, menu, ...
//! meta-messaging token-key generate               # a key for META_TOKEN_KEY
//! meta-messaging token-key reseal --store sqlite://inbox.db   # re-seal tokens (keys from META_TOKEN_KEY)
//! ```
//!
//! Run `meta-messaging <command> --help` for every option. Secrets can come from the
//! environment (`META_APP_SECRET`, `META_VERIFY_TOKEN`, and the tokens of `doctor`, `send` and
//! `profile`) instead of flags, which keeps them out of shell history. `doctor`, `send` and
//! `profile` take `--graph-url` to talk to a local server instead of Meta.
//!
//! The library part exists so the tool can be driven in-process (the workspace tests do):
//! parse a [`Cli`] and hand it to [`run`] with an [`Io`].

mod cli;
mod commands;
mod error;
mod io;

use std::process::ExitCode;

pub use cli::{Cli, Command};
pub use error::CliError;
pub use io::Io;

/// Runs one command, writing its output and errors to `io`, and returns the process exit code:
/// 0 on success, 1 when the command failed or found a problem.
pub async fn run(cli: Cli, io: &mut Io) -> ExitCode {
    match commands::run(cli.command, io).await {
        Ok(code) => code,
        Err(err) => {
            io.report_error(&err);
            ExitCode::FAILURE
        }
    }
}
