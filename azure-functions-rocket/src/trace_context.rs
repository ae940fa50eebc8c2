//! W3C Trace Context, as the host passes it on: the `traceparent` and
//! `tracestate` of an invocation's parent, read strictly. What is not
//! valid is ignored (docs/functions.md, "Logs and traces").

/// A valid `traceparent`: the caller's trace and span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceParent {
    pub(crate) trace_id: [u8; 16],
    pub(crate) parent_id: [u8; 8],
    pub(crate) flags: u8,
}

impl TraceParent {
    /// `text` read as W3C Trace Context's `traceparent` header, strictly:
    /// lower-case hex fields of their exact lengths, neither id all
    /// zeros, version `ff` refused; a later version's extra fields after
    /// a `-` are allowed, as the specification asks. `None` otherwise.
    pub(crate) fn parse(text: &str) -> Option<TraceParent> {
        let text = text.trim_matches([' ', '\t']);
        let bytes = text.as_bytes();
        let version = hex::<1>(bytes.get(..2)?)?[0];
        if version == 0xff || bytes.get(2) != Some(&b'-') {
            return None;
        }
        match (version, bytes.len()) {
            (0, 55) => {}
            (0, _) => return None,
            (_, 55) => {}
            (_, length) if length > 55 && bytes[55] == b'-' => {}
            _ => return None,
        }
        let trace_id = hex::<16>(&bytes[3..35])?;
        let parent_id = hex::<8>(&bytes[36..52])?;
        let flags = hex::<1>(&bytes[53..55])?[0];
        if bytes[35] != b'-' || bytes[52] != b'-' {
            return None;
        }
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(TraceParent {
            trace_id,
            parent_id,
            flags,
        })
    }
}

/// `N` bytes from `2 * N` lower-case hex digits.
fn hex<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.len() != 2 * N {
        return None;
    }
    let nibble = |digit: u8| match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    };
    let mut bytes = [0u8; N];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(bytes)
}

/// Whether `text` is a valid W3C `tracestate`: at most 32 `key=value`
/// members, keys of lower-case letters, digits and `_-*/` (with one `@`
/// for a tenant), values of printable ASCII but `,` and `=`. An invalid
/// one is dropped whole, the `traceparent` kept, as the specification asks.
pub(crate) fn valid_tracestate(text: &str) -> bool {
    let members = text
        .split(',')
        .map(|member| member.trim_matches([' ', '\t']))
        .filter(|member| !member.is_empty());
    let mut count = 0;
    for member in members {
        count += 1;
        let Some((key, value)) = member.split_once('=') else {
            return false;
        };
        if count > 32 || !valid_key(key) || !valid_value(value) {
            return false;
        }
    }
    true
}

fn valid_key(key: &str) -> bool {
    let part = |part: &str, max: usize, first_digit: bool| {
        let bytes = part.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= max
            && (bytes[0].is_ascii_lowercase() || first_digit && bytes[0].is_ascii_digit())
            && bytes.iter().all(|&byte| {
                byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"_-*/".contains(&byte)
            })
    };
    match key.split_once('@') {
        Some((tenant, system)) => part(tenant, 241, true) && part(system, 14, false),
        None => part(key, 256, false),
    }
}

fn valid_value(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 256
        && !value.ends_with(' ')
        && value
            .bytes()
            .all(|byte| (0x20..=0x7e).contains(&byte) && byte != b',' && byte != b'=')
}

/// `bytes` as lower-case hex.
pub(crate) fn display_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT_ID: &str = "00f067aa0ba902b7";

    #[test]
    fn a_valid_traceparent_gives_its_ids_and_flags() {
        let parent = TraceParent::parse(&format!("00-{TRACE_ID}-{PARENT_ID}-01")).unwrap();
        assert_eq!(display_hex(&parent.trace_id), TRACE_ID);
        assert_eq!(display_hex(&parent.parent_id), PARENT_ID);
        assert_eq!(parent.flags, 1);
        let unsampled = TraceParent::parse(&format!("00-{TRACE_ID}-{PARENT_ID}-00")).unwrap();
        assert_eq!(unsampled.flags, 0);
        // A later version may add fields after a dash.
        let later =
            TraceParent::parse(&format!("cc-{TRACE_ID}-{PARENT_ID}-01-what-comes")).unwrap();
        assert_eq!(later.trace_id, parent.trace_id);
    }

    #[test]
    fn a_malformed_traceparent_is_refused() {
        let zeros_trace = "0".repeat(32);
        let zeros_parent = "0".repeat(16);
        let upper = TRACE_ID.to_uppercase();
        let bad = [
            String::new(),
            "garbage".to_owned(),
            format!("00-{TRACE_ID}-{PARENT_ID}"),
            format!("00-{TRACE_ID}-{PARENT_ID}-01-extra"),
            format!("ff-{TRACE_ID}-{PARENT_ID}-01"),
            format!("00-{upper}-{PARENT_ID}-01"),
            format!("00-{zeros_trace}-{PARENT_ID}-01"),
            format!("00-{TRACE_ID}-{zeros_parent}-01"),
            format!("00_{TRACE_ID}-{PARENT_ID}-01"),
            format!("00-{TRACE_ID}_{PARENT_ID}-01"),
            format!("00-{TRACE_ID}-{PARENT_ID}_01"),
            format!("00-{TRACE_ID}-{PARENT_ID}-0g"),
            format!("cc-{TRACE_ID}-{PARENT_ID}-01x"),
            format!("0x-{TRACE_ID}-{PARENT_ID}-01"),
            // Multi-byte text where the separators would be.
            format!("00-{}-{PARENT_ID}-01", "é".repeat(16)),
            format!("00-{TRACE_ID}-{PARENT_ID}-é"),
        ];
        for text in bad {
            assert_eq!(TraceParent::parse(&text), None, "{text:?}");
        }
    }

    #[test]
    fn tracestate_is_checked_member_by_member() {
        for good in [
            "",
            "congo=t61rcWkgMzE",
            "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE",
            "tenant1@sys=x,a-b_c*d/e=v v",
        ] {
            assert!(valid_tracestate(good), "{good:?}");
        }
        let many = (0..33)
            .map(|n| format!("k{n}=v"))
            .collect::<Vec<_>>()
            .join(",");
        for bad in [
            "noequals",
            "UPPER=x",
            "k=a,b",
            "k=v=w",
            "k=",
            "k=\u{7f}",
            "1key=x",
            "@sys=x",
            many.as_str(),
        ] {
            assert!(!valid_tracestate(bad), "{bad:?}");
        }
    }
}
