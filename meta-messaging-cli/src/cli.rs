//! The command line: arguments and subcommands.
//!
//! Secrets given as arguments or in the environment (`--secret`, `--token`, `--verify-token`,
//! `--app-secret`) are read into the secret types of `meta_messaging_core::secret`, so the
//! `Debug` of every argument struct prints `[REDACTED]` in their place. `META_APP_SECRET` may
//! hold several comma-separated secrets while rotating: the first non-empty one is used.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use meta_messaging_core::Platform;
use meta_messaging_core::secret::{AppSecret, PageAccessToken, VerifyToken};
use meta_messaging_core::store::redacted_url;

/// Inspect, sign and simulate Messenger and Instagram webhook deliveries; diagnose a connected
/// account, send messages and manage the Messenger profile through the Graph API.
#[derive(Debug, Parser)]
#[command(name = "meta-messaging", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Parse a delivery body and print one JSON object per event, one per line.
    ///
    /// Exits 1 with a message naming the line and column when the input is not a delivery.
    /// Events this version does not know are printed with kind "unknown" and their raw JSON.
    Inspect(InspectArgs),
    /// Print the X-Hub-Signature-256 header value (sha256=...) Meta would send for a body.
    Sign(SignArgs),
    /// Check a captured delivery body against its X-Hub-Signature-256 value, and when it does
    /// not verify, say why as far as the request tells: which header came, the body's length,
    /// whether the body looks re-serialized (raw non-ASCII or unescaped '/' where Meta sends
    /// escapes, pretty-printed JSON). Never prints the body or the secret.
    ///
    /// Prints `valid`, or `invalid: <reason>` and the diagnosis, and then exits 1.
    Verify(VerifyArgs),
    /// Build a realistic delivery (or read one from a file), sign it and POST it to a webhook
    /// endpoint; print the response's status and body.
    ///
    /// Exits 1 when the endpoint does not answer 2xx.
    Simulate(SimulateArgs),
    /// Run Meta's subscription handshake against an endpoint and report whether it echoes the
    /// challenge (and refuses a wrong verify token).
    ///
    /// Exits 1 when the endpoint would fail Meta's check.
    VerifyEndpoint(VerifyEndpointArgs),
    /// Check a Page token end to end (validity, expiry and data access, permissions, linked
    /// Instagram account and its message access, the Page's webhook fields) and, with
    /// --app-secret, the app (development mode, its webhook fields, its callback URL); print a
    /// checklist with a fix for each problem.
    ///
    /// Exits 1 when something is broken (warnings do not).
    Doctor(DoctorArgs),
    /// Send a text or an attachment through the Graph API and print the message id.
    ///
    /// On a Graph error, prints its kind, Meta's message and fbtrace_id, the cause and the fix,
    /// and exits 1.
    Send(SendArgs),
    /// Read or apply the Messenger profile: ice breakers, persistent menu, Get Started button
    /// and greeting, for Messenger or Instagram.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Run a local emulator of Meta's Graph API and webhooks (see docs/emulator.md).
    ///
    /// Serves the Send API, debug_token, /me/accounts, Page info and subscribed_apps with Meta's
    /// rules and error shapes, delivers signed webhooks to --callback, and takes scripted events
    /// on its control API under /_emulator/. Runs until interrupted.
    Emulate(EmulateArgs),
    /// Make something happen in a running emulator: a user writes, reacts, reads, edits or
    /// unsends; add a user, change a Page's permissions, expire a token, move the webhook
    /// callback.
    ///
    /// Prints the emulator's JSON answer. Exits 1 when the emulator refuses (an unknown user,
    /// say) or cannot be reached.
    Trigger(TriggerArgs),
    /// Generate the key that seals account tokens in a store, or re-seal a store's tokens
    /// under the current key (see docs/security.md, "Tokens at rest").
    #[command(subcommand)]
    TokenKey(TokenKeyCommand),
    /// Import an account's earlier conversations from the Conversations API into a store
    /// (see docs/backfill.md), and print the backfill's progress as JSON.
    ///
    /// Resumes an interrupted run of the same account. Exits 1 when the run failed (the
    /// progress says why; running again resumes it).
    Backfill(BackfillArgs),
}

