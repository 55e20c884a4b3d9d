//! The app-level checks of a report, read with the app token: what the app may serve and where
//! and what Meta delivers.

use super::silences::{app_mode_check, app_subscription_check, callback_check};
use super::{Check, CheckStatus, ConnectionReport, ReportOptions};
use crate::graph::account_admin::TokenInfo;
use crate::graph::client::GraphClient;
use crate::graph::requirements::{
    INSTAGRAM_WEBHOOK_FIELDS, MESSENGER_WEBHOOK_FIELDS, REQUIRED_INSTAGRAM_WEBHOOK_FIELDS,
    REQUIRED_WEBHOOK_FIELDS,
};

pub(super) const APP_MODE: (&str, &str) = (
    "app_mode",
    "App serves people without a role on it (Live, Advanced Access)",
);
pub(super) const APP_WEBHOOKS_PAGE: (&str, &str) = (
    "app_webhooks_page",
    "App subscribed to the page webhook fields",
);
pub(super) const APP_WEBHOOKS_INSTAGRAM: (&str, &str) = (
    "app_webhooks_instagram",
    "App subscribed to the instagram webhook fields",
);
pub(super) const CALLBACK_URL: (&str, &str) = (
    "callback_url",
    "Meta delivers webhooks to this app's callback URL",
);

/// The permissions whose approval lets the app message people without a role on it.
const PUBLIC_MESSAGING: &[&str] = &["pages_messaging", "instagram_manage_messages"];

impl GraphClient {
    /// The app-level checks; skipped, saying why, when the client has no app secret to make
    /// the app token with or `debug_token` named no app.
    pub(super) async fn check_app(
        &self,
        report: &mut ConnectionReport,
        info: &TokenInfo,
        options: &ReportOptions,
    ) {
        let all = [
            APP_MODE,
            APP_WEBHOOKS_PAGE,
            APP_WEBHOOKS_INSTAGRAM,
            CALLBACK_URL,
        ];
        let Some((app_id, token)) = info
            .app_id
            .as_ref()
            .and_then(|id| Some((id, self.app_token(id)?)))
        else {
            for (id, title) in all {
                report.checks.push(Check {
                    status: CheckStatus::Skipped,
                    ..Check::pass(
                        id,
                        title,
                        "not checked: needs the app secret (the app token reads the app's settings)".into(),
                    )
                });
            }
            return;
        };
        report
            .checks
            .push(match self.app_permissions(app_id, &token).await {
                Ok(approved) => app_mode_check(&approved, PUBLIC_MESSAGING),
                Err(error) => Check::error(APP_MODE.0, APP_MODE.1, &error),
            });
        let subscriptions = match self.app_subscriptions(app_id, &token).await {
            Ok(subscriptions) => subscriptions,
            Err(error) => {
                for (id, title) in [APP_WEBHOOKS_PAGE, APP_WEBHOOKS_INSTAGRAM, CALLBACK_URL] {
                    report.checks.push(Check::error(id, title, &error));
                }
                return;
            }
        };
        report.checks.push(app_subscription_check(
            APP_WEBHOOKS_PAGE.0,
            APP_WEBHOOKS_PAGE.1,
            "page",
            &subscriptions,
            (REQUIRED_WEBHOOK_FIELDS, MESSENGER_WEBHOOK_FIELDS),
        ));
        report.checks.push(if report.instagram_account.is_some() {
            app_subscription_check(
                APP_WEBHOOKS_INSTAGRAM.0,
                APP_WEBHOOKS_INSTAGRAM.1,
                "instagram",
                &subscriptions,
                (REQUIRED_INSTAGRAM_WEBHOOK_FIELDS, INSTAGRAM_WEBHOOK_FIELDS),
            )
        } else {
            Check {
                status: CheckStatus::Skipped,
                ..Check::pass(
                    APP_WEBHOOKS_INSTAGRAM.0,
                    APP_WEBHOOKS_INSTAGRAM.1,
                    "not checked: the Page has no Instagram account linked".into(),
                )
            }
        });
        report.checks.push(callback_check(
            &subscriptions,
            options.callback_url.as_deref(),
        ));
    }
}
