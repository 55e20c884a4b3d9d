//! [`ConnectionReport`]: one account checked end to end, each failure with its fix.

use std::time::Duration;

use serde::Serialize;

use crate::ids::PageId;
use crate::secret::PageAccessToken;

mod app;
mod checks;
mod silences;

use self::checks::{page_checks, permission_check, subscription_check, token_check};
use self::silences::{INSTAGRAM_MESSAGING, data_access_check, instagram_messaging_failed};
use super::account_admin::{InstagramBusinessAccount, TokenInfo};
use super::account_client::AccountClient;
use super::client::GraphClient;
use super::error::GraphError;
use super::kind::ErrorKind;
use super::request::Call;
use super::requirements::{INSTAGRAM_PERMISSIONS, MESSENGER_PERMISSIONS};
use super::token::Credential;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckStatus {
    /// All good.
    Pass,
    /// Works now, but needs attention.
    Warn,
    /// Broken: messaging does not work until fixed.
    Fail,
    /// Not run, because an earlier check failed.
    Skipped,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct Check {
    /// A stable id (`token`, `messenger_permissions`, ...).
    pub id: &'static str,
    /// What was checked.
    pub title: &'static str,
    /// The outcome.
    pub status: CheckStatus,
    /// What was found.
    pub detail: String,
    /// What to do, when it is not a pass.
    pub fix: Option<String>,
    /// Where Meta documents it.
    pub docs: Option<&'static str>,
    /// The kind of the Graph error behind a failure.
    pub error_kind: Option<ErrorKind>,
    /// Meta's trace id of that error.
    pub fbtrace_id: Option<String>,
}

impl Check {
    fn pass(id: &'static str, title: &'static str, detail: String) -> Self {
        Self {
            id,
            title,
            status: CheckStatus::Pass,
            detail,
            fix: None,
            docs: None,
            error_kind: None,
            fbtrace_id: None,
        }
    }

    fn problem(
        id: &'static str,
        title: &'static str,
        status: CheckStatus,
        detail: String,
        fix: &str,
        docs: &'static str,
    ) -> Self {
        Self {
            status,
            fix: Some(fix.to_owned()),
            docs: Some(docs),
            ..Self::pass(id, title, detail)
        }
    }

    fn error(id: &'static str, title: &'static str, error: &GraphError) -> Self {
        Self {
            status: CheckStatus::Fail,
            fix: Some(error.fix().to_owned()),
            docs: error.troubleshooting().map(|t| t.docs),
            error_kind: Some(error.kind()),
            fbtrace_id: error.fbtrace_id().map(str::to_owned),
            ..Self::pass(id, title, error.to_string())
        }
    }

    fn skipped(id: &'static str, title: &'static str) -> Self {
        Self {
            status: CheckStatus::Skipped,
            ..Self::pass(id, title, "not checked: an earlier check failed".into())
        }
    }
}

/// The health of one Page (and its Instagram account) for messaging.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ConnectionReport {
    /// The Page checked.
    pub page_id: Option<PageId>,
    /// Its name.
    pub page_name: Option<String>,
    /// The linked Instagram account.
    pub instagram_account: Option<InstagramBusinessAccount>,
    /// What `debug_token` said.
    pub token: Option<TokenInfo>,
    /// Every check, in order.
    pub checks: Vec<Check>,
}

impl ConnectionReport {
    /// No check failed (warnings allowed).
    pub fn is_healthy(&self) -> bool {
        !self.checks.iter().any(|c| c.status == CheckStatus::Fail)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == CheckStatus::Fail)
    }
}

/// How a [`ConnectionReport`] is made.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReportOptions {
    /// A token (or its data access) expiring within this margin is a warning (default 7 days).
    pub margin: Duration,
    /// The webhook callback URL this app serves, compared with the one Meta has on file;
    /// `None` lists Meta's without comparing.
    pub callback_url: Option<String>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            margin: Duration::from_secs(7 * 24 * 3600),
            callback_url: None,
        }
    }
}

impl ReportOptions {
    /// Sets the "expiring soon" margin.
    #[must_use]
    pub fn margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Sets the callback URL this app serves webhooks at.
    #[must_use]
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }
}

/// Every check of a report, in order: the ones a failure leaves unrun are listed as skipped.
const CHECKS: [(&str, &str); 12] = [
    ("token", "Access token is valid"),
    ("data_access", "Data access has not expired"),
    ("messenger_permissions", "Messenger permissions granted"),
    ("instagram_permissions", "Instagram permissions granted"),
    ("page", "Page is reachable with this token"),
    ("instagram_linked", "Instagram account linked to the Page"),
    INSTAGRAM_MESSAGING,
    (
        "webhook_subscription",
        "App subscribed to the Page's webhooks",
    ),
    app::APP_MODE,
    app::APP_WEBHOOKS_PAGE,
    app::APP_WEBHOOKS_INSTAGRAM,
    app::CALLBACK_URL,
];

#[derive(serde::Deserialize)]
struct Me {
    id: PageId,
}

impl GraphClient {
    /// Checks a Page token end to end: the token is valid and not expiring within 7 days, nor
    /// its data access; it has the permissions messaging needs; the Page has an Instagram
    /// account linked whose messages can be read ("Allow access to messages"); the app is
    /// subscribed to the Page's webhooks with the fields meta-messaging handles. When the
    /// client has the app secret, also the app's side (with its app token): the messaging
    /// permissions approved for people without a role on the app, and the app's `page` and
    /// `instagram` webhook subscriptions and the callback URL Meta has on file.
    ///
    /// Never fails: every problem, Graph errors included, is a failed [`Check`] with its fix.
    /// Without `page_id`, the Page is the token's own (`debug_token`'s `profile_id`, or `/me`).
    pub async fn connection_report(
        &self,
        token: PageAccessToken,
        page_id: Option<PageId>,
    ) -> ConnectionReport {
        self.connection_report_with(token, page_id, &ReportOptions::default())
            .await
    }

