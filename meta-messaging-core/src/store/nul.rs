//! NUL characters: PostgreSQL refuses U+0000 in text, so every backend replaces it with U+FFFD
//! (the replacement character) in every string it keeps, ids included, and in every id it is
//! asked to look up. The backends then store, find and return the same values.
//!
//! Strings enter the store in three ways, each cleaned once, where it enters: the [`Plan`] of
//! `apply` and `record_outbound` (cleaned by its constructors) and the raw rows of
//! `record_unrouted` ([`raw_row`](super::plan::raw_row)); the values of the other writes
//! (accounts, statuses, profiles, delivery tallies); and the ids and filters of reads. The last
//! two are cleaned by each backend's `MessageStore` methods with [`cleaned`], before anything
//! else.

use serde_json::Value;

use super::account::{AccountStatus, AccountToken, NewAccount};
use super::backfill::{BackfillProgress, BackfillState};
use super::conversation::ParticipantProfile;
use super::deliveries::{DeliveryTally, Tallied};
use super::model::{StoredAttachment, StoredReplyTo};
use super::plan::{
    AccountTouch, MessageRow, Op, Plan, RawRow, ReceiptScope, Target, WindowOpening,
};
use super::query::{ConversationQuery, MessageQuery};
use crate::ids::{
    AccountId, AppId, CommentId, MediaId, MessageId, PageId, ParticipantId, TenantId, UserId,
};
use crate::secret::{InstagramAccessToken, PageAccessToken};
use crate::webhook::AttachmentType;

/// What NUL becomes.
const REPLACEMENT: &str = "\u{FFFD}";

/// Something holding strings the store keeps or looks up.
pub(crate) trait Clean {
    /// Replaces NUL in every string it holds; allocates only where there is one.
    fn clean(&mut self);
}

/// A copy of `value` with NUL replaced: for what the store is handed by reference.
pub(crate) fn cleaned<T: Clean + Clone>(value: &T) -> T {
    let mut value = value.clone();
    value.clean();
    value
}

impl Clean for String {
    fn clean(&mut self) {
        if self.contains('\0') {
            *self = self.replace('\0', REPLACEMENT);
        }
    }
}

impl<T: Clean> Clean for Option<T> {
    fn clean(&mut self) {
        if let Some(value) = self {
            value.clean();
        }
    }
}

impl<T: Clean> Clean for Vec<T> {
    fn clean(&mut self) {
        self.iter_mut().for_each(Clean::clean);
    }
}

macro_rules! clean_ids {
    ($($id:ty),* $(,)?) => {$(
        impl Clean for $id {
            fn clean(&mut self) {
                if self.as_str().contains('\0') {
                    *self = <$id>::new(self.as_str().replace('\0', REPLACEMENT));
                }
            }
        }
    )*};
}

clean_ids!(
    TenantId,
    AccountId,
    UserId,
    ParticipantId,
    MessageId,
    AppId,
    PageId,
    MediaId,
    CommentId
);

/// JSON text as the store keeps it (a raw event): a `\u0000` escape becomes `\ufffd`, so that
/// the value read back holds no NUL either, and a NUL character (which JSON text cannot hold
/// outside strings) becomes U+FFFD.
pub(crate) fn clean_json_text(text: &mut String) {
    text.clean();
    if !text.contains("\\u0000") {
        return;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escape = &rest[at..];
        let len = if escape.starts_with("\\u0000") {
            out.push_str("\\ufffd");
            6
        } else {
            // A backslash and the character it escapes, copied together: the second
            // backslash of `\\` never starts an escape.
            let len = escape[1..].chars().next().map_or(1, |c| 1 + c.len_utf8());
            out.push_str(&escape[..len]);
            len
        };
        rest = &escape[len..];
    }
    out.push_str(rest);
    *text = out;
}

