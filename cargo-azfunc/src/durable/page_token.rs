//! The instance list's continuation token: the place of the last instance
//! shown among all instances created (a key that neither a purge nor a new
//! instance moves), with a tag keyed by this host's run, so that a token
//! this host did not give (garbled, made up, or from an earlier run) is
//! refused rather than read as some other place.

use std::hash::BuildHasher;
use std::sync::OnceLock;

/// The tag's key: random for each run of the host.
fn key() -> &'static std::collections::hash_map::RandomState {
    static KEY: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    KEY.get_or_init(std::collections::hash_map::RandomState::new)
}

/// The token of the page after the instance created in place `order`:
/// 32 hexadecimal digits.
pub fn encode(order: u64) -> String {
    format!("{order:016x}{:016x}", key().hash_one(order))
}

/// The place a token of [`encode`] names; why not, when this host did not
/// give it.
pub fn decode(token: &str) -> Result<u64, String> {
    let refused = || {
        format!(
            "the continuation token {token:?} is not one this host gave \
             (send back the x-ms-continuation-token of the page before, unchanged)"
        )
    };
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(refused());
    }
    let order = u64::from_str_radix(&token[..16], 16).map_err(|_| refused())?;
    let tag = u64::from_str_radix(&token[16..], 16).map_err(|_| refused())?;
    if tag != key().hash_one(order) {
        return Err(refused());
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_and_any_change_is_refused() {
        for order in [0, 1, 41, u64::MAX] {
            assert_eq!(decode(&encode(order)), Ok(order));
        }
        let token = encode(7);
        // Another place with the old tag, a changed digit, a short one.
        let moved = format!("{:016x}{}", 8, &token[16..]);
        let flipped: String = token
            .chars()
            .enumerate()
            .map(|(at, c)| {
                if at == 31 {
                    if c == '0' { '1' } else { '0' }
                } else {
                    c
                }
            })
            .collect();
        for bad in [moved.as_str(), &flipped, &token[..31], "2", "", "zz"] {
            let reason = decode(bad).expect_err(bad);
            assert!(reason.contains("not one this host gave"), "{reason}");
        }
    }
}
