//! The unified-inbox binary's command line as a process (the test binary runs itself again as
//! the app: the ignored test below calls `unified_inbox::cli::run`, as `main` does):
//! `--check-config` prints the effective configuration without a secret and exits 0, or names
//! the variable to fix and exits 1; with no configuration at all the app suggests `--demo`.

use std::process::{Command, Output};

const CHILD_ENV: &str = "UNIFIED_INBOX_TEST_ARGS";

/// The app's command line, with the arguments of `UNIFIED_INBOX_TEST_ARGS` (space-separated);
/// does nothing unless the tests below start it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "started by the command-line tests as a child process"]
async fn unified_inbox_process() {
    let Ok(args) = std::env::var(CHILD_ENV) else {
        return;
    };
    let args = std::iter::once("unified-inbox").chain(args.split_whitespace());
    let code = unified_inbox::cli::run(args.map(str::to_owned)).await;
    std::process::exit(i32::from(code));
}

/// Runs the app with `args` and only the `vars` of the environment's `META_*` ones.
fn app(args: &str, vars: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([
        "unified_inbox_cli::unified_inbox_process",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (name, _) in std::env::vars() {
        if name.starts_with("META_") || name == "BIND" {
            command.env_remove(name);
        }
    }
    command.env(CHILD_ENV, args).envs(vars.iter().copied());
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    (
        status.code().expect("exited"),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

#[test]
fn check_config_prints_the_effective_configuration_without_secrets() {
    let secrets = [
        ("META_APP_SECRET", "app-secret-a1b2c3"),
        ("META_VERIFY_TOKEN", "verify-token-d4e5f6"),
        (
            "META_STORE",
            "postgres://inbox:pg-password-g7h8@db.internal:5432/inbox",
        ),
        ("META_API_TOKEN", "api-token-i9j0k1"),
        (
            "META_TOKEN_KEY",
            "5uQcdnYkmdXy0a1wbq7Yqs0a2yzeIN0pQmkQz+z4Y2A=",
        ),
    ];
    let mut vars = secrets.to_vec();
    vars.push(("META_SHUTDOWN_TIMEOUT_SECS", "12"));
    let (code, stdout, stderr) = app("--check-config", &vars);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for (name, secret) in secrets {
        assert!(stdout.contains(name), "{name} missing:\n{stdout}");
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{name}'s value shown:\n{stdout}\n{stderr}"
        );
    }
    assert!(!stdout.contains("pg-password-g7h8"), "{stdout}");
    assert!(
        stdout.contains("postgres://inbox:REDACTED@db.internal:5432/inbox"),
        "{stdout}"
    );
    assert!(stdout.contains("META_SHUTDOWN_TIMEOUT_SECS"), "{stdout}");
    assert!(stdout.contains("configuration valid"), "{stdout}");
}

#[test]
fn check_config_names_the_variable_to_fix_and_fails() {
    let vars = [
        ("META_APP_SECRET", "app-secret-a1b2c3"),
        ("META_VERIFY_TOKEN", "verify-token-d4e5f6"),
        ("META_SHUTDOWN_TIMEOUT_SECS", "soon"),
    ];
    let (code, stdout, stderr) = app("--check-config", &vars);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("META_SHUTDOWN_TIMEOUT_SECS is invalid")
            && stderr.contains("whole number of seconds"),
        "{stderr}"
    );
    assert!(!stdout.contains("configuration valid"), "{stdout}");

    let (code, _, stderr) = app("--check-config", &[("META_APP_SECRET", "s")]);
    assert_eq!(code, 1);
    assert!(stderr.contains("META_VERIFY_TOKEN is not set"), "{stderr}");
}

#[test]
fn started_with_no_configuration_it_suggests_the_demo() {
    for args in ["", "--check-config"] {
        let (code, stdout, stderr) = app(args, &[]);
        assert_eq!(code, 1, "{args}: {stdout}\n{stderr}");
        assert!(
            stderr.contains("no configuration") && stderr.contains("--demo"),
            "{args}: {stderr}"
        );
    }
}
