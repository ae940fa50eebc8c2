//! A caller's request path as the host's Kestrel hands it to routing:
//! percent-decoded, except `%2F` which stays as it is (so a route value
//! can hold it, but it never splits a segment); `.` and `..` segments
//! removed after decoding (so `%2e%2e` is `..` too, and nothing climbs
//! above the root); a path that decodes to a NUL or to invalid UTF-8 is a
//! bad request (400).

/// Why a path is refused (Kestrel: 400 Bad Request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPath(pub String);

impl std::fmt::Display for BadPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The path routing sees, from the raw path of the request target.
pub fn normalize(raw: &str) -> Result<String, BadPath> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            let byte = hi * 16 + lo;
            if byte == b'/' {
                // Kestrel leaves %2F encoded, in its own spelling.
                decoded.extend_from_slice(&bytes[i..i + 3]);
            } else {
                decoded.push(byte);
            }
            i += 3;
            continue;
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    if decoded.contains(&0) {
        return Err(BadPath(format!(
            "the path {raw:?} decodes to a NUL character"
        )));
    }
    let decoded = String::from_utf8(decoded)
        .map_err(|_| BadPath(format!("the path {raw:?} does not decode to UTF-8")))?;
    Ok(remove_dot_segments(&decoded))
}

/// RFC 3986 section 5.2.4 on an absolute path: `.` segments go, `..`
/// removes the segment before it, never climbing above `/`.
fn remove_dot_segments(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    // Only the first slash goes: Kestrel keeps empty segments, a leading
    // one too (`//api/x` is not `/api/x`).
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (index, segment) in segments.iter().enumerate() {
        match *segment {
            "." => trailing_slash = index == last,
            ".." => {
                kept.pop();
                trailing_slash = index == last;
            }
            other => {
                kept.push(other);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    if trailing_slash || out.is_empty() {
        out.push('/');
    }
    out
}

/// The path written back into a URL (ASP.NET's PathString.ToUriComponent):
/// characters a path may not hold percent-encoded, a `%` that already
/// starts an escape (`%2F`) kept.
pub fn to_uri_component(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    for (i, &b) in bytes.iter().enumerate() {
        let escape_start = b == b'%'
            && bytes.get(i + 1).copied().and_then(hex).is_some()
            && bytes.get(i + 2).copied().and_then(hex).is_some();
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) || escape_start {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_never_climb_above_the_root() {
        assert_eq!(
            normalize("/api/files/../../etc/passwd"),
            Ok("/etc/passwd".into())
        );
        assert_eq!(
            normalize("/api/files/%2e%2e/%2E%2E/etc/passwd"),
            Ok("/etc/passwd".into())
        );
        assert_eq!(
            normalize("/api/files/a/./b/../c"),
            Ok("/api/files/a/c".into())
        );
        assert_eq!(normalize("/../../.."), Ok("/".into()));
        assert_eq!(normalize("/api/x/.."), Ok("/api/".into()));
        assert_eq!(normalize("/api/x/."), Ok("/api/x/".into()));
        assert_eq!(normalize("/api/..x/.x"), Ok("/api/..x/.x".into()));
        assert_eq!(normalize("//api//x/../y"), Ok("//api//y".into()));
        assert_eq!(normalize("/a//.."), Ok("/a/".into()));
    }

    #[test]
    fn decoded_except_the_slash() {
        assert_eq!(normalize("/api/a%20b%C3%A9"), Ok("/api/a bé".into()));
        assert_eq!(normalize("/api/a%2Fb%2fc"), Ok("/api/a%2Fb%2fc".into()));
        assert_eq!(normalize("/api/100%"), Ok("/api/100%".into()));
        assert_eq!(normalize("/api/%zz"), Ok("/api/%zz".into()));
        assert_eq!(normalize("/api/a+b"), Ok("/api/a+b".into()));
        // A %2F never becomes a separator, so no dot segment forms.
        assert_eq!(
            normalize("/api/files/..%2F..%2Fetc"),
            Ok("/api/files/..%2F..%2Fetc".into())
        );
    }

    #[test]
    fn nul_and_invalid_utf8_are_refused() {
        assert!(normalize("/api/a%00b").is_err());
        assert!(normalize("/api/%ff").is_err());
        assert!(normalize("/api/%C3").is_err());
    }

    #[test]
    fn written_back_into_a_url() {
        assert_eq!(to_uri_component("/api/a b/é"), "/api/a%20b/%C3%A9");
        assert_eq!(to_uri_component("/api/a%2Fb"), "/api/a%2Fb");
        assert_eq!(to_uri_component("/api/100%"), "/api/100%25");
    }
}
