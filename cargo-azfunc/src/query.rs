//! A caller's query string as the host reads it (decoded, repeated keys
//! comma-joined) and as it passes it on to the handler in forwarding and
//! proxying modes; and percent-encoding and -decoding.

/// Decodes a percent-encoded path segment, where `+` stays a plus.
pub fn path_decode(text: &str) -> String {
    url_decode(&text.replace('+', "%2B"))
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
pub fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query as the host sees it: decoded, a repeated key's values
/// comma-joined under its first spelling, in first-seen order.
pub fn query_values(raw: &str) -> Vec<(String, String)> {
    let mut joined: Vec<(String, String)> = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (url_decode(key), url_decode(value));
        match joined
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key))
        {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => joined.push((key, value)),
        }
    }
    joined
}

/// The query as Metadata has it: decoded, a repeated key's LAST value
/// under its first spelling, in first-seen order.
pub fn query_last_values(raw: &str) -> Vec<(String, String)> {
    let mut last: Vec<(String, String)> = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (url_decode(key), url_decode(value));
        match last.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(&key)) {
            Some((_, existing)) => *existing = value,
            None => last.push((key, value)),
        }
    }
    last
}

/// The query the host sends the handler in forwarding and proxying modes:
/// rebuilt from [`query_values`] as ASP.NET's `QueryHelpers.AddQueryString`
/// writes it (each key and value percent-encoded, `&`-separated), so a
/// repeated key arrives once, its values comma-joined. Empty for no query.
pub fn forwarded_query(raw: &str) -> String {
    query_values(raw)
        .iter()
        .map(|(key, value)| {
            format!(
                "{}={}",
                percent_encode(key, SUB_DELIMS),
                percent_encode(value, SUB_DELIMS)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The characters besides the unreserved ones that ASP.NET's default URL
/// encoder leaves as they are.
const SUB_DELIMS: &[u8] = b"!$'()*,;";

/// `text` with every byte but ASCII letters, digits, `-_.~` and
/// `also_safe` written as `%XX`.
pub fn percent_encode(text: &str, also_safe: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) || also_safe.contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_decode_and_join_repeated_keys() {
        assert_eq!(
            query_values("a=1&b&a=x+y&c=%41%zz&A=3"),
            [
                ("a".to_owned(), "1,x y,3".to_owned()),
                ("b".to_owned(), String::new()),
                ("c".to_owned(), "A%zz".to_owned())
            ]
        );
    }

    #[test]
    fn the_forwarded_query_has_each_key_once() {
        let cases = [
            ("", ""),
            ("a=1&a=2", "a=1,2"),
            ("name=Ada+Lovelace&x=%2F%26", "name=Ada%20Lovelace&x=%2F%26"),
            ("flag&n=1", "flag=&n=1"),
            ("k=%C3%A9&k=(1)", "k=%C3%A9,(1)"),
        ];
        for (raw, forwarded) in cases {
            assert_eq!(forwarded_query(raw), forwarded, "{raw}");
        }
    }

    #[test]
    fn percent_encoding_keeps_only_the_safe_bytes() {
        assert_eq!(percent_encode("a b/c,d~", b""), "a%20b%2Fc%2Cd~");
        assert_eq!(percent_encode("a,b", b","), "a,b");
    }
}
