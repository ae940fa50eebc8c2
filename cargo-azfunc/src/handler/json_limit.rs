//! The largest invocation the handler reads: Rocket's `limits.json`, which
//! the library sets to 32 MiB unless `ROCKET_LIMITS` names another
//! (docs/configuration.md). Larger invocations are answered 413, so the
//! local host refuses at the door what could only fail there
//! (docs/durable.md, "The management API").

/// The library's default `limits.json`: 32 MiB.
pub const DEFAULT_JSON_LIMIT: usize = 32 * 1024 * 1024;

/// The handler's `limits.json` in bytes, read from `ROCKET_LIMITS` as the
/// handler will see it: the last value in `env` (what the host adds to
/// the handler's environment), else the host's own environment, which the
/// handler inherits. `Rocket.toml` is not read.
pub fn handler_json_limit(env: &[(String, String)]) -> usize {
    let set = env
        .iter()
        .rev()
        .find(|(name, _)| name == "ROCKET_LIMITS")
        .map(|(_, value)| value.clone())
        .or_else(|| std::env::var("ROCKET_LIMITS").ok());
    set.and_then(|limits| json_limit(&limits))
        .unwrap_or(DEFAULT_JSON_LIMIT)
}

/// `json` of a figment dictionary such as `{json="64KiB", form=1024}`.
fn json_limit(limits: &str) -> Option<usize> {
    let inner = limits.trim().strip_prefix('{')?.strip_suffix('}')?;
    inner.split(',').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        let key = key.trim().trim_matches('"');
        (key == "json").then(|| byte_unit(value.trim().trim_matches('"')))?
    })
}

/// A size as Rocket's `ByteUnit` reads it: a number, then optionally a
/// unit of B, kB, KiB, MB, MiB, GB or GiB (any case).
fn byte_unit(text: &str) -> Option<usize> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "kib" => 1024.0,
        "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * factor;
    // Whole bytes, as ByteUnit rounds a fraction down.
    (bytes.is_finite() && bytes >= 0.0 && bytes < usize::MAX as f64).then_some(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(value: &str) -> Vec<(String, String)> {
        vec![("ROCKET_LIMITS".to_owned(), value.to_owned())]
    }

    #[test]
    fn the_limit_is_read_as_rocket_reads_rocket_limits() {
        assert_eq!(handler_json_limit(&env(r#"{json="64KiB"}"#)), 64 * 1024);
        assert_eq!(
            handler_json_limit(&env(r#"{form="1MiB", json = "2 MiB"}"#)),
            2 * 1024 * 1024
        );
        assert_eq!(handler_json_limit(&env("{json=1000}")), 1000);
        assert_eq!(handler_json_limit(&env(r#"{json="1.5kB"}"#)), 1500);
        // No json key, or one that does not read: the library's default.
        assert_eq!(
            handler_json_limit(&env(r#"{form="1MiB"}"#)),
            DEFAULT_JSON_LIMIT
        );
        assert_eq!(
            handler_json_limit(&env(r#"{json="lots"}"#)),
            DEFAULT_JSON_LIMIT
        );
        // The last one set wins, as in the handler's environment.
        let mut twice = env(r#"{json="1KiB"}"#);
        twice.extend(env(r#"{json="3KiB"}"#));
        assert_eq!(handler_json_limit(&twice), 3 * 1024);
    }
}
