//! Core Tools' local.settings.json: the `Values` it hands the host as
//! app settings, `IsEncrypted`, and its `Host` section (`LocalHttpPort`,
//! `CORS`, `CORSCredentials`). Names are matched in any case, as Core
//! Tools' JSON reader matches them.

use serde_json::Value;

use crate::json::property;

/// local.settings.json.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalSettings {
    /// `Values`, in file order; a number or bool as its JSON text.
    pub values: Vec<(String, String)>,
    /// `IsEncrypted: true`: the `Values` are ciphertext only Core Tools on
    /// the machine that encrypted them can read.
    pub encrypted: bool,
    /// `Host.LocalHttpPort`: the port when none is given.
    pub local_http_port: Option<u16>,
    /// `Host.CORS`: a comma-separated list of origins, as written.
    pub cors: Option<String>,
    /// `Host.CORSCredentials`.
    pub cors_credentials: bool,
}

impl LocalSettings {
    /// Reads the file's JSON; what Core Tools would refuse is an error
    /// saying which setting and why.
    pub fn from_json(json: &Value) -> Result<LocalSettings, String> {
        let wrong = |what: &str, value: &Value| format!("{what}, not {value}");
        let encrypted = match property(json, "IsEncrypted") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(on)) => *on,
            Some(other) => return Err(wrong("\"IsEncrypted\" must be true or false", other)),
        };
        let values = match property(json, "Values") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(values)) => values
                .iter()
                .map(|(key, value)| {
                    let text = match value {
                        Value::String(text) => text.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (key.clone(), text)
                })
                .collect(),
            Some(_) => return Err("\"Values\" must be an object of strings".to_owned()),
        };
        let mut settings = LocalSettings {
            values,
            encrypted,
            ..LocalSettings::default()
        };
        let Some(host) = property(json, "Host").filter(|h| !h.is_null()) else {
            return Ok(settings);
        };
        if !host.is_object() {
            return Err(wrong("\"Host\" must be an object", host));
        }
        settings.local_http_port = match property(host, "LocalHttpPort") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| wrong("Host.LocalHttpPort must be a port number", value))?,
            ),
        };
        settings.cors_credentials = match property(host, "CORSCredentials") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(on)) => *on,
            Some(other) => return Err(wrong("Host.CORSCredentials must be true or false", other)),
        };
        settings.cors = match property(host, "CORS") {
            None | Some(Value::Null) => None,
            Some(Value::String(list)) => Some(list.clone()),
            Some(other) => {
                return Err(wrong(
                    "Host.CORS must be a comma-separated string of origins",
                    other,
                ));
            }
        };
        Ok(settings)
    }

    /// The value of the setting `name` (exact case, as the host's
    /// environment has it).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
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
        LocalSettings::from_json(&serde_json::from_str(text).map_err(|e| e.to_string())?)
    }

    #[test]
    fn values_and_the_host_section_are_read_in_any_case() {
        let settings = load(
            r#"{"isencrypted":false,"values":{"A":"x","N":3,"Z":null},"host":{"localHttpPort":7072,"cors":"http://localhost:3000","corsCredentials":true}}"#,
        )
        .expect("loads");
        assert!(!settings.encrypted);
        assert_eq!(settings.value("N"), Some("3"));
        assert_eq!(settings.value("Z"), Some(""));
        assert_eq!(settings.value("n"), None);
        assert_eq!(settings.local_http_port, Some(7072));
        assert_eq!(settings.cors.as_deref(), Some("http://localhost:3000"));
        assert!(settings.cors_credentials);
        assert_eq!(load("{}"), Ok(LocalSettings::default()));
        assert_eq!(
            load(r#"{"IsEncrypted":true,"Host":null}"#).map(|s| s.encrypted),
            Ok(true)
        );
    }

    #[test]
    fn bad_values_say_which_and_why() {
        for (text, expected) in [
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
                r#"{"Host":{"CORSCredentials":"yes"}}"#,
                "Host.CORSCredentials must be true or false",
            ),
            (r#"{"Host":7}"#, "\"Host\" must be an object"),
            (r#"{"Values":[1]}"#, "\"Values\" must be an object"),
            (
                r#"{"IsEncrypted":"no"}"#,
                "\"IsEncrypted\" must be true or false",
            ),
        ] {
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
