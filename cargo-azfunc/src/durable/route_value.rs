//! A management API route value (instance id, event name, entity name or
//! key) as the extension sees it. The Functions host hands the extension a
//! URL rebuilt from Kestrel's decoded path (every `%XX` decoded but `%2F`)
//! escaped again by `PathString.ToUriComponent` (valid path characters and
//! `%XX` kept, the rest percent-encoded), and the extension's route
//! matching decodes nothing: `a%20b` is the id `a%20b` and `a%2Fb` is
//! `a%2Fb` (docs/durable.md, "The management API").

/// The route value for the raw path segment `raw`; why not, for a segment
/// that decodes to a NUL (Kestrel refuses such a request with 400).
pub fn route_value(raw: &str) -> Result<String, String> {
    let decoded = kestrel_decode(raw.as_bytes())?;
    Ok(to_uri_component(&String::from_utf8_lossy(&decoded)))
}

/// Kestrel's `UrlDecoder.DecodeRequestLine`: each `%XX` run that forms one
/// UTF-8 character is decoded, except `%2F`; anything else stays as it is.
fn kestrel_decode(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match character(bytes, at) {
            Some((decoded, length)) => {
                if decoded.contains(&0) {
                    return Err("the path holds a NUL character (%00)".to_owned());
                }
                out.extend_from_slice(&decoded);
                at += length;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    Ok(out)
}

/// The byte of `%XX` at `at`, unless it is `%2F` or not escaped.
fn escaped(bytes: &[u8], at: usize) -> Option<u8> {
    if bytes.get(at) != Some(&b'%') {
        return None;
    }
    let hex = std::str::from_utf8(bytes.get(at + 1..at + 3)?).ok()?;
    let byte = u8::from_str_radix(hex, 16).ok()?;
    (byte != b'/').then_some(byte)
}

/// The UTF-8 character escaped at `at` and the length of its escapes.
fn character(bytes: &[u8], at: usize) -> Option<(Vec<u8>, usize)> {
    let first = escaped(bytes, at)?;
    let length = match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return None,
    };
    let decoded: Vec<u8> = (0..length)
        .map(|n| escaped(bytes, at + 3 * n))
        .collect::<Option<_>>()?;
    // Overlong forms, surrogates and values past U+10FFFF are no
    // character: Kestrel leaves them escaped.
    std::str::from_utf8(&decoded).ok()?;
    Some((decoded, 3 * length))
}

/// A character `PathString` leaves as it is: RFC 3986's `pchar` and `/`.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!$&'()*+,-./:;=@_~".contains(c)
}

fn is_escape(text: &str, at: usize) -> bool {
    let bytes = text.as_bytes();
    bytes.get(at) == Some(&b'%')
        && bytes.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
        && bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit)
}

/// `PathString.ToUriComponent`: path characters and `%XX` kept, every other
/// character percent-encoded as UTF-8 (`Uri.EscapeDataString`).
fn to_uri_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if is_escape(text, at) {
            out.push_str(&text[at..at + 3]);
            chars.next();
            chars.next();
        } else if is_path_char(c) {
            out.push(c);
        } else {
            let mut buffer = [0; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_values_are_the_escaped_form_the_extension_matches() {
        for (raw, value) in [
            ("plain-id_1.2~", "plain-id_1.2~"),
            // %2F is never decoded: the id holds no `/` and is taken.
            ("a%2Fb", "a%2Fb"),
            ("a%2fb", "a%2fb"),
            // Decoded by Kestrel, escaped again.
            ("a%20b", "a%20b"),
            ("a%41b", "aAb"),
            ("%40counter%40x", "@counter@x"),
            ("a%2Bb", "a+b"),
            ("caf%C3%A9", "caf%C3%A9"),
            ("caf%c3%a9", "caf%C3%A9"),
            ("a%23b", "a%23b"),
            ("100%25", "100%25"),
            // A `%` that escapes nothing is escaped itself.
            ("a%zz", "a%25zz"),
            // Not one UTF-8 character: left as it was.
            ("a%C3", "a%C3"),
            ("a%FFb", "a%FFb"),
            ("%25%32%46", "%2F"),
        ] {
            assert_eq!(route_value(raw).as_deref(), Ok(value), "{raw}");
        }
        assert!(route_value("a%00b").is_err());
    }
}
