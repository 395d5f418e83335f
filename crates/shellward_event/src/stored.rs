//! Events as a checkpoint stores them: every part kept exactly (value types, field order, log
//! source, provenance), unlike the flattened form printed in alerts.

use crate::{Event, Format, LogSource, Provenance, Timestamp, Value};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// An [`Event`] in a form serde can write and read back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time: Option<(i64, i32)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    path: String,
    record: u64,
    format: Format,
    fields: Vec<(String, StoredValue)>,
}

/// A [`Value`] with its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum StoredValue {
    N,
    B(bool),
    I(i64),
    F(f64),
    S(String),
    L(Vec<StoredValue>),
}

impl From<&Value> for StoredValue {
    fn from(value: &Value) -> Self {
        match value {
            Value::Null => StoredValue::N,
            Value::Bool(b) => StoredValue::B(*b),
            Value::Int(i) => StoredValue::I(*i),
            Value::Float(f) => StoredValue::F(*f),
            Value::Str(s) => StoredValue::S(s.clone()),
            Value::List(items) => StoredValue::L(items.iter().map(StoredValue::from).collect()),
        }
    }
}

impl From<StoredValue> for Value {
    fn from(value: StoredValue) -> Self {
        match value {
            StoredValue::N => Value::Null,
            StoredValue::B(b) => Value::Bool(b),
            StoredValue::I(i) => Value::Int(i),
            StoredValue::F(f) => Value::Float(f),
            StoredValue::S(s) => Value::Str(s),
            StoredValue::L(items) => Value::List(items.into_iter().map(Value::from).collect()),
        }
    }
}

impl From<&Event> for StoredEvent {
    fn from(event: &Event) -> Self {
        StoredEvent {
            product: event.logsource.product.map(str::to_owned),
            category: event.logsource.category.map(str::to_owned),
            service: event.logsource.service.map(str::to_owned),
            time: event.time.map(|t| (t.as_second(), t.subsec_nanosecond())),
            host: event.host.clone(),
            path: event.provenance.path.to_string(),
            record: event.provenance.record,
            format: event.provenance.format,
            fields: event.fields().map(|(n, v)| (n.to_owned(), StoredValue::from(v))).collect(),
        }
    }
}

impl StoredEvent {
    /// The event again. `paths` shares the path text among the events of one checkpoint.
    pub fn into_event(self, paths: &mut HashSet<Arc<str>>) -> Event {
        let path = match paths.get(self.path.as_str()) {
            Some(path) => Arc::clone(path),
            None => {
                let path: Arc<str> = self.path.into();
                paths.insert(Arc::clone(&path));
                path
            }
        };
        let mut event = Event::new(Provenance { path, record: self.record, format: self.format });
        event.logsource = LogSource {
            product: self.product.as_deref().and_then(intern),
            category: self.category.as_deref().and_then(intern),
            service: self.service.as_deref().and_then(intern),
        };
        event.time = self.time.and_then(|(s, n)| Timestamp::new(s, n).ok());
        event.host = self.host;
        for (name, value) in self.fields {
            event.push(name, value.into());
        }
        event
    }
}

/// Log source names read back from checkpoints: each distinct name is allocated once for the
/// life of the process ([`LogSource`] holds `'static` names).
static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// The most distinct names [`intern`] keeps; a checkpoint naming more (a damaged or hostile
/// file) loses the rest rather than growing memory without bound.
const MAX_NAMES: usize = 4096;

/// The `'static` copy of a log source name.
fn intern(name: &str) -> Option<&'static str> {
    let mut names = NAMES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = names.iter().find(|n| **n == name) {
        return Some(known);
    }
    if names.len() >= MAX_NAMES {
        return None;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.push(leaked);
    Some(leaked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_everything() {
        let mut event = Event::new(Provenance {
            path: "a/b.json".into(),
            record: 7,
            format: Format::FalconFdr,
        });
        event.logsource = LogSource {
            product: Some("windows"),
            category: Some("process_creation"),
            service: None,
        };
        event.time = Timestamp::from_second(1_700_000_000).ok();
        event.host = Some("h".into());
        event.insert("Image", Value::Str("C:\\x.exe".into()));
        event.insert("N", Value::Int(3));
        event.insert("L", Value::List(vec![Value::Null, Value::Float(1.5), Value::Bool(true)]));
        let text = serde_json::to_string(&StoredEvent::from(&event)).unwrap_or_default();
        let back: StoredEvent = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.into_event(&mut HashSet::new()), event);
    }
}
