//! Reading a request body: bounded in size and in time, for every route of both adapters.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// It grew past the limit.
    TooLarge,
    /// It did not arrive whole within the time allowed.
    TimedOut,
    /// The connection failed or the client hung up before the body was complete.
    Incomplete,
}

/// The whole body, read up to `limit` bytes (a body of exactly `limit` bytes is accepted, one
/// more byte is refused without reading the rest), within `timeout` from the first poll.
pub(crate) async fn read<S, E>(body: S, limit: usize, timeout: Duration) -> Result<Bytes, BodyError>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let collect = async move {
        let mut body = std::pin::pin!(body);
        let mut out = BytesMut::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|_| BodyError::Incomplete)?;
            if out.len() + chunk.len() > limit {
                return Err(BodyError::TooLarge);
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out.freeze())
    };
    tokio::time::timeout(timeout, collect)
        .await
        .unwrap_or(Err(BodyError::TimedOut))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: Vec<Result<&'static [u8], ()>>) -> impl Stream<Item = Result<Bytes, ()>> {
        futures_util::stream::iter(parts.into_iter().map(|p| p.map(Bytes::from_static)))
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn the_limit_is_inclusive() {
        let at = read(chunks(vec![Ok(b"ab"), Ok(b"cd")]), 4, SECOND).await;
        assert_eq!(at.as_deref(), Ok(&b"abcd"[..]));
        let over = read(chunks(vec![Ok(b"ab"), Ok(b"cde")]), 4, SECOND).await;
        assert_eq!(over, Err(BodyError::TooLarge));
    }

    #[tokio::test]
    async fn a_broken_body_is_incomplete_not_too_large() {
        let broken = read(chunks(vec![Ok(b"ab"), Err(())]), 4, SECOND).await;
        assert_eq!(broken, Err(BodyError::Incomplete));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_body_times_out() {
        let slow = futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, ()>(Bytes::from_static(b"late"))
        });
        assert_eq!(read(slow, 10, SECOND).await, Err(BodyError::TimedOut));
    }
}
