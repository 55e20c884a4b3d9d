//! The emulated world: the app, its Pages and Instagram accounts, and the people who write to them.

use std::collections::BTreeMap;

use meta_messaging_core::Platform;
use meta_messaging_core::graph::{INSTAGRAM_WEBHOOK_FIELDS, MESSENGER_WEBHOOK_FIELDS};
use serde::Deserialize;

/// Everything the emulator knows at start: the app, its Pages (with tokens, permissions and
/// linked Instagram accounts), the users who can write to them, and where webhooks go.
///
/// It deserializes from the `--world FILE` JSON (see `docs/emulator.md`); [`World::demo`] is a
/// ready-made world with one Page, its Instagram account and one user on each platform.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct World {
    /// The Meta app the Pages are connected to.
    pub app: App,
    /// The Pages, each with its token.
    #[serde(default)]
    pub pages: Vec<FacebookPage>,
    /// People who can write to the Pages and Instagram accounts.
    #[serde(default)]
    pub users: Vec<User>,
    /// Where webhook deliveries are POSTed; `None` keeps them in the delivery log only.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// A Facebook user token whose `GET /me/accounts` lists every Page.
    #[serde(default)]
    pub user_token: Option<String>,
    /// At most this many sends per Page per second; more are answered with Meta's throttling error.
    #[serde(default)]
    pub send_rate_limit: Option<u32>,
    /// How often a delivery the callback did not answer with 2xx is tried again (default 3).
    #[serde(default = "default_webhook_retries")]
    pub webhook_retries: u32,
    /// The wait before the first redelivery, doubled for each later one (default 500 ms).
    #[serde(default = "default_webhook_retry_delay_ms")]
    pub webhook_retry_delay_ms: u64,
    /// Meta's "Require App Secret" setting: every call with a Page or user token must carry
    /// `appsecret_proof` (hex HMAC-SHA256 of the token keyed with the app secret). A proof that
    /// is present is checked either way, as Meta does.
    #[serde(default)]
    pub require_appsecret_proof: bool,
    /// Messages exchanged before the emulator started: the Conversations API lists them (with
    /// their past times), no webhook is sent for them.
    #[serde(default)]
    pub history: Vec<PriorMessage>,
    /// How long the URLs of attachments the emulator serves (`/_emulator/attachments/{id}`:
    /// uploads, and media hosted with `POST /_emulator/media`) work, in ms (default 3 days).
    /// After it they answer 403 `URL signature expired`, as Meta's CDN does.
    #[serde(default = "default_attachment_url_ttl_ms")]
    pub attachment_url_ttl_ms: u64,
}

/// A message of a conversation that happened before the emulator started.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct PriorMessage {
    /// Meta's message id.
    pub mid: String,
    /// The user of the conversation (a [`User`] of the world).
    pub user: String,
    /// `true` when the user wrote it, `false` when the Page or Instagram account did.
    pub from_user: bool,
    /// The text.
    pub text: String,
    /// When it was sent, in ms since the epoch.
    pub timestamp_ms: i64,
    /// A picture it carries: its media type and bytes, served at an attachment URL that
    /// expires like the others ([`World::attachment_url_ttl`]). Set in code only, not read from
    /// a world file.
    #[serde(skip)]
    pub picture: Option<(String, bytes::Bytes)>,
}

impl PriorMessage {
    /// A message `user` wrote at `timestamp_ms`.
    pub fn from_user(
        mid: impl Into<String>,
        user: impl Into<String>,
        text: impl Into<String>,
        timestamp_ms: i64,
    ) -> Self {
        Self {
            mid: mid.into(),
            user: user.into(),
            from_user: true,
            text: text.into(),
            timestamp_ms,
            picture: None,
        }
    }

    /// The same message, carrying a picture of media type `mime`.
    #[must_use]
    pub fn with_picture(mut self, mime: impl Into<String>, bytes: impl Into<bytes::Bytes>) -> Self {
        self.picture = Some((mime.into(), bytes.into()));
        self
    }

    /// A message the account sent to `user` at `timestamp_ms`.
    pub fn to_user(
        mid: impl Into<String>,
        user: impl Into<String>,
        text: impl Into<String>,
        timestamp_ms: i64,
    ) -> Self {
        Self {
            from_user: false,
            ..Self::from_user(mid, user, text, timestamp_ms)
        }
    }
}

fn default_attachment_url_ttl_ms() -> u64 {
    3 * 24 * 3600 * 1000
}

fn default_webhook_retries() -> u32 {
    3
}

