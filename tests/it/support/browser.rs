//! A real headless Chromium for page tests, driven over WebDriver (chromedriver).
//!
//! The binaries come from `CHROMEDRIVER` and `CHROMIUM` (default: `chromedriver` and `chromium`
//! on the PATH; Debian's packages `chromium-driver` and `chromium`). Without them, browser tests
//! print "skipped" and pass, so developers without a browser can run the rest; with
//! `META_MESSAGING_REQUIRE_BROWSER=1` (as in CI) they fail instead.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

const REQUIRED: &str = "META_MESSAGING_REQUIRE_BROWSER";

/// A chromedriver process and a session in a headless Chromium; both end when dropped.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Chromium outlives a killed chromedriver, and a WebDriver session cannot be closed
        // here (closing is async): kill the process group chromedriver leads, which holds the
        // browser's processes too, so a failed test leaves nothing running.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn find(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

impl Browser {
    /// Starts Chromium at 1280x800, or `None` (after saying so) when it is not installed.
    pub(crate) async fn start() -> Option<Self> {
        let driver = find("CHROMEDRIVER", &["chromedriver"]);
        let chromium = find(
            "CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        );
        let (Some(driver), Some(chromium)) = (driver, chromium) else {
            assert!(
                std::env::var(REQUIRED).as_deref() != Ok("1"),
                "{REQUIRED}=1 but chromedriver or chromium is missing: install the Debian packages chromium and chromium-driver (or set CHROMEDRIVER and CHROMIUM)"
            );
            eprintln!("skipped: install chromium and chromium-driver to run the browser tests");
            return None;
        };
        Some(Self::launch(&driver, &chromium).await)
    }

    async fn launch(driver: &Path, chromium: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", driver.display()));
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic", "--no-first-run",
                    "--disable-dev-shm-usage", "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let webdriver = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => break client,
                Err(err) if Instant::now() > deadline => {
                    panic!("no WebDriver session after 30 s: {err}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Self {
            client,
            driver: child,
            _profile: profile,
        }
    }

    /// Waits until the JavaScript expression `condition` is true; fails after `timeout` with
    /// `what` and the value of `diagnostic`.
    pub(crate) async fn wait_until(&self, what: &str, condition: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let holds = self
                .client
                .execute(&format!("return Boolean({condition});"), vec![])
                .await
                .unwrap();
            if holds == Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                let page = self
                    .client
                    .execute("return document.body.innerText;", vec![])
                    .await
                    .unwrap_or_default();
                panic!("{what}: not true after {timeout:?}: {condition}\npage text:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The element `css` selects (it must exist).
    pub(crate) async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("no element {css}: {err}"))
    }

    /// Clicks the element `css` selects.
    pub(crate) async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|err| panic!("cannot click {css}: {err}"));
    }

    /// Evaluates a JavaScript expression.
    pub(crate) async fn eval(&self, expression: &str) -> Value {
        self.client
            .execute(&format!("return ({expression});"), vec![])
            .await
            .unwrap()
    }

    /// Runs `body` as an async script: it passes its result to `done(value)`.
    pub(crate) async fn eval_async(&self, body: &str) -> Value {
        self.client
            .execute_async(
                &format!("const done = arguments[arguments.length - 1]; {body}"),
                vec![],
            )
            .await
            .unwrap_or_else(|err| panic!("script failed: {err}\n{body}"))
    }

    /// The status of a `fetch` of `path` by the page: same-origin, with the page's cookies.
    pub(crate) async fn fetch_status(&self, path: &str) -> u64 {
        let status = self
            .eval_async(&format!(
                "fetch({path:?}).then(r => done(r.status), e => done(String(e)));"
            ))
            .await;
        status
            .as_u64()
            .unwrap_or_else(|| panic!("fetch {path}: {status}"))
    }

    /// Saves a PNG of the window to `path`.
    pub(crate) async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}
