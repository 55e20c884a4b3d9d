//! A PostgreSQL cluster of the fault tests' own, on its own port, which they may restart
//! without disturbing the server every other test shares: created with Debian's
//! `pg_createcluster` (trust authentication, as the shared server), restarted with `pg_ctlcluster`,
//! dropped when the test ends.

use std::process::Command;
use std::time::{Duration, Instant};

const NAME: &str = "mm-faults";
const PORT: u16 = 5439;

/// The running cluster; dropped (stopped and deleted) with this value.
pub(crate) struct Cluster {
    version: String,
}

fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (the fault tests need PostgreSQL's server packages and root): {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed (the fault tests need root): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

impl Cluster {
    /// Creates the cluster (dropping one a killed run left behind) and starts it.
    pub(crate) fn start() -> Cluster {
        let version = run("pg_lsclusters", &["--no-header"])
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .max_by(|a, b| {
                let number = |v: &str| v.parse::<f64>().unwrap_or(0.0);
                number(a).total_cmp(&number(b))
            })
            .expect("pg_lsclusters lists no cluster: PostgreSQL's server is not installed")
            .to_owned();
        let leftover = run("pg_lsclusters", &["--no-header"])
            .lines()
            .any(|line| line.split_whitespace().nth(1) == Some(NAME));
        if leftover {
            run("pg_dropcluster", &["--stop", &version, NAME]);
        }
        run(
            "pg_createcluster",
            &[
                &version,
                NAME,
                "--port",
                &PORT.to_string(),
                "--",
                "--auth=trust",
            ],
        );
        let cluster = Cluster { version };
        cluster.ctl("start");
        cluster
    }

    /// The URL of the cluster's `postgres` database.
    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{PORT}/postgres")
    }

    /// Restarts the server (`pg_ctlcluster restart`, fast mode: every connection is cut), and
    /// waits until it accepts connections again.
    pub(crate) fn restart(&self) {
        self.ctl("restart");
    }

    fn ctl(&self, action: &str) {
        run(
            "pg_ctlcluster",
            &["--skip-systemctl-redirect", &self.version, NAME, action],
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while !Command::new("pg_isready")
            .args(["-q", "-h", "127.0.0.1", "-p", &PORT.to_string()])
            .status()
            .is_ok_and(|s| s.success())
        {
            assert!(
                Instant::now() < deadline,
                "the fault tests' cluster is not ready 30 s after {action}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Best effort: a failure here must not hide the test's own panic.
        let _ = Command::new("pg_dropcluster")
            .args(["--stop", &self.version, NAME])
            .status();
    }
}