/// What `token-key` does.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum TokenKeyCommand {
    /// Print a new random key (the base64 of 32 bytes) for META_TOKEN_KEY.
    Generate,
    /// Re-seal every account token of a store under the first key of META_TOKEN_KEY and print
    /// how many were rewritten.
    ///
    /// To rotate: set META_TOKEN_KEY to "NEW,OLD" (new key first), run this, then drop OLD.
    /// Tokens stored in clear by an older version are sealed too. Nothing is rewritten when one
    /// token does not open with the given keys.
    Reseal(ResealArgs),
}

/// What `profile` does.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum ProfileCommand {
    /// Print the profile as set on Meta (JSON).
    Get(ProfileAccountArgs),
    /// Make the profile match a file (TOML or JSON, by extension): print what changes, then
    /// set the fields that differ and delete the fields listed in `delete`.
    ///
    /// Only the fields in the file are managed: a field absent from the file is left as it is
    /// on Meta, unless `delete = ["greeting", ...]` names it. Applying the same file twice
    /// changes nothing the second time.
    Apply(ProfileApplyArgs),
}

/// The account whose profile `profile` reads or writes.
#[derive(Debug, Args)]
pub struct ProfileAccountArgs {
    /// The Page access token.
    #[arg(long, env = "META_PAGE_TOKEN", hide_env_values = true)]
    pub token: PageAccessToken,
    /// The Page (for Instagram: the Page linked to the Instagram account).
    #[arg(long)]
    pub page_id: String,
    /// Whose profile: the Page's on Messenger, or its Instagram account's.
    #[arg(long, default_value = "messenger")]
    pub platform: Platform,
    /// The app secret, when the Meta app has "Require App Secret" on: every call then carries
    /// its `appsecret_proof`.
    #[arg(long, env = "META_APP_SECRET", hide_env_values = true, value_parser = parse_app_secret)]
    pub app_secret: Option<AppSecret>,
    /// The Graph API base URL (for a local mock server or the emulator).
    #[arg(long, default_value = "https://graph.facebook.com")]
    pub graph_url: String,
}

/// Arguments of `profile apply`.
#[derive(Debug, Args)]
pub struct ProfileApplyArgs {
    /// The desired profile: a `.toml` or `.json` file.
    pub file: PathBuf,
    /// Print what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The account.
    #[command(flatten)]
    pub account: ProfileAccountArgs,
}

/// Arguments of `token-key reseal`.
///
/// `Debug` prints `[REDACTED]` for the keys and the store URL without its password.
#[derive(Args)]
pub struct ResealArgs {
    /// The store: `sqlite://PATH` or `postgres://...`.
    #[arg(long, env = "META_STORE")]
    pub store: String,
    /// The token keys, comma-separated, the current one first. Prefer the environment
    /// variable, which keeps keys out of shell history.
    #[arg(long, env = "META_TOKEN_KEY", hide_env_values = true)]
    pub keys: String,
    /// The PostgreSQL schema the store's tables are in, when not the default search path.
    #[arg(long)]
    pub schema: Option<String>,
}

impl std::fmt::Debug for ResealArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResealArgs")
            .field("store", &redacted_url(&self.store))
            .field("keys", &format_args!("[REDACTED]"))
            .field("schema", &self.schema)
            .finish()
    }
}

/// Arguments of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The delivery body: a file, or `-` (the default) for standard input.
    #[arg(default_value = "-")]
    pub input: PathBuf,
}

/// Arguments of `sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The app secret (Meta dashboard: App settings > Basic).
    #[arg(long, env = "META_APP_SECRET", hide_env_values = true, value_parser = parse_app_secret)]
    pub secret: AppSecret,
    /// The body to sign: a file, or `-` (the default) for standard input. Signed byte for byte.
    #[arg(default_value = "-")]
    pub input: PathBuf,
}

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The app secret (Meta dashboard: App settings > Basic).
    #[arg(long, env = "META_APP_SECRET", hide_env_values = true, value_parser = parse_app_secret)]
    pub secret: AppSecret,
    /// The X-Hub-Signature-256 value that came with the body (sha256=...); leave it out when
    /// the request had none. A sha1=... value (X-Hub-Signature) is diagnosed as such.
    #[arg(long)]
    pub signature: Option<String>,
    /// The request also carried an X-Hub-Signature (SHA-1) header.
    #[arg(long)]
    pub sha1_header: bool,
    /// The captured body: a file, or `-` (the default) for standard input. Checked byte for
    /// byte, so capture it before anything parses it.
    #[arg(default_value = "-")]
    pub input: PathBuf,
}

