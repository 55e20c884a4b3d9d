//! `meta-messaging profile get` and `meta-messaging profile apply FILE`

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use meta_messaging_core::Platform;
use meta_messaging_core::graph::{AccountClient, GraphError, MessengerProfile, ProfileField};
use meta_messaging_core::ids::PageId;
use serde_json::{Map, Value};

use super::send::{graph_client, print_graph_error};
use crate::cli::{ProfileAccountArgs, ProfileApplyArgs, ProfileCommand};
use crate::error::CliError;
use crate::io::Io;

/// The key of a profile file that lists the fields to delete.
const DELETE_KEY: &str = "delete";

pub(super) async fn run(command: &ProfileCommand, io: &mut Io) -> Result<ExitCode, CliError> {
    match command {
        ProfileCommand::Get(args) => get(args, io).await,
        ProfileCommand::Apply(args) => apply(args, io).await,
    }
}

async fn get(args: &ProfileAccountArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let account = match account(args) {
        Ok(account) => account,
        Err(err) => return print_graph_error(io, &err),
    };
    match account.messenger_profile().await {
        Ok(profile) => {
            let json = serde_json::to_string_pretty(&profile).unwrap_or_default();
            writeln!(io.stdout, "{json}").map_err(CliError::Write)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => print_graph_error(io, &err),
    }
}

/// What a profile file asks for: fields to have, and fields to delete.
struct Desired {
    profile: MessengerProfile,
    delete: Vec<ProfileField>,
}

/// What applying changes, field by field.
#[derive(Default)]
struct Plan {
    set: Vec<ProfileField>,
    delete: Vec<ProfileField>,
    unchanged: Vec<ProfileField>,
}

async fn apply(args: &ProfileApplyArgs, io: &mut Io) -> Result<ExitCode, CliError> {
    let desired = read_file(&args.file, args.account.platform)?;
    let account = match account(&args.account) {
        Ok(account) => account,
        Err(err) => return print_graph_error(io, &err),
    };
    let current = match account.messenger_profile().await {
        Ok(profile) => profile,
        Err(err) => return print_graph_error(io, &err),
    };
    let plan = plan(&desired, &current);
    print_plan(io, &plan, &desired.profile)?;
    if args.dry_run || (plan.set.is_empty() && plan.delete.is_empty()) {
        let note = if args.dry_run {
            "dry run: nothing was changed"
        } else {
            "nothing to change"
        };
        writeln!(io.stdout, "{note}").map_err(CliError::Write)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !plan.set.is_empty()
        && let Err(err) = account
            .set_messenger_profile(&desired.profile.only(&plan.set))
            .await
    {
        return print_graph_error(io, &err);
    }
    if !plan.delete.is_empty()
        && let Err(err) = account.delete_messenger_profile_fields(&plan.delete).await
    {
        return print_graph_error(io, &err);
    }
    writeln!(
        io.stdout,
        "applied: {} set, {} deleted",
        plan.set.len(),
        plan.delete.len()
    )
    .map_err(CliError::Write)?;
    Ok(ExitCode::SUCCESS)
}

fn account(args: &ProfileAccountArgs) -> Result<AccountClient, GraphError> {
    let client = graph_client(&args.graph_url, args.app_secret.as_ref())?;
    let page_id = PageId::from(args.page_id.as_str());
    let token = args.token.clone();
    Ok(match args.platform {
        Platform::Instagram => client.instagram_via_page(page_id, token),
        _ => client.messenger(page_id, token),
    })
}

/// Fields in the file are set when they differ from Meta's; fields in `delete` are deleted
/// when Meta has them; any other field is left alone.
fn plan(desired: &Desired, current: &MessengerProfile) -> Plan {
    let mut plan = Plan::default();
    for field in ProfileField::ALL {
        if desired.profile.has(field) {
            if desired.profile.same(current, field) {
                plan.unchanged.push(field);
            } else {
                plan.set.push(field);
            }
        } else if desired.delete.contains(&field) {
            if current.has(field) {
                plan.delete.push(field);
            } else {
                plan.unchanged.push(field);
            }
        }
    }
    plan
}

fn print_plan(io: &mut Io, plan: &Plan, desired: &MessengerProfile) -> Result<(), CliError> {
    let values = serde_json::to_value(desired).unwrap_or(Value::Null);
    for field in &plan.set {
        let value = &values[field.as_str()];
        writeln!(io.stdout, "set       {field} = {value}").map_err(CliError::Write)?;
    }
    for field in &plan.delete {
        writeln!(io.stdout, "delete    {field}").map_err(CliError::Write)?;
    }
    for field in &plan.unchanged {
        writeln!(io.stdout, "unchanged {field}").map_err(CliError::Write)?;
    }
    Ok(())
}

/// Reads a `.toml` or `.json` profile file; any key other than the profile's fields and
/// `delete` is refused, so a misspelt field is not silently left unmanaged.
fn read_file(path: &Path, platform: Platform) -> Result<Desired, CliError> {
    let invalid = |reason: String| CliError::ProfileFile {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    let value: Value = match extension.to_ascii_lowercase().as_str() {
        "toml" => toml::from_str(&text).map_err(|e| invalid(e.to_string()))?,
        "json" => serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?,
        other => {
            return Err(invalid(format!(
                "the extension {other:?} is neither .toml nor .json"
            )));
        }
    };
    let Value::Object(mut map) = value else {
        return Err(invalid("the file must hold a table (object)".into()));
    };
    let delete = take_delete(&mut map).map_err(invalid)?;
    let known: Vec<&str> = ProfileField::ALL.iter().map(|f| f.as_str()).collect();
    if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(invalid(format!(
            "unknown key {unknown:?}; the keys are {}, and {DELETE_KEY}",
            known.join(", ")
        )));
    }
    let profile: MessengerProfile =
        serde_json::from_value(Value::Object(map)).map_err(|e| invalid(e.to_string()))?;
    if let Some(both) = delete.iter().find(|f| profile.has(**f)) {
        return Err(invalid(format!(
            "{both} is both set and listed in {DELETE_KEY}"
        )));
    }
    profile
        .validate(platform)
        .map_err(|e| invalid(e.to_string()))?;
    Ok(Desired { profile, delete })
}

fn take_delete(map: &mut Map<String, Value>) -> Result<Vec<ProfileField>, String> {
    match map.remove(DELETE_KEY) {
        None => Ok(Vec::new()),
        Some(list) => serde_json::from_value(list).map_err(|e| {
            format!(
                "{DELETE_KEY} must list field names (get_started, greeting, ice_breakers, persistent_menu): {e}"
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use meta_messaging_core::Platform;
    use meta_messaging_core::graph::{MessengerProfile, ProfileField};

    use super::{Desired, plan, read_file};

    fn file(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        let mut f = std::fs::File::create(&path).expect("create");
        f.write_all(text.as_bytes()).expect("write");
        (dir, path)
    }

    #[test]
    fn toml_and_json_read_alike() {
        let (_a, toml) = file(
            "p.toml",
            "delete = [\"greeting\"]\n[get_started]\npayload = \"GO\"\n",
        );
        let (_b, json) = file(
            "p.json",
            r#"{"delete": ["greeting"], "get_started": {"payload": "GO"}}"#,
        );
        for path in [toml, json] {
            let desired = read_file(&path, Platform::Messenger).expect("valid");
            assert_eq!(desired.profile, MessengerProfile::new().get_started("GO"));
            assert_eq!(desired.delete, [ProfileField::Greeting]);
        }
    }

    #[test]
    fn a_misspelt_key_or_an_over_limit_value_is_refused() {
        let (_a, path) = file(
            "p.toml",
            "[[greetings]]\nlocale = \"default\"\ntext = \"Hi\"\n",
        );
        let err = read_file(&path, Platform::Messenger)
            .err()
            .expect("refused");
        assert!(
            err.to_string().contains("unknown key \"greetings\""),
            "{err}"
        );
        let long = "x".repeat(161);
        let (_b, path) = file(
            "p.json",
            &format!(r#"{{"greeting": [{{"locale": "default", "text": "{long}"}}]}}"#),
        );
        let err = read_file(&path, Platform::Messenger)
            .err()
            .expect("refused");
        assert!(err.to_string().contains("greeting.text"), "{err}");
    }

    #[test]
    fn only_fields_in_the_file_are_managed() {
        let desired = Desired {
            profile: MessengerProfile::new().get_started("GO"),
            delete: vec![ProfileField::Greeting, ProfileField::IceBreakers],
        };
        let current = MessengerProfile::new()
            .get_started("OLD")
            .greeting(vec![meta_messaging_core::graph::Greeting::new(
                "default", "Hi",
            )])
            .persistent_menu(vec![]);
        let plan = plan(&desired, &current);
        assert_eq!(plan.set, [ProfileField::GetStarted]);
        assert_eq!(plan.delete, [ProfileField::Greeting]);
        assert_eq!(plan.unchanged, [ProfileField::IceBreakers]);
    }
}