fn default_webhook_retry_delay_ms() -> u64 {
    500
}

impl std::fmt::Debug for World {
    // Hand-written so tokens and the app secret never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("app", &self.app)
            .field("pages", &self.pages)
            .field("users", &self.users)
            .field("callback_url", &self.callback_url)
            .field(
                "user_token",
                &self.user_token.as_ref().map(|_| "[redacted]"),
            )
            .field("send_rate_limit", &self.send_rate_limit)
            .field("webhook_retries", &self.webhook_retries)
            .field("webhook_retry_delay_ms", &self.webhook_retry_delay_ms)
            .field("require_appsecret_proof", &self.require_appsecret_proof)
            .field("history", &self.history.len())
            .field("attachment_url_ttl_ms", &self.attachment_url_ttl_ms)
            .finish()
    }
}

/// The Meta app.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct App {
    /// The app id (`app_id` in echoes and `debug_token`).
    pub id: String,
    /// The app secret webhooks are signed with.
    pub secret: String,
    /// The app's name.
    #[serde(default = "default_app_name")]
    pub name: String,
    /// Development or Live. In development, Meta delivers webhooks only for people with a role
    /// on the app ([`User::app_role()`]), and `GET /{app-id}/permissions` lists no approved
    /// messaging permission.
    #[serde(default)]
    pub mode: AppMode,
    /// The webhook fields the app subscribes to, per object (`page`, `instagram`), as
    /// `GET /{app-id}/subscriptions` lists them; an event of a field not listed is not
    /// delivered. `None` (the default) subscribes every field the emulator delivers.
    #[serde(default)]
    pub webhook_fields: Option<BTreeMap<String, Vec<String>>>,
}

/// The App Dashboard's app mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AppMode {
    /// Only people with a role on the app (and test users) are served.
    Development,
    /// Everyone is served (the messaging permissions are approved).
    #[default]
    Live,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .field("name", &self.name)
            .field("mode", &self.mode)
            .field("webhook_fields", &self.webhook_fields)
            .finish()
    }
}

fn default_app_name() -> String {
    "Emulated App".to_owned()
}

/// A Facebook Page connected to the app.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FacebookPage {
    /// The Page id.
    pub id: String,
    /// The Page's name.
    pub name: String,
    /// The Page access token the app holds.
    pub token: String,
    /// The permissions granted to the token (`pages_messaging`, `instagram_manage_messages`, ...).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// The Instagram professional account linked to the Page.
    #[serde(default)]
    pub instagram: Option<InstagramAccount>,
    /// The fields the app is subscribed to on this Page (`subscribed_apps`) at start; an event
    /// of a field not subscribed is not delivered, and `POST /{page-id}/subscribed_apps`
    /// replaces them. `None` (the default) lists no subscription until the app subscribes,
    /// and delivers every field either way.
    #[serde(default)]
    pub subscribed_fields: Option<Vec<String>>,
}

impl std::fmt::Debug for FacebookPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacebookPage")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("token", &"[redacted]")
            .field("permissions", &self.permissions)
            .field("instagram", &self.instagram)
            .field("subscribed_fields", &self.subscribed_fields)
            .finish()
    }
}

/// An Instagram professional account linked to a Page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct InstagramAccount {
    /// The Instagram account id (the entry id of Instagram webhooks).
    pub id: String,
    /// The account's username.
    pub username: String,
    /// The account's display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The Instagram app's "Allow access to messages" setting (default on). Off, no message
    /// webhook of the account is delivered and the Send and Conversations APIs refuse its
    /// messages.
    #[serde(default = "default_true")]
    pub allow_access_to_messages: bool,
}

fn default_true() -> bool {
    true
}

/// A person who writes to a Page (Messenger, by PSID) or its Instagram account (by IGSID).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct User {
    /// The PSID or IGSID, scoped to `page`.
    pub id: String,
    /// Where the user writes: `messenger` or `instagram`.
    pub platform: Platform,
    /// The Page the user writes to (on Instagram: to the Page's linked account).
    pub page: String,
    /// The user's display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether the user has a role on the app (admin, developer, tester): in development mode
    /// only their events are delivered.
    #[serde(default)]
    pub app_role: bool,
}

