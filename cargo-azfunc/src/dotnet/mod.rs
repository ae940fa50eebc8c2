//! The text .NET makes of JSON values where the host turns them into
//! strings: `object.ToString()` of a number, a bool (`True`), an object or
//! a list, and Newtonsoft's indented JSON with .NET's booleans
//! (docs/host-protocol.md "host -> handler" and "handler -> host"); and .NET's TimeSpan, read and
//! written as host.json's settings have it.

pub mod base64;

use serde_json::{Number, Value};

/// `value.ToString()` as .NET writes it for the value Newtonsoft read;
/// `None` for null (where .NET would throw or write nothing).
pub fn to_string(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::String(text) => text.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(number) => number_to_string(number),
        Value::Object(_) => "System.Dynamic.ExpandoObject".into(),
        Value::Array(_) => "System.Collections.Generic.List`1[System.Object]".into(),
    })
}

/// An integer as its digits; a fraction as .NET's `double.ToString()`:
/// the shortest text that reads back the same, with an exponent
/// (`1E+15`, `1E-05`) from 1e15 up and below 1e-4.
pub fn number_to_string(number: &Number) -> String {
    if number.is_i64() || number.is_u64() {
        return number.to_string();
    }
    let Some(value) = number.as_f64() else {
        return number.to_string();
    };
    double_to_string(value)
}

/// .NET Core's `double.ToString()` for a finite value.
pub fn double_to_string(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    // Rust's `{:e}` is the shortest round-trip text too: "1.2345e-5".
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .map(|(m, e)| (m.to_owned(), e.parse::<i32>().unwrap_or(0)))
        .unwrap_or((scientific.clone(), 0));
    if (-4..15).contains(&exponent) {
        format!("{value}")
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}E{sign}{:02}", exponent.abs())
    }
}

/// Newtonsoft's indented JSON (two spaces, `"name": value`), booleans
/// written `True` and `False` as the host sends them (docs/host-protocol.md, "handler -> host").
pub fn indented(value: &Value) -> String {
    let mut out = String::new();
    write_indented(value, 0, &mut out);
    out
}

fn write_indented(value: &Value, depth: usize, out: &mut String) {
    let pad = |depth: usize, out: &mut String| out.extend(std::iter::repeat_n("  ", depth));
    match value {
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(fields) if fields.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                pad(depth + 1, out);
                write_indented(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            pad(depth, out);
            out.push(']');
        }
        Value::Object(fields) => {
            out.push_str("{\n");
            for (i, (name, item)) in fields.iter().enumerate() {
                pad(depth + 1, out);
                out.push_str(&Value::String(name.clone()).to_string());
                out.push_str(": ");
                write_indented(item, depth + 1, out);
                out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
            }
            pad(depth, out);
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

pub use function_app::timespan::{parse_timespan, timespan_to_string};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_as_dotnet_writes_them() {
        assert_eq!(to_string(&json!(2)).as_deref(), Some("2"));
        assert_eq!(to_string(&json!(-7)).as_deref(), Some("-7"));
        assert_eq!(to_string(&json!(true)).as_deref(), Some("True"));
        assert_eq!(to_string(&json!(false)).as_deref(), Some("False"));
        assert_eq!(to_string(&json!("x")).as_deref(), Some("x"));
        assert_eq!(to_string(&json!(null)), None);
    }

    #[test]
    fn doubles_as_dotnet_core_writes_them() {
        for (value, text) in [
            (2.5, "2.5"),
            (2.0, "2"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1E-05"),
            (1.2345e-7, "1.2345E-07"),
            (1e14, "100000000000000"),
            (1e15, "1E+15"),
            (1.5e300, "1.5E+300"),
            (-2.5e20, "-2.5E+20"),
            (12.566370614359172, "12.566370614359172"),
        ] {
            assert_eq!(double_to_string(value), text, "{value}");
        }
    }
}