/// Arguments of `simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The webhook endpoint, e.g. http://127.0.0.1:3000/webhook.
    #[arg(long)]
    pub url: String,
    /// The app secret the endpoint verifies signatures with.
    #[arg(long, env = "META_APP_SECRET", hide_env_values = true, value_parser = parse_app_secret)]
    pub secret: AppSecret,
    /// The platform of the built delivery.
    #[arg(long, default_value = "instagram")]
    pub platform: Platform,
    /// The text of the built message.
    #[arg(
        long,
        conflicts_with = "file",
        default_value = "Hello from meta-messaging simulate"
    )]
    pub text: String,
    /// Send this file's bytes as the body instead of building one.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// The receiving Page or Instagram account id of the built delivery.
    #[arg(long, default_value = "17841400000000000")]
    pub account_id: String,
    /// The sending user's PSID/IGSID in the built delivery.
    #[arg(long, default_value = "5000000000000001")]
    pub sender_id: String,
}

/// Arguments of `verify-endpoint`.
#[derive(Debug, Args)]
pub struct VerifyEndpointArgs {
    /// The webhook endpoint, e.g. http://127.0.0.1:3000/webhook.
    #[arg(long)]
    pub url: String,
    /// The verify token configured on the endpoint (and in the Meta dashboard).
    #[arg(long, env = "META_VERIFY_TOKEN", hide_env_values = true)]
    pub verify_token: VerifyToken,
}

/// Arguments of `doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The Page access token to check.
    #[arg(long, env = "META_PAGE_TOKEN", hide_env_values = true)]
    pub token: PageAccessToken,
    /// The Page to check (default: the token's own Page).
    #[arg(long)]
    pub page_id: Option<String>,
    /// Print the report as JSON instead of a checklist.
    #[arg(long)]
    pub json: bool,
    /// The app secret. With it, every call carries its `appsecret_proof` (needed when the Meta
    /// app has "Require App Secret" on), and the app's own settings are checked with its app
    /// token: the messaging permissions approved for people without a role on the app
    /// (development mode), the app's `page` and `instagram` webhook fields, and the callback
    /// URL Meta has on file.
    #[arg(long, env = "META_APP_SECRET", hide_env_values = true, value_parser = parse_app_secret)]
    pub app_secret: Option<AppSecret>,
    /// The webhook URL this app serves (`https://.../webhook`), compared with the callback URL
    /// Meta has on file (needs --app-secret).
    #[arg(long)]
    pub callback_url: Option<String>,
    /// The Graph API base URL (for a local mock server).
    #[arg(long, default_value = "https://graph.facebook.com")]
    pub graph_url: String,
}

/// Arguments of `send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The Page access token.
    #[arg(long, env = "META_PAGE_TOKEN", hide_env_values = true)]
    pub token: PageAccessToken,
    /// The Page that sends (Instagram messages go through the Page linked to the account).
    #[arg(long)]
    pub page_id: String,
    /// The recipient's PSID (Messenger) or IGSID (Instagram).
    #[arg(long)]
    pub to: String,
    /// The platform of the recipient.
    #[arg(long, default_value = "messenger")]
    pub platform: Platform,
    /// The text to send.
    #[arg(
        long,
        required_unless_present = "attachment",
        conflicts_with = "attachment"
    )]
    pub text: Option<String>,
    /// The public URL of an attachment to send instead of a text.
    #[arg(long)]
    pub attachment: Option<String>,
    /// The attachment's type: image, video, audio or file.
    #[arg(long, default_value = "image", requires = "attachment")]
    pub attachment_type: String,
    /// The app secret, when the Meta app has "Require App Secret" on: every call then carries
    /// its `appsecret_proof`.
    #[arg(long, env = "META_APP_SECRET", hide_env_values = true, value_parser = parse_app_secret)]
    pub app_secret: Option<AppSecret>,
    /// The Graph API base URL (for a local mock server).
    #[arg(long, default_value = "https://graph.facebook.com")]
    pub graph_url: String,
}