impl World {
    /// An empty world for the app `app_id` whose webhooks are signed with `app_secret`.
    pub fn new(app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self {
            app: App {
                id: app_id.into(),
                secret: app_secret.into(),
                name: default_app_name(),
                mode: AppMode::Live,
                webhook_fields: None,
            },
            pages: Vec::new(),
            users: Vec::new(),
            callback_url: None,
            user_token: None,
            send_rate_limit: None,
            webhook_retries: default_webhook_retries(),
            webhook_retry_delay_ms: default_webhook_retry_delay_ms(),
            require_appsecret_proof: false,
            history: Vec::new(),
            attachment_url_ttl_ms: default_attachment_url_ttl_ms(),
        }
    }

    /// A world with one Page (`104417552380421`, token `EAAG-emulator-page-token`, every messaging
    /// permission), its Instagram account `17841400000000000`, one Messenger user
    /// (`6758492015643287`) and one Instagram user (`5000000000000001`); user token
    /// `EAAG-emulator-user-token`. The ids are the ones Meta's documentation examples use.
    pub fn demo() -> Self {
        let mut world = Self::new("1234567890", "emulator-app-secret")
            .page(
                FacebookPage::new("104417552380421", "Acme Shoes", "EAAG-emulator-page-token")
                    .permissions([
                        "pages_show_list",
                        "pages_messaging",
                        "pages_manage_metadata",
                        "pages_read_engagement",
                        "instagram_basic",
                        "instagram_manage_messages",
                    ])
                    .instagram(InstagramAccount::new("17841400000000000", "acmeshoes")),
            )
            .user(User::new(
                "6758492015643287",
                Platform::Messenger,
                "104417552380421",
            ))
            .user(User::new(
                "5000000000000001",
                Platform::Instagram,
                "104417552380421",
            ));
        world.user_token = Some("EAAG-emulator-user-token".to_owned());
        world
    }

    /// Adds a Page.
    #[must_use]
    pub fn page(mut self, page: FacebookPage) -> Self {
        self.pages.push(page);
        self
    }

    /// Adds a few days of earlier conversations of the [`demo`](Self::demo) users (three
    /// Messenger messages three days ago, two Instagram messages two days ago, each thread with
    /// a reply of the account), for a history backfill to import.
    #[must_use]
    pub fn demo_history(mut self) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let day = 86_400_000;
        let (ana, ig) = ("6758492015643287", "5000000000000001");
        self.history.extend([
            PriorMessage::from_user(
                "m_history_1",
                ana,
                "Do you have the trail runners in 42?",
                now - 3 * day,
            ),
            PriorMessage::to_user(
                "m_history_2",
                ana,
                "We do! Black or blue?",
                now - 3 * day + 600_000,
            ),
            PriorMessage::from_user(
                "m_history_3",
                ana,
                "Blue please, I'll order tonight.",
                now - 3 * day + 900_000,
            ),
            PriorMessage::from_user(
                "aWdfZAG1faXRlbTpoaXN0b3J5XzE",
                ig,
                "Is the spring sale still on?",
                now - 2 * day,
            ),
            PriorMessage::to_user(
                "aWdfZAG1faXRlbTpoaXN0b3J5XzI",
                ig,
                "Until Sunday, 20% off everything.",
                now - 2 * day + 300_000,
            ),
        ]);
        self
    }

    /// Adds a message exchanged before the emulator started (see [`World::history`]).
    #[must_use]
    pub fn prior(mut self, message: PriorMessage) -> Self {
        self.history.push(message);
        self
    }

    /// Adds a user, or replaces the user with the same id.
    #[must_use]
    pub fn user(mut self, user: User) -> Self {
        self.users.retain(|u| u.id != user.id);
        self.users.push(user);
        self
    }

    /// Sets where webhooks are delivered.
    #[must_use]
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// Sets the Facebook user token that lists every Page on `GET /me/accounts`.
    #[must_use]
    pub fn user_token(mut self, token: impl Into<String>) -> Self {
        self.user_token = Some(token.into());
        self
    }

    /// Limits sends to `per_second` per Page; beyond it the Send API answers Meta's code 613.
    #[must_use]
    pub fn send_rate_limit(mut self, per_second: u32) -> Self {
        self.send_rate_limit = Some(per_second);
        self
    }

    /// Retries a refused delivery `retries` times, first after `first_delay`, then after twice
    /// the previous wait; `0` delivers once.
    #[must_use]
    pub fn webhook_retries(mut self, retries: u32, first_delay: std::time::Duration) -> Self {
        self.webhook_retries = retries;
        self.webhook_retry_delay_ms = u64::try_from(first_delay.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Turns on Meta's "Require App Secret": calls with a Page or user token and no
    /// `appsecret_proof` are answered with Meta's error (code 100).
    #[must_use]
    pub fn require_appsecret_proof(mut self, on: bool) -> Self {
        self.require_appsecret_proof = on;
        self
    }

    /// How long the attachment URLs the emulator serves work before they answer 403, as
    /// Meta's CDN URLs expire (default 3 days).
    #[must_use]
    pub fn attachment_url_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.attachment_url_ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Sets the app's mode; in [`AppMode::Development`] only users with
    /// [`app_role`](User::app_role()) are delivered.
    #[must_use]
    pub fn app_mode(mut self, mode: AppMode) -> Self {
        self.app.mode = mode;
        self
    }

    /// Subscribes the app to exactly `fields` of `object` (`page` or `instagram`); the other
    /// object keeps every field unless set too.
    #[must_use]
    pub fn app_webhook_fields<I, S>(mut self, object: &str, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let all = self.app.webhook_fields.get_or_insert_with(|| {
            BTreeMap::from([
                ("page".to_owned(), strings(MESSENGER_WEBHOOK_FIELDS)),
                ("instagram".to_owned(), strings(INSTAGRAM_WEBHOOK_FIELDS)),
            ])
        });
        all.insert(
            object.to_owned(),
            fields.into_iter().map(Into::into).collect(),
        );
        self
    }

    /// Reads a world from its JSON form (the `--world FILE` format).
    ///
    /// # Errors
    /// [`serde_json::Error`] when the JSON does not describe a world.
    pub fn from_json(json: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(json)
    }
}

/// Owned copies of a list of field names.
pub(crate) fn strings(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| (*f).to_owned()).collect()
}

