//! shellward's `first_seen` rule attribute: alert only on the first event with a new value, once a
//! baseline has been watched.
//!
//! ```yaml
//! first_seen:
//!     fields: [cs-uri-stem]   # the value that must be new (per host)
//!     after: 1h               # how long each host is watched before anything counts as new
//! ```
//!
//! A rule's detection says which events are candidates (successful requests to server-side
//! scripts); the attribute keeps, per host, the first event with each value of `fields` and only
//! when it comes at least `after` past the host's first candidate: "the first request to a script
//! that did not exist an hour into the log". The engine matches events one at a time and keeps no
//! state; a hunt applies this over each input in order ([`FirstSeen`] is the rule's setting).

use crate::compile::error::CompileError;
use rsigma_parser::Timespan;

/// A rule's `first_seen` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstSeen {
    /// The fields whose values, together, must be new.
    pub fields: Vec<String>,
    /// The baseline per host, in seconds.
    pub after_seconds: u64,
}

impl FirstSeen {
    /// Reads the attribute from a rule's custom attributes; `Ok(None)` when it is absent.
    pub(crate) fn from_attribute(
        value: Option<&yaml_serde::Value>,
    ) -> Result<Option<FirstSeen>, CompileError> {
        let Some(value) = value else { return Ok(None) };
        let bad = |message: &str| CompileError::invalid("first_seen", message);
        let fields: Vec<String> = match value.get("fields") {
            Some(yaml_serde::Value::String(one)) => vec![one.clone()],
            Some(yaml_serde::Value::Sequence(items)) => items
                .iter()
                .map(|item| {
                    item.as_str().map(str::to_owned).ok_or_else(|| bad("fields must be names"))
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(bad("needs fields: a name or a list of names")),
        };
        if fields.is_empty() {
            return Err(bad("needs at least one field"));
        }
        let after_seconds = match value.get("after") {
            Some(yaml_serde::Value::String(text)) => {
                Timespan::parse(text).map_err(|e| bad(&format!("after: {e}")))?.seconds
            }
            None => 0,
            Some(_) => return Err(bad("after must be a timespan such as 1h")),
        };
        Ok(Some(FirstSeen { fields, after_seconds }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<FirstSeen>, CompileError> {
        let value: yaml_serde::Value = yaml_serde::from_str(text).unwrap();
        FirstSeen::from_attribute(Some(&value))
    }

    #[test]
    fn settings() {
        assert_eq!(
            parse("fields: [cs-uri-stem, cs-host]\nafter: 1h").unwrap(),
            Some(FirstSeen {
                fields: vec!["cs-uri-stem".into(), "cs-host".into()],
                after_seconds: 3600
            })
        );
        assert_eq!(parse("fields: x").unwrap().unwrap().after_seconds, 0);
        assert!(parse("after: 1h").is_err());
        assert!(parse("fields: []").is_err());
        assert!(parse("fields: x\nafter: soon").is_err());
        assert_eq!(FirstSeen::from_attribute(None).unwrap(), None);
    }
}