/// Arguments of `backfill`.
#[derive(Args)]
pub struct BackfillArgs {
    /// The Page access token (of the Page, or of the Page an Instagram account is linked to).
    #[arg(long, env = "META_PAGE_TOKEN", hide_env_values = true)]
    pub token: PageAccessToken,
    /// The Page.
    #[arg(long)]
    pub page_id: String,
    /// Messenger, or the Instagram account linked to the Page (then give its id).
    #[arg(long, default_value = "messenger")]
    pub platform: Platform,
    /// The Instagram account id, for `--platform instagram`.
    #[arg(long, required_if_eq("platform", "instagram"))]
    pub instagram_account_id: Option<String>,
    /// The store: `sqlite://PATH` (created if missing) or `postgres://...`.
    #[arg(long, env = "META_STORE")]
    pub store: String,
    /// The PostgreSQL schema the store's tables are in, when not the default search path.
    #[arg(long)]
    pub schema: Option<String>,
    /// The tenant the account and its conversations belong to.
    #[arg(long, default_value = "default")]
    pub tenant: String,
    /// How far back to import, in days.
    #[arg(long, default_value_t = 30)]
    pub days: u64,
    /// The app secret: calls carry its `appsecret_proof`.
    #[arg(long, env = "META_APP_SECRET", hide_env_values = true, value_parser = parse_app_secret)]
    pub app_secret: AppSecret,
    /// The keys that seal account tokens in the store (META_TOKEN_KEY), when it uses them.
    #[arg(long, env = "META_TOKEN_KEY", hide_env_values = true)]
    pub keys: Option<String>,
    /// The Graph API base URL (for a local emulator or mock server).
    #[arg(long, default_value = "https://graph.facebook.com")]
    pub graph_url: String,
}

impl std::fmt::Debug for BackfillArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackfillArgs")
            .field("token", &self.token)
            .field("page_id", &self.page_id)
            .field("platform", &self.platform)
            .field("instagram_account_id", &self.instagram_account_id)
            .field("store", &redacted_url(&self.store))
            .field("schema", &self.schema)
            .field("tenant", &self.tenant)
            .field("days", &self.days)
            .field("app_secret", &self.app_secret)
            .field("keys", &self.keys.as_ref().map(|_| "[REDACTED]"))
            .field("graph_url", &self.graph_url)
            .finish()
    }
}

/// Arguments of `emulate`.
#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// The port to listen on (on 127.0.0.1); 0 picks a free one. The default is the one
    /// `trigger` talks to.
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// A world file (JSON: app, pages, users, callback_url); default: the demo world.
    #[arg(long)]
    pub world: Option<PathBuf>,
    /// Where to POST webhook deliveries, e.g. http://127.0.0.1:3000/webhook (overrides the
    /// world file's callback_url).
    #[arg(long)]
    pub callback: Option<String>,
    /// Sign deliveries with this app secret instead of the world's.
    #[arg(long, env = "META_APP_SECRET", hide_env_values = true, value_parser = parse_app_secret)]
    pub app_secret: Option<AppSecret>,
    /// Act as an app with "Require App Secret" on: Graph calls with a Page or user token must
    /// carry appsecret_proof, or get Meta's error (code 100).
    #[arg(long)]
    pub require_appsecret_proof: bool,
}

/// Arguments of `trigger`.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// The running emulator's base URL (what `emulate` printed).
    #[arg(
        long,
        env = "META_EMULATOR_URL",
        default_value = "http://127.0.0.1:8787",
        global = true
    )]
    pub emulator: String,
    /// What happens.
    #[command(subcommand)]
    pub action: TriggerAction,
}

