//! `meta-messaging doctor`

use std::io::Write;
use std::process::ExitCode;

use meta_messaging_core::graph::{CheckStatus, ConnectionReport, ReportOptions};
use meta_messaging_core::ids::PageId;

use super::send::{graph_client, print_graph_error};
use crate::cli::DoctorArgs;
use crate::error::CliError;
use crate::io::Io;

pub(super) async fn run(args: &DoctorArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let client = match graph_client(&args.graph_url, args.app_secret.as_ref()) {
        Ok(client) => client,
        Err(err) => return print_graph_error(io, &err),
    };
    let page_id = args.page_id.as_deref().map(PageId::from);
    let mut options = ReportOptions::default();
    if let Some(url) = &args.callback_url {
        options = options.callback_url(url.as_str());
    }
    let report = client
        .connection_report_with(args.token.clone(), page_id, &options)
        .await;
    if args.json {
        let json = serde_json::to_string_pretty(&report)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        writeln!(io.stdout, "{json}").map_err(CliError::Write)?;
    } else {
        print_checklist(&report, io).map_err(CliError::Write)?;
    }
    Ok(if report.is_healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_checklist(report: &ConnectionReport, io: &mut Io) -> std::io::Result<()> {
    let page = match (&report.page_name, &report.page_id) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (None, Some(id)) => id.to_string(),
        _ => "the token's Page".to_owned(),
    };
    writeln!(io.stdout, "Connection report for {page}")?;
    for check in &report.checks {
        let mark = match check.status {
            CheckStatus::Pass => "[ok]  ",
            CheckStatus::Warn => "[warn]",
            CheckStatus::Fail => "[FAIL]",
            _ => "[skip]",
        };
        writeln!(io.stdout, "{mark} {}: {}", check.title, check.detail)?;
        if let Some(fix) = &check.fix {
            writeln!(io.stdout, "       fix: {fix}")?;
        }
        if let Some(kind) = check.error_kind {
            let trace = check.fbtrace_id.as_deref().unwrap_or("-");
            writeln!(io.stdout, "       kind: {kind}, fbtrace_id: {trace}")?;
        }
        if let (Some(docs), true) = (check.docs, check.status != CheckStatus::Pass) {
            writeln!(io.stdout, "       docs: {docs}")?;
        }
    }
    let failed = report.failures().count();
    if failed == 0 {
        writeln!(io.stdout, "All checks passed.")
    } else {
        writeln!(io.stdout, "{failed} check(s) failed.")
    }
}