impl Clean for Value {
    fn clean(&mut self) {
        match self {
            Value::String(s) => s.clean(),
            Value::Array(items) => items.clean(),
            Value::Object(map) => {
                if map.keys().any(|k| k.contains('\0')) {
                    let old = std::mem::take(map);
                    *map = old
                        .into_iter()
                        .map(|(mut key, value)| {
                            key.clean();
                            (key, value)
                        })
                        .collect();
                }
                map.values_mut().for_each(Clean::clean);
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

impl Clean for AttachmentType {
    fn clean(&mut self) {
        if let AttachmentType::Other(name) = self {
            name.clean();
        }
    }
}

impl Clean for StoredAttachment {
    fn clean(&mut self) {
        self.kind.clean();
        self.url.clean();
        self.title.clean();
        self.sticker_id.clean();
        self.payload.clean();
        self.media_url.clean();
        self.mime.clean();
        self.sha256.clean();
    }
}

impl Clean for StoredReplyTo {
    fn clean(&mut self) {
        match self {
            StoredReplyTo::Message { mid } => mid.clean(),
            StoredReplyTo::Story { id, url } => {
                id.clean();
                url.clean();
            }
            StoredReplyTo::Comment { id } => id.clean(),
        }
    }
}

impl Clean for MessageRow {
    fn clean(&mut self) {
        self.tenant_id.clean();
        self.account_id.clean();
        self.participant_id.clean();
        self.sender_id.clean();
        self.recipient_id.clean();
        self.message_id.clean();
        self.text.clean();
        self.attachments.clean();
        self.reply_to.clean();
        self.quick_reply.clean();
        self.app_id.clean();
        self.metadata.clean();
        if let Some(raw) = &mut self.raw_event {
            clean_json_text(raw);
        }
        self.preview.clean();
        self.sender_name.clean();
    }
}

impl Clean for Target {
    fn clean(&mut self) {
        self.tenant_id.clean();
        self.message_id.clean();
    }
}

impl Clean for ReceiptScope {
    fn clean(&mut self) {
        match self {
            ReceiptScope::UpTo {
                tenant_id,
                account_id,
                participant_id,
                ..
            } => {
                tenant_id.clean();
                account_id.clean();
                participant_id.clean();
            }
            ReceiptScope::Messages { targets, .. } => targets.clean(),
        }
    }
}

impl Clean for Op {
    fn clean(&mut self) {
        match self {
            Op::React {
                target,
                actor,
                reaction,
                emoji,
                orphan,
                ..
            } => {
                target.clean();
                actor.clean();
                reaction.clean();
                emoji.clean();
                orphan.clean();
            }
            Op::Edit {
                target,
                text,
                orphan,
                ..
            } => {
                target.clean();
                text.clean();
                orphan.clean();
            }
            Op::Delete { target, orphan } | Op::Hide { target, orphan, .. } => {
                target.clean();
                orphan.clean();
            }
            Op::Receipt { scope, .. } => scope.clean(),
        }
    }
}

impl Clean for RawRow {
    fn clean(&mut self) {
        self.tenant_id.clean();
        self.account_id.clean();
        self.kind.clean();
        self.reason.clean();
        clean_json_text(&mut self.raw);
    }
}

impl Clean for AccountTouch {
    fn clean(&mut self) {
        self.tenant_id.clean();
        self.account_id.clean();
    }
}

impl Clean for WindowOpening {
    fn clean(&mut self) {
        self.key.tenant_id.clean();
        self.key.account_id.clean();
        self.key.participant_id.clean();
    }
}

impl Clean for Plan {
    fn clean(&mut self) {
        self.messages.clean();
        self.ops.clean();
        self.raw.clean();
        self.touches.clean();
        self.openings.clean();
    }
}

impl Clean for AccountToken {
    fn clean(&mut self) {
        if !self.expose().contains('\0') {
            return;
        }
        let value = self.expose().replace('\0', REPLACEMENT);
        *self = match self {
            AccountToken::Page(_) => AccountToken::Page(PageAccessToken::new(value)),
            AccountToken::Instagram(_) => AccountToken::Instagram(InstagramAccessToken::new(value)),
        };
    }
}

impl Clean for AccountStatus {
    fn clean(&mut self) {
        if let AccountStatus::Other(status) = self {
            status.clean();
        }
    }
}

impl Clean for NewAccount {
    fn clean(&mut self) {
        self.account_id.clean();
        self.name.clean();
        self.username.clean();
        self.linked_page_id.clean();
        self.token.clean();
        self.status.clean();
    }
}

impl Clean for BackfillState {
    fn clean(&mut self) {
        if let Self::Other(name) = self {
            name.clean();
        }
    }
}

impl Clean for BackfillProgress {
    fn clean(&mut self) {
        self.account_id.clean();
        self.state.clean();
        self.cursor.clean();
        self.error.clean();
    }
}

impl Clean for ParticipantProfile {
    fn clean(&mut self) {
        self.name.clean();
        self.username.clean();
        self.profile_pic_url.clean();
    }
}

impl Clean for MessageQuery {
    fn clean(&mut self) {
        self.account_id.clean();
    }
}

impl Clean for ConversationQuery {
    fn clean(&mut self) {
        self.account_id.clean();
    }
}

impl Clean for Tallied {
    fn clean(&mut self) {
        match self {
            Tallied::Kind(name) | Tallied::UnknownReason(name) => name.clean(),
        }
    }
}

impl Clean for DeliveryTally {
    fn clean(&mut self) {
        self.account_id.clean();
        self.tallied.clean();
    }
}

impl Clean for crate::store::media::NewMedia {
    fn clean(&mut self) {
        self.sha256.clean();
        self.mime.clean();
        self.media_url.clean();
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn json_text(text: &str) -> String {
        let mut text = text.to_owned();
        clean_json_text(&mut text);
        text
    }

    #[test]
    fn nul_becomes_the_replacement_character() {
        let mut id = TenantId::new("a\0b\0");
        id.clean();
        assert_eq!(id.as_str(), "a\u{FFFD}b\u{FFFD}");
        let mut text = Some("plain".to_owned());
        text.clean();
        assert_eq!(text.as_deref(), Some("plain"));
    }

    #[test]
    fn json_text_loses_its_nul_escapes_only() {
        assert_eq!(json_text(r#"{"a":"x\u0000y"}"#), r#"{"a":"x\ufffdy"}"#);
        // An escaped backslash followed by `u0000` is text, not an escape.
        assert_eq!(json_text(r#"{"a":"\\u0000"}"#), r#"{"a":"\\u0000"}"#);
        assert_eq!(
            json_text(r#"{"a":"\\\u0000é\"\u00001"}"#),
            r#"{"a":"\\\ufffdé\"\ufffd1"}"#
        );
        assert_eq!(json_text(r#"{"\u0000":1}"#), r#"{"\ufffd":1}"#);
        let cleaned: Value = serde_json::from_str(&json_text(r#"["\u0000"]"#)).expect("JSON");
        assert_eq!(cleaned, json!(["\u{FFFD}"]));
    }

    #[test]
    fn json_values_are_cleaned_keys_included() {
        let mut value = json!({"k\u{0}": ["a\u{0}", {"b": "\u{0}"}, 1, null]});
        value.clean();
        assert_eq!(
            value,
            json!({"k\u{FFFD}": ["a\u{FFFD}", {"b": "\u{FFFD}"}, 1, null]})
        );
    }

    #[test]
    fn tokens_keep_their_kind() {
        let mut token = AccountToken::Instagram(InstagramAccessToken::new("IG\0tok"));
        token.clean();
        assert!(matches!(&token, AccountToken::Instagram(t) if t.expose() == "IG\u{FFFD}tok"));
    }
}
