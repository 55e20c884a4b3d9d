//! `meta-messaging send`

use std::io::Write;
use std::process::ExitCode;

use meta_messaging_core::Platform;
use meta_messaging_core::graph::{AttachmentKind, GraphClient, GraphError};
use meta_messaging_core::ids::{PageId, UserId};
use meta_messaging_core::secret::AppSecret;

use crate::cli::SendArgs;
use crate::error::CliError;
use crate::io::Io;

pub(super) async fn run(args: &SendArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let client = match graph_client(&args.graph_url, args.app_secret.as_ref()) {
        Ok(client) => client,
        Err(err) => return print_graph_error(io, &err),
    };
    let page_id = PageId::from(args.page_id.as_str());
    let token = args.token.clone();
    let account = match args.platform {
        Platform::Instagram => client.instagram_via_page(page_id, token),
        _ => client.messenger(page_id, token),
    };
    let to = UserId::from(args.to.as_str());
    let builder = match (&args.text, &args.attachment) {
        (_, Some(url)) => match attachment_kind(&args.attachment_type) {
            Some(kind) => account.attachment_url(to, kind, url.as_str()),
            None => {
                writeln!(
                    io.stderr,
                    "error: --attachment-type {:?} is not one of image, video, audio, file",
                    args.attachment_type
                )
                .map_err(CliError::Write)?;
                return Ok(ExitCode::FAILURE);
            }
        },
        (Some(text), None) => account.text(to, text.as_str()),
        // clap requires one of the two.
        (None, None) => account.text(to, ""),
    };
    match builder.send().await {
        Ok(sent) => {
            let answer = serde_json::json!({
                "recipient_id": sent.recipient_id,
                "message_id": sent.message_id,
            });
            writeln!(io.stdout, "{answer}").map_err(CliError::Write)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => print_graph_error(io, &err),
    }
}

/// The `--attachment-type` as the library reads Meta's names, in any case.
fn attachment_kind(name: &str) -> Option<AttachmentKind> {
    serde_json::from_value(serde_json::Value::String(name.to_ascii_lowercase())).ok()
}

/// A client for `--graph-url`, retrying as the library does by default, and sending
/// `appsecret_proof` when `--app-secret` (or `META_APP_SECRET`) is given.
pub(super) fn graph_client(
    graph_url: &str,
    app_secret: Option<&AppSecret>,
) -> Result<GraphClient, GraphError> {
    let mut builder = GraphClient::builder()
        .graph_url(graph_url)
        .user_agent(concat!("meta-messaging-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(secret) = app_secret {
        builder = builder.app_secret(secret.clone());
    }
    builder.build()
}

/// Prints a Graph error as kind, Meta's message and trace id, cause and fix; exits 1.
pub(super) fn print_graph_error(io: &mut Io, err: &GraphError) -> Result<ExitCode, CliError> {
    let mut lines = vec![format!("error: {}", err.kind())];
    match err.meta_error() {
        Some(api) => {
            let subcode = api
                .error_subcode
                .map(|s| format!(", subcode {s}"))
                .unwrap_or_default();
            lines.push(format!(
                "  meta: {} (code {}{subcode}, HTTP {})",
                api.message, api.code, api.status
            ));
            if let Some(trace) = &api.fbtrace_id {
                lines.push(format!("  fbtrace_id: {trace}"));
            }
        }
        None => lines.push(format!("  detail: {err}")),
    }
    if let Some(entry) = err.troubleshooting() {
        lines.push(format!("  cause: {}", entry.cause));
    }
    lines.push(format!("  fix: {}", err.fix()));
    if let Some(entry) = err.troubleshooting() {
        lines.push(format!("  docs: {}", entry.docs));
    }
    for line in lines {
        writeln!(io.stderr, "{line}").map_err(CliError::Write)?;
    }
    Ok(ExitCode::FAILURE)
}

#[cfg(test)]
mod tests {
    use meta_messaging_core::graph::AttachmentKind;

    use super::attachment_kind;

    #[test]
    fn attachment_types_are_the_send_apis_in_any_case() {
        assert_eq!(attachment_kind("image"), Some(AttachmentKind::Image));
        assert_eq!(attachment_kind("Video"), Some(AttachmentKind::Video));
        assert_eq!(attachment_kind("AUDIO"), Some(AttachmentKind::Audio));
        assert_eq!(attachment_kind("file"), Some(AttachmentKind::File));
        assert_eq!(attachment_kind("sticker"), None);
    }
}
