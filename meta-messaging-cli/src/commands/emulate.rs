//! `meta-messaging emulate`

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use meta_messaging_emulator::{Emulator, World};

use crate::cli::EmulateArgs;
use crate::error::CliError;
use crate::io::Io;

pub(super) async fn run(args: &EmulateArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let mut world = match &args.world {
        Some(path) => {
            let json = std::fs::read(path).map_err(|source| CliError::Read {
                path: path.clone(),
                source,
            })?;
            match World::from_json(&json) {
                Ok(world) => world,
                Err(err) => {
                    writeln!(
                        io.stderr,
                        "error: {} is not a world file: {err}",
                        path.display()
                    )
                    .map_err(CliError::Write)?;
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        None => World::demo().demo_history(),
    };
    if let Some(url) = &args.callback {
        super::parse_url(url)?;
        world.callback_url = Some(url.clone());
    }
    if let Some(secret) = &args.app_secret {
        secret.expose().clone_into(&mut world.app.secret);
    }
    if args.require_appsecret_proof {
        world.require_appsecret_proof = true;
    }
    let summary = summary(&world);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let emulator = match Emulator::start_on(world, addr).await {
        Ok(emulator) => emulator,
        Err(err) => {
            io.report_error(&err);
            return Ok(ExitCode::FAILURE);
        }
    };
    let url = emulator.url();
    writeln!(io.stdout, "Meta emulator listening on {url}").map_err(CliError::Write)?;
    writeln!(
        io.stdout,
        "  Graph API:   --graph-url {url}  (e.g. {url}/v23.0/me)"
    )
    .map_err(CliError::Write)?;
    writeln!(io.stdout, "  control API: {url}/_emulator/").map_err(CliError::Write)?;
    write!(io.stdout, "{summary}").map_err(CliError::Write)?;
    io.stdout.flush().map_err(CliError::Write)?;
    match emulator.wait().await {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) => {
            io.report_error(&err);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The world in a few lines, without its tokens or secret.
fn summary(world: &World) -> String {
    let mut out = format!("  app {} ({})\n", world.app.id, world.app.name);
    if world.require_appsecret_proof {
        out.push_str("  Require App Secret: calls with a token must carry appsecret_proof\n");
    }
    match &world.callback_url {
        Some(url) => out.push_str(&format!("  webhooks -> {url}\n")),
        None => out.push_str("  webhooks: no --callback; see GET /_emulator/webhooks\n"),
    }
    for page in &world.pages {
        out.push_str(&format!("  Page {} {:?}", page.id, page.name));
        if let Some(ig) = &page.instagram {
            out.push_str(&format!(", Instagram {} @{}", ig.id, ig.username));
        }
        out.push('\n');
    }
    for user in &world.users {
        out.push_str(&format!(
            "  user {} ({}) -> Page {}\n",
            user.id, user.platform, user.page
        ));
    }
    out
}