    /// [`connection_report`](Self::connection_report) with your own "expiring soon" margin.
    pub async fn connection_report_with_margin(
        &self,
        token: PageAccessToken,
        page_id: Option<PageId>,
        margin: Duration,
    ) -> ConnectionReport {
        let options = ReportOptions::default().margin(margin);
        self.connection_report_with(token, page_id, &options).await
    }

    /// [`connection_report`](Self::connection_report) made as `options` say.
    pub async fn connection_report_with(
        &self,
        token: PageAccessToken,
        page_id: Option<PageId>,
        options: &ReportOptions,
    ) -> ConnectionReport {
        let credential = Credential::Page(token.clone());
        let mut report = ConnectionReport {
            page_id,
            page_name: None,
            instagram_account: None,
            token: None,
            checks: Vec::new(),
        };
        let info = match self.debug_token(&credential, &credential).await {
            Ok(info) => info,
            Err(error) => {
                report
                    .checks
                    .push(Check::error("token", "Access token is valid", &error));
                skip_rest(&mut report);
                return report;
            }
        };
        self.check_valid_token(&mut report, &info, token, options)
            .await;
        report.token = Some(info);
        report
    }

    /// The checks that follow what `debug_token` answered, up to the first one that leaves
    /// nothing further to check.
    async fn check_valid_token(
        &self,
        report: &mut ConnectionReport,
        info: &TokenInfo,
        token: PageAccessToken,
        options: &ReportOptions,
    ) {
        report.checks.push(token_check(info, options.margin));
        if !info.is_valid {
            skip_rest(report);
            return;
        }
        report.checks.push(data_access_check(info, options.margin));
        report.checks.push(permission_check(
            "messenger_permissions",
            "Messenger permissions granted",
            info,
            MESSENGER_PERMISSIONS,
        ));
        report.checks.push(permission_check(
            "instagram_permissions",
            "Instagram permissions granted",
            info,
            INSTAGRAM_PERMISSIONS,
        ));
        let page_id = match self.report_page_id(report, info, &token).await {
            Ok(id) => id,
            Err(error) => {
                report.checks.push(Check::error(
                    "page",
                    "Page is reachable with this token",
                    &error,
                ));
                skip_rest(report);
                return;
            }
        };
        let page = self.messenger(page_id.clone(), token.clone());
        report.page_id = Some(page_id.clone());
        check_page(&page, report).await;
        self.check_instagram_messaging(report, page_id, token).await;
        report.checks.push(match page.subscribed_apps().await {
            Ok(apps) => subscription_check(&apps, info.app_id.as_ref()),
            Err(error) => Check::error(
                "webhook_subscription",
                "App subscribed to the Page's webhooks",
                &error,
            ),
        });
        self.check_app(report, info, options).await;
    }

    /// `instagram_messaging`: one conversation of the linked Instagram account is read, which
    /// Meta refuses while "Allow access to messages" is off.
    async fn check_instagram_messaging(
        &self,
        report: &mut ConnectionReport,
        page_id: PageId,
        token: PageAccessToken,
    ) {
        let (id, title) = INSTAGRAM_MESSAGING;
        let Some(account) = &report.instagram_account else {
            report.checks.push(Check::skipped(id, title));
            return;
        };
        let detail = format!(
            "@{} ({})",
            account.username.as_deref().unwrap_or("?"),
            account.id
        );
        let read = self
            .instagram_via_page(page_id, token)
            .conversations()
            .limit(1)
            .page()
            .await;
        report.checks.push(match read {
            Ok(_) => Check::pass(id, title, detail),
            Err(error) => instagram_messaging_failed(&error),
        });
    }

    /// The Page to check: the one asked for, else the token's own (`profile_id`, or `/me`).
    async fn report_page_id(
        &self,
        report: &ConnectionReport,
        info: &TokenInfo,
        token: &PageAccessToken,
    ) -> Result<PageId, GraphError> {
        if let Some(id) = report
            .page_id
            .clone()
            .or_else(|| info.profile_id.clone().map(PageId::from))
        {
            return Ok(id);
        }
        let credential = Credential::Page(token.clone());
        let me = self
            .execute::<Me>(Call::get("me").auth(&credential).query("fields", "id"))
            .await?;
        Ok(me.id)
    }
}

/// The `page` and `instagram_linked` checks, keeping what Meta answered about the Page.
async fn check_page(page: &AccountClient, report: &mut ConnectionReport) {
    match page.page_info().await {
        Ok(found) => {
            report.checks.extend(page_checks(&found));
            report.page_name = found.name;
            report.instagram_account = found.instagram_business_account;
        }
        Err(error) => {
            report.checks.push(Check::error(
                "page",
                "Page is reachable with this token",
                &error,
            ));
            report.checks.push(Check::skipped(
                "instagram_linked",
                "Instagram account linked to the Page",
            ));
            report
                .checks
                .push(Check::skipped(INSTAGRAM_MESSAGING.0, INSTAGRAM_MESSAGING.1));
        }
    }
}

/// Lists every check not run yet as skipped.
fn skip_rest(report: &mut ConnectionReport) {
    for (id, title) in CHECKS {
        if !report.checks.iter().any(|c| c.id == id) {
            report.checks.push(Check::skipped(id, title));
        }
    }
}
