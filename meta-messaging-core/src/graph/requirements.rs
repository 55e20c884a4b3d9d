//! What messaging asks of Meta's side, in one place: the permissions to request, the webhook
//! fields to subscribe to, and what the connection checks require of each.

/// The permissions messaging needs, for both platforms (the scopes to ask for).
pub const MESSAGING_SCOPES: &[&str] = &[
    "pages_show_list",
    "pages_manage_metadata",
    "pages_messaging",
    "pages_read_engagement",
    "instagram_basic",
    "instagram_manage_messages",
    "business_management",
    // Comments: reading, replying to, hiding and deleting them.
    "pages_read_user_content",
    "pages_manage_engagement",
    "instagram_manage_comments",
];

/// The Page webhook fields meta-messaging handles (`subscribed_apps`).
pub const MESSENGER_WEBHOOK_FIELDS: &[&str] = &[
    "messages",
    "messaging_postbacks",
    "message_echoes",
    "message_reactions",
    "message_reads",
    "message_deliveries",
    "messaging_referrals",
    "messaging_optins",
    "messaging_handovers",
    "standby",
    "message_edits",
    // Comments on the Page's posts (the `feed` changes whose item is a comment).
    "feed",
];

/// The Instagram webhook fields meta-messaging handles, set on the app's `instagram`
/// subscription (App Dashboard > Webhooks > Instagram, or `POST /{app-id}/subscriptions`).
pub const INSTAGRAM_WEBHOOK_FIELDS: &[&str] = &[
    "messages",
    "messaging_postbacks",
    "message_reactions",
    "messaging_seen",
    "messaging_referral",
    "messaging_handover",
    "standby",
    "comments",
    "live_comments",
    "mentions",
];

/// Instagram webhook fields without which conversations are incomplete.
pub const REQUIRED_INSTAGRAM_WEBHOOK_FIELDS: &[&str] = &["messages"];

/// Permissions Messenger messaging needs.
pub const MESSENGER_PERMISSIONS: &[&str] = &["pages_messaging", "pages_manage_metadata"];
/// Permissions Instagram messaging through a Page needs.
pub const INSTAGRAM_PERMISSIONS: &[&str] = &["instagram_basic", "instagram_manage_messages"];
/// Webhook fields without which conversations are incomplete.
pub const REQUIRED_WEBHOOK_FIELDS: &[&str] = &["messages", "messaging_postbacks", "message_echoes"];
