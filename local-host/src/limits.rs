//! How much local-host takes from anyone, and for how long: callers'
//! bodies (the host's 100 MiB), the handler's replies, and the time a
//! caller may sit idle, send a request head or stall in a body. Nothing a
//! caller or a handler sends can make local-host grow without bound.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Body;

/// The host's limit on a caller's body: 100 MiB (`FUNCTIONS_REQUEST_BODY_SIZE_LIMIT`
/// unset; docs/host-protocol.md, "The app's files"). Larger bodies get 413.
pub const CALLER_BODY_LIMIT: usize = 100 * 1024 * 1024;

/// The most local-host reads of one reply from the handler. The host has
/// no smaller limit of its own; past this a reply is cut off, the
/// invocation fails and a warning names the size.
pub const REPLY_LIMIT: usize = 256 * 1024 * 1024;

/// How long a caller's connection may stay idle, or take to send a request
/// head (Kestrel's RequestHeadersTimeout is 30 s too).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a caller's body may stall without a byte before the request
/// gets 408 and the connection is closed.
pub const BODY_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Kestrel's MaxRequestHeadersTotalSize: the request's header lines, each
/// with its CRLF, may take 32 KiB; more gets 431.
pub const REQUEST_HEADERS_LIMIT: usize = 32 * 1024;

/// Kestrel's MaxRequestHeaderCount: 100 header lines; more gets 431.
pub const REQUEST_HEADER_COUNT: usize = 100;

/// The bytes of `headers` as header lines, `name: value` and CRLF each: the
/// size Kestrel holds against [`REQUEST_HEADERS_LIMIT`] (it counts the
/// bytes as sent; the parser keeps no spacing, so the usual one space after
/// the colon is counted).
pub fn header_lines_size(headers: &hyper::HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + ": ".len() + value.len() + "\r\n".len())
        .sum()
}

/// The limits of local-host's own listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Idle keep-alive connections and unfinished request heads are closed
    /// after this.
    pub head_timeout: Duration,
    /// A body that sends nothing for this long gets 408.
    pub body_stall_timeout: Duration,
    /// A larger caller body gets 413.
    pub caller_body: usize,
}

impl Default for ServerLimits {
    fn default() -> ServerLimits {
        ServerLimits {
            head_timeout: HEAD_TIMEOUT,
            body_stall_timeout: BODY_STALL_TIMEOUT,
            caller_body: CALLER_BODY_LIMIT,
        }
    }
}

/// Why a body was not read in full.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// More than the limit: the limit in bytes.
    TooLarge(usize),
    /// No byte for this long.
    Stalled(Duration),
    /// The connection broke: what happened.
    Broken(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge(limit) => write!(f, "the body is larger than {}", size(*limit)),
            BodyError::Stalled(after) => {
                write!(f, "the body stalled: no byte for {} s", after.as_secs_f64())
            }
            BodyError::Broken(e) => write!(f, "the body broke off: {e}"),
        }
    }
}

/// Reads a whole body of at most `limit` bytes; gives up when it is larger
/// (having read at most `limit` + one frame) or, with `stall`, when no
/// frame comes for that long.
pub async fn read_capped<B>(
    mut body: B,
    limit: usize,
    stall: Option<Duration>,
) -> Result<Vec<u8>, BodyError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    if body.size_hint().lower() > limit as u64 {
        return Err(BodyError::TooLarge(limit));
    }
    let mut read = BytesMut::new();
    loop {
        let frame = match stall {
            Some(stall) => match tokio::time::timeout(stall, body.frame()).await {
                Ok(frame) => frame,
                Err(_) => return Err(BodyError::Stalled(stall)),
            },
            None => body.frame().await,
        };
        let Some(frame) = frame else {
            return Ok(read.to_vec());
        };
        let frame = frame.map_err(|e| BodyError::Broken(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if data.len() > limit - read.len() {
                return Err(BodyError::TooLarge(limit));
            }
            read.extend_from_slice(&data);
        }
    }
}

/// A file's content, at most `limit` bytes: `invoke --data-file` stands
/// for a caller's body, so `/dev/zero` or a huge file is refused after
/// `limit` + 1 bytes instead of read forever.
pub fn read_file_capped(path: &std::path::Path, limit: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() > limit {
        return Err(format!(
            "{shown} is larger than {}, the host's limit for a caller's body",
            size(limit)
        ));
    }
    Ok(bytes)
}

/// `104857600 bytes (100 MiB)`.
pub fn size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{bytes} bytes ({} MiB)", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Chunked;
    use http_body_util::Full;

    #[tokio::test]
    async fn a_body_at_the_limit_is_read_one_byte_more_is_refused() {
        let exact = read_capped(Full::new(Bytes::from(vec![1u8; 1000])), 1000, None).await;
        assert_eq!(exact.map(|b| b.len()), Ok(1000));
        let over = read_capped(Full::new(Bytes::from(vec![1u8; 1001])), 1000, None).await;
        assert_eq!(over, Err(BodyError::TooLarge(1000)));
        // In pieces, with no size known in advance.
        let chunked = |n: usize| Chunked::new(&vec![b'x'; n], 300);
        assert_eq!(
            read_capped(chunked(1000), 1000, None)
                .await
                .map(|b| b.len()),
            Ok(1000)
        );
        assert_eq!(
            read_capped(chunked(1001), 1000, None).await,
            Err(BodyError::TooLarge(1000))
        );
    }

    #[test]
    fn sizes_are_named() {
        assert_eq!(size(CALLER_BODY_LIMIT), "104857600 bytes (100 MiB)");
        assert_eq!(size(1001), "1001 bytes");
    }
}