/// What `trigger` makes happen.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum TriggerAction {
    /// A user writes to their Page or Instagram account (opens the messaging window).
    Message {
        /// The user's PSID or IGSID.
        #[arg(long)]
        user: String,
        /// The text.
        #[arg(long, required_unless_present = "attachment")]
        text: Option<String>,
        /// An attachment as TYPE=URL, e.g. image=https://example.com/cat.jpg.
        #[arg(long, value_parser = parse_attachment)]
        attachment: Option<(String, String)>,
        /// The mid of an earlier message this one replies to.
        #[arg(long)]
        reply_to: Option<String>,
        /// The payload of a tapped quick reply (the text is its title).
        #[arg(long)]
        quick_reply: Option<String>,
        /// Date the message this many hours in the past (e.g. 30: outside the 24-hour window).
        #[arg(long)]
        hours_ago: Option<u32>,
    },
    /// A user reacts to a message of their conversation (or takes the reaction off).
    React {
        /// The user's PSID or IGSID.
        #[arg(long)]
        user: String,
        /// The message reacted to.
        #[arg(long)]
        mid: String,
        /// Meta's reaction name.
        #[arg(long, default_value = "love")]
        reaction: String,
        /// The emoji.
        #[arg(long, default_value = "\u{2764}")]
        emoji: String,
        /// Take the reaction off instead.
        #[arg(long)]
        unreact: bool,
    },
    /// A user reads the conversation.
    Read {
        /// The user's PSID or IGSID.
        #[arg(long)]
        user: String,
    },
    /// A user edits a message they wrote.
    Edit {
        /// The user's PSID or IGSID.
        #[arg(long)]
        user: String,
        /// The message edited.
        #[arg(long)]
        mid: String,
        /// The new text.
        #[arg(long)]
        text: String,
    },
    /// An Instagram user unsends a message they wrote.
    Unsend {
        /// The user's IGSID.
        #[arg(long)]
        user: String,
        /// The message unsent.
        #[arg(long)]
        mid: String,
    },
    /// A user comments under a post of their Page or Instagram account (prints the comment id).
    Comment {
        /// The user's PSID or IGSID.
        #[arg(long)]
        user: String,
        /// The comment's text.
        #[arg(long)]
        text: String,
        /// The post or media commented on (default: the account's first post).
        #[arg(long)]
        media: Option<String>,
        /// The comment this one answers.
        #[arg(long)]
        reply_to: Option<String>,
        /// Date the comment this many days in the past (e.g. 8: too old for a private reply).
        #[arg(long)]
        days_ago: Option<u32>,
    },
    /// Add (or replace) a user who writes to a Page or its Instagram account.
    AddUser {
        /// The PSID or IGSID.
        #[arg(long)]
        id: String,
        /// Where the user writes.
        #[arg(long)]
        platform: Platform,
        /// The Page id (Instagram users write to its linked account).
        #[arg(long)]
        page: String,
        /// The display name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Replace the permissions granted to a Page's token.
    Permissions {
        /// The Page id.
        #[arg(long)]
        page: String,
        /// The permissions, e.g. pages_messaging instagram_basic (none: revoke all).
        permissions: Vec<String>,
    },
    /// Expire a token: the Graph API answers 190 / 463 to it from now on.
    ExpireToken {
        /// The token.
        #[arg(env = "META_PAGE_TOKEN", hide_env_values = true)]
        token: PageAccessToken,
    },
    /// Point webhook deliveries at another URL.
    Callback {
        /// The new callback URL, e.g. http://127.0.0.1:3000/api/meta/webhook.
        #[arg(required_unless_present = "none")]
        url: Option<String>,
        /// Deliver nowhere (keep deliveries in the emulator's log only).
        #[arg(long, conflicts_with = "url")]
        none: bool,
    },
}

/// Reads an app secret from `--secret`/`--app-secret` or `META_APP_SECRET`.
///
/// While rotating, `META_APP_SECRET` holds several comma-separated secrets, the current one
/// first (as `InboxConfig` reads it): the CLI signs and proves with that first non-empty item.
fn parse_app_secret(value: &str) -> Result<AppSecret, String> {
    value
        .split(',')
        .map(str::trim)
        .find(|secret| !secret.is_empty())
        .map(AppSecret::new)
        .ok_or_else(|| "the app secret is empty".to_owned())
}

fn parse_attachment(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((kind, url)) if !kind.is_empty() && !url.is_empty() => {
            Ok((kind.to_owned(), url.to_owned()))
        }
        _ => Err(format!(
            "{value:?} is not TYPE=URL, e.g. image=https://example.com/a.jpg"
        )),
    }
}
