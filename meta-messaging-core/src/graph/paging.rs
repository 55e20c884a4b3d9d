//! Cursor paging: [`Page`] of results and a [`Stream`](futures_util::Stream) over all pages.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::marker::PhantomData;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::client::GraphClient;
use super::error::Result;
use super::request::Call;
use super::token::Credential;

/// One page of a Graph API list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct GraphPage<T> {
    /// The items of this page.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// Where the neighbouring pages are.
    #[serde(default)]
    pub paging: Option<Paging>,
}

impl<T> GraphPage<T> {
    /// A page, for your own tests.
    pub fn new(data: Vec<T>, after: Option<String>) -> Self {
        let paging = after.map(|after| Paging {
            cursors: Some(Cursors {
                before: None,
                after: Some(after),
            }),
            next: Some(String::new()),
            previous: None,
        });
        Self { data, paging }
    }

    /// The cursor of the next page, when there is one (Meta gives a `next` link).
    pub fn next_cursor(&self) -> Option<&str> {
        let paging = self.paging.as_ref()?;
        paging.next.as_ref()?;
        paging.cursors.as_ref()?.after.as_deref()
    }
}

/// The `paging` object. The `next` and `previous` links are not exposed: they carry the access
/// token in their query string. Follow cursors instead.
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Paging {
    /// The cursors.
    #[serde(default)]
    pub cursors: Option<Cursors>,
    #[serde(default, skip_serializing)]
    next: Option<String>,
    #[serde(default, skip_serializing)]
    previous: Option<String>,
}

impl Paging {
    /// Meta says there is a next page.
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }

    /// Meta says there is a previous page.
    pub fn has_previous(&self) -> bool {
        self.previous.is_some()
    }
}

impl fmt::Debug for Paging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paging")
            .field("cursors", &self.cursors)
            .field("has_next", &self.has_next())
            .field("has_previous", &self.has_previous())
            .finish()
    }
}

/// The `before` and `after` cursors of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cursors {
    /// The cursor of the first item of this page.
    #[serde(default)]
    pub before: Option<String>,
    /// The cursor of the last item of this page.
    #[serde(default)]
    pub after: Option<String>,
}

/// A list request: fetch one [`page`](Self::page), or [`stream`](Self::stream) every item.
#[derive(Debug, Clone)]
#[must_use = "a list is fetched only by .page().await or .stream()"]
pub struct ListRequest<T> {
    client: GraphClient,
    credential: Credential,
    path: String,
    query: Vec<(&'static str, String)>,
    limit: Option<u32>,
    after: Option<String>,
    item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> ListRequest<T> {
    pub(crate) fn new(client: GraphClient, credential: Credential, path: String) -> Self {
        Self {
            client,
            credential,
            path,
            query: Vec::new(),
            limit: None,
            after: None,
            item: PhantomData,
        }
    }

    pub(crate) fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    /// The page size to ask for (Meta caps it).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Starts after this cursor (from [`GraphPage::next_cursor`]).
    pub fn after(mut self, cursor: impl Into<String>) -> Self {
        self.after = Some(cursor.into());
        self
    }

    /// Replaces the `fields` Meta is asked for.
    pub fn fields(mut self, fields: impl Into<String>) -> Self {
        self.query.retain(|(k, _)| *k != "fields");
        self.query.push(("fields", fields.into()));
        self
    }

    /// Fetches one page.
    ///
    /// # Errors
    /// The Graph API's error.
    pub async fn page(&self) -> Result<GraphPage<T>> {
        self.fetch(self.after.as_deref()).await
    }

    async fn fetch(&self, after: Option<&str>) -> Result<GraphPage<T>> {
        let mut call = Call::get(self.path.clone()).auth(&self.credential);
        for (key, value) in &self.query {
            call = call.query(key, value.clone());
        }
        if let Some(limit) = self.limit {
            call = call.query("limit", limit.to_string());
        }
        if let Some(after) = after {
            call = call.query("after", after);
        }
        self.client.execute(call).await
    }

    /// Every item of every page, fetched page by page as the stream is polled (boxed, so it is
    /// `Unpin` and `Send`: call `.next().await` on it directly).
    ///
    /// The stream yields an error once and then ends (retries already happened inside the
    /// client). It ends early, without an error, if Meta hands back a cursor it already gave,
    /// so a misbehaving cursor cannot loop forever.
    pub fn stream(self) -> BoxStream<'static, Result<T>>
    where
        T: Send + 'static,
    {
        let state = StreamState {
            cursor: self.after.clone(),
            request: self,
            seen: HashSet::new(),
            buffer: VecDeque::new(),
            done: false,
        };
        futures_util::stream::unfold(state, |mut state| async move {
            loop {
                if let Some(item) = state.buffer.pop_front() {
                    return Some((Ok(item), state));
                }
                if state.done {
                    return None;
                }
                match state.request.fetch(state.cursor.as_deref()).await {
                    Err(error) => {
                        state.done = true;
                        return Some((Err(error), state));
                    }
                    Ok(page) => {
                        let next = page.next_cursor().map(str::to_owned);
                        state.buffer.extend(page.data);
                        match next {
                            Some(cursor) if state.seen.insert(cursor.clone()) => {
                                state.cursor = Some(cursor)
                            }
                            Some(_) => {
                                tracing::warn!(path = %state.request.path, "Graph API repeated a paging cursor; stopping");
                                state.done = true;
                            }
                            None => state.done = true,
                        }
                    }
                }
            }
        })
        .boxed()
    }
}

struct StreamState<T> {
    request: ListRequest<T>,
    cursor: Option<String>,
    seen: HashSet<String>,
    buffer: VecDeque<T>,
    done: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn next_cursor_needs_a_next_link() {
        let last: GraphPage<u32> =
            serde_json::from_str(r#"{"data":[1],"paging":{"cursors":{"before":"b","after":"a"}}}"#)
                .unwrap();
        assert_eq!(last.next_cursor(), None);
        let more: GraphPage<u32> = serde_json::from_str(
            r#"{"data":[1],"paging":{"cursors":{"after":"a"},"next":"https://graph.facebook.com/v23.0/x?access_token=SECRET&after=a"}}"#,
        )
        .unwrap();
        assert_eq!(more.next_cursor(), Some("a"));
        let shown = format!("{more:?}{}", serde_json::to_string(&more).unwrap());
        assert!(!shown.contains("SECRET"), "{shown}");
    }
}
