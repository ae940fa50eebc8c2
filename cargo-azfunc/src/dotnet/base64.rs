//! Base64 the way .NET's `Convert.TryFromBase64String` sees it: the host
//! uses that to decide whether a string output is "really" bytes (the trap
//! of docs/host-protocol.md "handler -> host" and "Non-HTTP triggers and output bindings"), so the check must match it, not a
//! stricter decoder.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The bytes a non-empty string decodes to when .NET would accept it as
/// base64 (whitespace ignored, length a multiple of four, at most two `=` at
/// the end, stray low bits tolerated); `None` when it is not base64.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let chars: Vec<u8> = text
        .bytes()
        .filter(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        .collect();
    if chars.is_empty() || !chars.len().is_multiple_of(4) {
        return None;
    }
    let padding = chars.iter().rev().take_while(|&&c| c == b'=').count();
    if padding > 2 {
        return None;
    }
    let data = &chars[..chars.len() - padding];
    let mut out = Vec::with_capacity(chars.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in data {
        acc = acc << 6 | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_that_happen_to_be_base64() {
        assert_eq!(decode("test"), Some(vec![0xb5, 0xeb, 0x2d]));
        assert!(decode("true").is_some());
        assert!(decode("1234").is_some());
        assert!(decode("abcd").is_some());
        assert_eq!(decode("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(decode("aGVs bG8="), Some(b"hello".to_vec()));
    }

    #[test]
    fn other_text_is_not_base64() {
        for text in ["", "hello", "{\"a\":1}", "ab=c", "a===", "héhé", "a b"] {
            assert_eq!(decode(text), None, "{text:?}");
        }
    }

    #[test]
    fn encode_round_trips() {
        for len in 0..10 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 5) as u8).collect();
            let text = encode(&bytes);
            if len > 0 {
                assert_eq!(decode(&text), Some(bytes));
            }
        }
        assert_eq!(encode(b"hello"), "aGVsbG8=");
    }
}
