//! Query strings of the list routes, parsed into store queries with errors that name the
//! parameter.

use std::str::FromStr;

use crate::inbox::InboxError;
use crate::platform::Platform;
use crate::store::{ConversationKind, ConversationQuery, Cursor, Direction, MessageQuery};

/// The decoded `key=value` pairs of a query string; later duplicates are ignored.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: &str) -> Self {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            if !pairs.iter().any(|(k, _)| *k == key) {
                pairs.push((key.into_owned(), value.into_owned()));
            }
        }
        Self(pairs)
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    fn parsed<T: FromStr>(&self, key: &str, expected: &str) -> Result<Option<T>, InboxError> {
        self.get(key)
            .map(|value| {
                value.parse::<T>().map_err(|_| {
                    InboxError::InvalidRequest(format!(
                        "query parameter {key}={value:?}: expected {expected}"
                    ))
                })
            })
            .transpose()
    }

    /// `messenger`, `instagram` (or `facebook`), or `all` / absent for both.
    fn platform(&self) -> Result<Option<Platform>, InboxError> {
        match self.get("platform") {
            None | Some("all") => Ok(None),
            Some(_) => self.parsed("platform", "messenger, instagram or all"),
        }
    }

    fn cursor(&self) -> Result<Option<Cursor>, InboxError> {
        // The store says why a cursor is refused; keep its error (and its `invalid_cursor` kind).
        Ok(self.get("cursor").map(str::parse::<Cursor>).transpose()?)
    }

    fn limit(&self) -> Result<Option<u32>, InboxError> {
        self.parsed("limit", "a page size (1 or more)")
    }

    fn reject_unknown(&self, known: &[&str]) -> Result<(), InboxError> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((key, _)) => Err(InboxError::InvalidRequest(format!(
                "unknown query parameter {key:?}; this route takes {}",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }
}

/// `GET /conversations?kind&platform&account_id&archived&unread&cursor&limit`.
pub(crate) fn conversation_query(query: &str) -> Result<ConversationQuery, InboxError> {
    let params = Params::parse(query);
    params.reject_unknown(&[
        "kind",
        "platform",
        "account_id",
        "archived",
        "unread",
        "cursor",
        "limit",
    ])?;
    let mut q = ConversationQuery::new();
    if let Some(kind) = params.parsed::<ConversationKind>("kind", "direct or comments")? {
        q = q.kind(kind);
    }
    if let Some(platform) = params.platform()? {
        q = q.platform(platform);
    }
    if let Some(account) = params.get("account_id") {
        q = q.account(account);
    }
    if let Some(archived) = params.parsed::<bool>("archived", "true or false")? {
        q = q.archived(archived);
    }
    if let Some(unread) = params.parsed::<bool>("unread", "true or false")? {
        q = q.unread_only(unread);
    }
    if let Some(limit) = params.limit()? {
        q = q.limit(limit);
    }
    Ok(q.after(params.cursor()?))
}

/// `GET /status?check`: whether to run the live checks against Meta.
pub(crate) fn status_check(query: &str) -> Result<bool, InboxError> {
    let params = Params::parse(query);
    params.reject_unknown(&["check"])?;
    Ok(params
        .parsed::<bool>("check", "true or false")?
        .unwrap_or(false))
}

/// `POST /accounts/{id}/backfill?platform`: the platform, when the caller names it.
pub(crate) fn backfill_platform(query: &str) -> Result<Option<Platform>, InboxError> {
    let params = Params::parse(query);
    params.reject_unknown(&["platform"])?;
    params.parsed::<Platform>("platform", "messenger or instagram")
}

/// `GET /events?last_event_id`, or the `Last-Event-ID` header (which wins): the change a
/// resuming stream starts after. A browser resends the header when it reconnects by itself; a
/// page that opens a new stream passes the id it saw last in the query.
pub(crate) fn last_event_id(query: &str, header: Option<&str>) -> Result<Option<u64>, InboxError> {
    let params = Params::parse(query);
    params.reject_unknown(&["last_event_id"])?;
    match header {
        Some(id) => id.trim().parse::<u64>().map(Some).map_err(|_| {
            InboxError::InvalidRequest(format!(
                "Last-Event-ID {id:?}: expected the id of an event this server sent (a number)"
            ))
        }),
        None => params.parsed(
            "last_event_id",
            "the id of an event this server sent (a number)",
        ),
    }
}

/// `GET /messages?platform&account_id&conversation_id&direction&since&until&cursor&limit`.
pub(crate) fn message_query(query: &str) -> Result<MessageQuery, InboxError> {
    let params = Params::parse(query);
    params.reject_unknown(&[
        "platform",
        "account_id",
        "conversation_id",
        "direction",
        "since",
        "until",
        "cursor",
        "limit",
    ])?;
    let mut q = MessageQuery::new();
    if let Some(platform) = params.platform()? {
        q = q.platform(platform);
    }
    if let Some(account) = params.get("account_id") {
        q = q.account(account);
    }
    if let Some(id) = params.parsed("conversation_id", "a conversation id")? {
        q = q.conversation(id);
    }
    match params.get("direction") {
        None => {}
        Some("inbound") => q = q.direction(Direction::Inbound),
        Some("outbound") => q = q.direction(Direction::Outbound),
        Some(other) => {
            return Err(InboxError::InvalidRequest(format!(
                "query parameter direction={other:?}: expected inbound or outbound"
            )));
        }
    }
    if let Some(since) = params.parsed::<i64>("since", "milliseconds since the epoch")? {
        q = q.since_ms(since);
    }
    if let Some(until) = params.parsed::<i64>("until", "milliseconds since the epoch")? {
        q = q.until_ms(until);
    }
    if let Some(limit) = params.limit()? {
        q = q.limit(limit);
    }
    Ok(q.after(params.cursor()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_filters() {
        let q = conversation_query(
            "platform=instagram&account_id=178&archived=false&unread=true&limit=20",
        )
        .unwrap();
        assert_eq!(q.platform, Some(Platform::Instagram));
        assert_eq!(q.account_id.as_ref().map(|a| a.as_str()), Some("178"));
        assert_eq!(q.archived, Some(false));
        assert!(q.unread_only);
        assert_eq!(q.limit, 20);
        assert_eq!(conversation_query("platform=all").unwrap().platform, None);
        assert_eq!(conversation_query("").unwrap().platform, None);
    }

    #[test]
    fn message_filters() {
        let q = message_query(
            "platform=facebook&direction=outbound&since=1700000000000&until=1800000000000",
        )
        .unwrap();
        assert_eq!(q.platform, Some(Platform::Messenger));
        assert_eq!(q.direction, Some(Direction::Outbound));
        assert_eq!(
            (q.since_ms, q.until_ms),
            (Some(1_700_000_000_000), Some(1_800_000_000_000))
        );
    }

    #[test]
    fn errors_name_the_parameter() {
        for (query, needle) in [
            ("platform=whatsapp", "platform=\"whatsapp\""),
            (
                "archived=maybe",
                "archived=\"maybe\": expected true or false",
            ),
            ("limit=-1", "limit=\"-1\""),
            ("sort=asc", "unknown query parameter \"sort\""),
        ] {
            let err = conversation_query(query).unwrap_err();
            assert!(err.to_string().contains(needle), "{query}: {err}");
            assert_eq!(crate::contract::status(&err), 400);
        }
        let err = conversation_query("cursor=bm90LWEtY3Vyc29y").unwrap_err();
        assert_eq!(
            (crate::contract::status(&err), err.kind()),
            (400, "invalid_cursor")
        );
        let err = message_query("direction=sideways").unwrap_err();
        assert!(
            err.to_string().contains("expected inbound or outbound"),
            "{err}"
        );
        let err = message_query("since=yesterday").unwrap_err();
        assert!(err.to_string().contains("since=\"yesterday\""), "{err}");
    }
}
