//! What the list queries take and return: [`MessageQuery`], [`ConversationQuery`], [`StorePage`].

use serde::Serialize;

use super::conversation::ConversationKind;
use super::cursor::Cursor;
use super::error::StoreError;
use super::model::Direction;
use crate::ids::AccountId;
use crate::ids::ConversationId;
use crate::platform::Platform;

/// The largest page a list returns; larger limits are clamped to it.
pub const MAX_PAGE_SIZE: u32 = 500;
/// The page size of a new query.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// Sort order of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Newest first (the default).
    #[default]
    NewestFirst,
    /// Oldest first.
    OldestFirst,
}

/// One page of a list, and the cursor of the next one (`None` on the last page).
///
/// Serializes as `{"data": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StorePage<T> {
    /// The rows of this page.
    pub data: Vec<T>,
    /// Pass it to the same query to get the next page.
    pub next_cursor: Option<Cursor>,
}

/// Filters, order and page of [`MessageStore::list_messages`](super::MessageStore::list_messages).
///
/// Every filter is optional; messages are sorted by their Meta timestamp (then id).
///
/// ```
/// use meta_messaging_core::platform::Platform;
/// use meta_messaging_core::store::{Direction, MessageQuery};
///
/// let query = MessageQuery::new()
///     .platform(Platform::Instagram)
///     .direction(Direction::Inbound)
///     .since_ms(1_700_000_000_000)
///     .limit(20);
/// assert_eq!(query.limit, 20);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MessageQuery {
    /// Only this platform (`None`: both).
    pub platform: Option<Platform>,
    /// Only this business account.
    pub account_id: Option<AccountId>,
    /// Only this conversation.
    pub conversation_id: Option<ConversationId>,
    /// Only inbound or only outbound.
    pub direction: Option<Direction>,
    /// Only messages at or after this time (ms since the epoch).
    pub since_ms: Option<i64>,
    /// Only messages strictly before this time (ms since the epoch).
    pub until_ms: Option<i64>,
    /// Sort order.
    pub order: Order,
    /// Page size, 1 to [`MAX_PAGE_SIZE`].
    pub limit: u32,
    /// Where to start: the `next_cursor` of the previous page.
    pub cursor: Option<Cursor>,
    /// Load each message's raw webhook JSON too (off by default: it is large).
    pub include_raw: bool,
}

impl Default for MessageQuery {
    fn default() -> Self {
        Self::new()
    }
}

impl MessageQuery {
    /// All messages of the tenant, newest first, [`DEFAULT_PAGE_SIZE`] per page.
    pub fn new() -> Self {
        Self {
            platform: None,
            account_id: None,
            conversation_id: None,
            direction: None,
            since_ms: None,
            until_ms: None,
            order: Order::NewestFirst,
            limit: DEFAULT_PAGE_SIZE,
            cursor: None,
            include_raw: false,
        }
    }

    /// Only this platform.
    #[must_use]
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    /// Only this business account.
    #[must_use]
    pub fn account(mut self, account_id: impl Into<AccountId>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// Only this conversation.
    #[must_use]
    pub fn conversation(mut self, id: ConversationId) -> Self {
        self.conversation_id = Some(id);
        self
    }

    /// Only this direction.
    #[must_use]
    pub fn direction(mut self, direction: Direction) -> Self {
        self.direction = Some(direction);
        self
    }

    /// Only at or after `ms`.
    #[must_use]
    pub fn since_ms(mut self, ms: i64) -> Self {
        self.since_ms = Some(ms);
        self
    }

    /// Only before `ms`.
    #[must_use]
    pub fn until_ms(mut self, ms: i64) -> Self {
        self.until_ms = Some(ms);
        self
    }

    /// Sort order.
    #[must_use]
    pub fn order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// Page size (clamped to [`MAX_PAGE_SIZE`]).
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Continue after a previous page.
    #[must_use]
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }

    /// Load raw webhook JSON.
    #[must_use]
    pub fn include_raw(mut self, include: bool) -> Self {
        self.include_raw = include;
        self
    }
}

/// Filters, order and page of
/// [`MessageStore::list_conversations`](super::MessageStore::list_conversations), sorted by last
/// activity (the newest message's time).
///
/// Conversations move to the front when a message arrives, so a walk through pages while
/// messages arrive can show a conversation again on a later page if it moved past the cursor;
/// restart from the first page to see the newest order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConversationQuery {
    /// Only direct conversations or only comment threads (`None`: both).
    pub kind: Option<ConversationKind>,
    /// Only this platform (`None`: both).
    pub platform: Option<Platform>,
    /// Only this business account.
    pub account_id: Option<AccountId>,
    /// Only archived (`Some(true)`) or only not archived (`Some(false)`); `None`: both.
    pub archived: Option<bool>,
    /// Only conversations with unread inbound messages.
    pub unread_only: bool,
    /// Sort order.
    pub order: Order,
    /// Page size, 1 to [`MAX_PAGE_SIZE`].
    pub limit: u32,
    /// Where to start.
    pub cursor: Option<Cursor>,
}

impl Default for ConversationQuery {
    fn default() -> Self {
        Self::new()
    }
}

impl ConversationQuery {
    /// All conversations of the tenant (archived or not), most recently active first.
    pub fn new() -> Self {
        Self {
            kind: None,
            platform: None,
            account_id: None,
            archived: None,
            unread_only: false,
            order: Order::NewestFirst,
            limit: DEFAULT_PAGE_SIZE,
            cursor: None,
        }
    }

    /// Only this platform.
    #[must_use]
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    /// Only this business account.
    #[must_use]
    pub fn account(mut self, account_id: impl Into<AccountId>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// Only direct conversations, or only comment threads.
    #[must_use]
    pub fn kind(mut self, kind: ConversationKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Only archived or only not archived.
    #[must_use]
    pub fn archived(mut self, archived: bool) -> Self {
        self.archived = Some(archived);
        self
    }

    /// Only conversations with unread messages.
    #[must_use]
    pub fn unread_only(mut self, unread_only: bool) -> Self {
        self.unread_only = unread_only;
        self
    }

    /// Sort order.
    #[must_use]
    pub fn order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// Page size (clamped to [`MAX_PAGE_SIZE`]).
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Continue after a previous page.
    #[must_use]
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// The effective page size of a query.
pub(crate) fn page_size(limit: u32) -> Result<usize, StoreError> {
    if limit == 0 {
        return Err(StoreError::invalid("a page size of 0"));
    }
    Ok(limit.min(MAX_PAGE_SIZE) as usize)
}

/// Cuts the extra row a backend fetched (it asks for `size + 1`) and makes the next cursor.
pub(crate) fn into_page<T>(
    mut rows: Vec<T>,
    size: usize,
    cursor_of: impl Fn(&T) -> Cursor,
) -> StorePage<T> {
    let next_cursor = if rows.len() > size {
        rows.truncate(size);
        rows.last().map(cursor_of)
    } else {
        None
    };
    StorePage {
        data: rows,
        next_cursor,
    }
}
