//! What Core Tools reads from local.settings.json besides `Values`: its
//! `Host` section (`LocalHttpPort`, `CORS`, `CORSCredentials`) and
//! `IsEncrypted`. Names are matched in any case, as Core Tools' JSON reader
//! matches them.

use std::path::Path;

use serde_json::Value;

use crate::app::{AppError, field};
use crate::host::cors::Cors;

/// The `Host` section and `IsEncrypted` of local.settings.json.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalSettings {
    /// `IsEncrypted: true`: the `Values` are ciphertext only Core Tools on
    /// the machine that encrypted them can read.
    pub encrypted: bool,
    /// `Host.LocalHttpPort`: the port when none is given.
    pub local_http_port: Option<u16>,
    /// `Host.CORS` with `Host.CORSCredentials`.
    pub cors: Option<Cors>,
}

impl LocalSettings {
    /// Reads them from `json`, the content of the file at `path` (named in
    /// errors).
    pub fn from_json(json: &Value, path: &Path) -> Result<LocalSettings, AppError> {
        let wrong = |what: &str, value: &Value| {
            AppError(format!("{}: {what}, not {value}", path.display()))
        };
        let encrypted = match field(json, "IsEncrypted") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(on)) => *on,
            Some(other) => return Err(wrong("\"IsEncrypted\" must be true or false", other)),
        };
        let mut settings = LocalSettings {
            encrypted,
            ..LocalSettings::default()
        };
        let Some(host) = field(json, "Host").filter(|h| !h.is_null()) else {
            return Ok(settings);
        };
        if !host.is_object() {
            return Err(wrong("\"Host\" must be an object", host));
        }
        settings.local_http_port = match field(host, "LocalHttpPort") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| wrong("Host.LocalHttpPort must be a port number", value))?,
            ),
        };
        let credentials = match field(host, "CORSCredentials") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(on)) => *on,
            Some(other) => return Err(wrong("Host.CORSCredentials must be true or false", other)),
        };
        settings.cors = match field(host, "CORS") {
            None | Some(Value::Null) => None,
            Some(Value::String(list)) => Cors::parse(list, credentials)
                .map_err(|e| AppError(format!("{}: Host.CORS: {e}", path.display())))?,
            Some(other) => {
                return Err(wrong(
                    "Host.CORS must be a comma-separated string of origins",
                    other,
                ));
            }
        };
        Ok(settings)
    }

    /// Refuses encrypted settings: the handler would get ciphertext.
    pub fn refuse_encrypted(&self) -> Result<(), String> {
        if self.encrypted {
            return Err("local.settings.json has \"IsEncrypted\": true, and only Core Tools on the machine that encrypted it can read its Values: run `func settings decrypt` there, or set \"IsEncrypted\" to false and write the values in plain text".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<LocalSettings, String> {
        let json: Value =
            serde_json::from_str(text).map_err(|e| format!("is not valid JSON: {e}"))?;
        LocalSettings::from_json(&json, Path::new("local.settings.json")).map_err(|e| e.0)
    }

    #[test]
    fn the_host_section_is_read_in_any_case() {
        let settings = load(
            r#"{"isencrypted":false,"host":{"localHttpPort":7072,"cors":"http://localhost:3000","corsCredentials":true}}"#,
        )
        .expect("loads");
        assert!(!settings.encrypted);
        assert_eq!(settings.local_http_port, Some(7072));
        assert_eq!(
            settings.cors,
            Cors::parse("http://localhost:3000", true).expect("parses")
        );
        assert_eq!(load("{}"), Ok(LocalSettings::default()));
        assert_eq!(
            load(r#"{"IsEncrypted":true,"Host":null}"#).map(|s| s.encrypted),
            Ok(true)
        );
    }

    #[test]
    fn bad_values_say_which_and_why() {
        let cases = [
            (
                r#"{"Host":{"LocalHttpPort":0}}"#,
                "Host.LocalHttpPort must be a port number, not 0",
            ),
            (
                r#"{"Host":{"LocalHttpPort":65536}}"#,
                "must be a port number, not 65536",
            ),
            (
                r#"{"Host":{"LocalHttpPort":"7071"}}"#,
                "must be a port number, not \"7071\"",
            ),
            (
                r#"{"Host":{"CORS":["*"]}}"#,
                "Host.CORS must be a comma-separated string",
            ),
            (
                r#"{"Host":{"CORS":"localhost"}}"#,
                "Host.CORS: CORS origin \"localhost\" is not",
            ),
            (
                r#"{"Host":{"CORS":"*","CORSCredentials":true}}"#,
                "cannot go with credentials",
            ),
            (
                r#"{"Host":{"CORSCredentials":"yes"}}"#,
                "Host.CORSCredentials must be true or false",
            ),
            (r#"{"Host":7}"#, "\"Host\" must be an object"),
            (
                r#"{"IsEncrypted":"no"}"#,
                "\"IsEncrypted\" must be true or false",
            ),
        ];
        for (text, expected) in cases {
            let error = load(text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn encrypted_settings_are_refused_with_the_way_out() {
        let settings = LocalSettings {
            encrypted: true,
            ..LocalSettings::default()
        };
        let refusal = settings.refuse_encrypted().expect_err("refused");
        assert!(refusal.contains("func settings decrypt"), "{refusal}");
        assert_eq!(LocalSettings::default().refuse_encrypted(), Ok(()));
    }
}