impl FacebookPage {
    /// A Page with no permissions and no Instagram account.
    pub fn new(id: impl Into<String>, name: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            token: token.into(),
            permissions: Vec::new(),
            instagram: None,
            subscribed_fields: None,
        }
    }

    /// Grants `permissions` to the Page token.
    #[must_use]
    pub fn permissions<I, S>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// Starts the Page subscribed to exactly `fields`; events of other fields are not
    /// delivered.
    #[must_use]
    pub fn subscribed_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subscribed_fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// Links an Instagram professional account.
    #[must_use]
    pub fn instagram(mut self, account: InstagramAccount) -> Self {
        self.instagram = Some(account);
        self
    }
}

impl InstagramAccount {
    /// Turns "Allow access to messages" off (or back on).
    #[must_use]
    pub fn allow_access_to_messages(mut self, on: bool) -> Self {
        self.allow_access_to_messages = on;
        self
    }

    /// An account with this id and username.
    pub fn new(id: impl Into<String>, username: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            username: username.into(),
            name: None,
            allow_access_to_messages: true,
        }
    }
}

impl User {
    /// A user of `platform` writing to the Page `page`.
    pub fn new(id: impl Into<String>, platform: Platform, page: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            platform,
            page: page.into(),
            name: None,
            app_role: false,
        }
    }

    /// Gives the user a role on the app, so development mode delivers their events.
    #[must_use]
    pub fn app_role(mut self) -> Self {
        self.app_role = true;
        self
    }

    /// Sets the display name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The name Meta shows for the user: theirs, or a stand-in when the world gives none.
    pub(crate) fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| "Emulated User".to_owned())
    }

    /// The Instagram username: the display name in lower case, spaces as dots.
    pub(crate) fn username(&self) -> String {
        self.display_name().to_lowercase().replace(' ', ".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let shown = format!("{:?}", World::demo());
        assert!(!shown.contains("emulator-app-secret"));
        assert!(!shown.contains("EAAG-emulator"));
    }

    #[test]
    fn reads_the_json_form() {
        let world = World::from_json(
            br#"{"app": {"id": "1", "secret": "s"},
                 "pages": [{"id": "2", "name": "P", "token": "t", "instagram": {"id": "3", "username": "p"}}],
                 "users": [{"id": "4", "platform": "instagram", "page": "2"}]}"#,
        )
        .expect("a valid world");
        assert_eq!(world.users[0].platform, Platform::Instagram);
        assert_eq!(
            world.pages[0].instagram.as_ref().map(|a| a.id.as_str()),
            Some("3")
        );
        assert!(!world.require_appsecret_proof, "off unless asked for");
        assert_eq!(world.attachment_url_ttl_ms, 3 * 24 * 3600 * 1000);
        let strict = World::from_json(
            br#"{"app": {"id": "1", "secret": "s"}, "require_appsecret_proof": true}"#,
        )
        .expect("a valid world");
        assert!(strict.require_appsecret_proof);
    }
}
