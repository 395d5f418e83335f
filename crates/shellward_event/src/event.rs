//! The normalized event.

use crate::{LogSource, Provenance, Timestamp, Value};
use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};
use std::borrow::Cow;

/// A field name: `'static` for the taxonomy names that mapping tables add, owned for names that come
/// from the source record.
pub type FieldName = Cow<'static, str>;

/// One normalized telemetry record (see the crate documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The Sigma log source, as far as the decoder knows it.
    pub logsource: LogSource,
    /// When it happened, in UTC.
    pub time: Option<Timestamp>,
    /// The host it happened on.
    pub host: Option<String>,
    /// Where it was read from.
    pub provenance: Provenance,
    fields: Vec<(FieldName, Value)>,
}

impl Event {
    /// An event with no fields.
    pub fn new(provenance: Provenance) -> Self {
        Event {
            logsource: LogSource::default(),
            time: None,
            host: None,
            provenance,
            fields: Vec::new(),
        }
    }

    /// The value of a field, by exact name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The value of a field, to change it in place.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.fields.iter_mut().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The text of a field, if it holds a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// Sets a field, replacing any value it had.
    pub fn insert(&mut self, name: impl Into<FieldName>, value: Value) {
        let name = name.into();
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }

    /// Appends a field without looking for an existing one of the same name: for decoders copying
    /// fields whose names are already unique (the keys of one JSON object or EVTX `EventData`). If a
    /// name does repeat, [`Event::get`] sees the first.
    pub fn push(&mut self, name: impl Into<FieldName>, value: Value) {
        self.fields.push((name.into(), value));
    }

    /// Removes a field and returns its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let index = self.fields.iter().position(|(n, _)| n == name)?;
        Some(self.fields.remove(index).1)
    }

    /// The fields in source order, taxonomy aliases after the source's own.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(n, v)| (n.as_ref(), v))
    }

    /// Renames fields in place: `rename` returns the new name for a field, or `None` to keep it.
    pub fn rename_fields(&mut self, mut rename: impl FnMut(&str) -> Option<String>) {
        for (name, _) in &mut self.fields {
            if let Some(new) = rename(name) {
                *name = FieldName::Owned(new);
            }
        }
    }

    /// The field at a position of [`Event::fields`].
    pub fn field_at(&self, index: usize) -> Option<(&str, &Value)> {
        self.fields.get(index).map(|(n, v)| (n.as_ref(), v))
    }

    /// How many fields the event has.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the event has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// Serializes as `{"time", "host", "logsource", "source", "fields": {...}}`, the form
/// `shellward events` prints.
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Fields<'a>(&'a [(FieldName, Value)]);
        impl Serialize for Fields<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (name, value) in self.0 {
                    map.serialize_entry(name.as_ref(), value)?;
                }
                map.end()
            }
        }
        let mut s = serializer.serialize_struct("Event", 5)?;
        // The one time form shellward prints everywhere: RFC 3339 in UTC with milliseconds.
        s.serialize_field("time", &self.time.map(|t| format!("{t:.3}")))?;
        s.serialize_field("host", &self.host)?;
        s.serialize_field("logsource", &self.logsource)?;
        s.serialize_field("source", &self.provenance)?;
        s.serialize_field("fields", &Fields(&self.fields))?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    fn event() -> Event {
        Event::new(Provenance { path: "x.evtx".into(), record: 7, format: Format::Evtx })
    }

    #[test]
    fn insert_replaces_and_push_keeps_first() {
        let mut e = event();
        e.push("Image", "a".into());
        e.insert("Image", "b".into());
        assert_eq!(e.get_str("Image"), Some("b"));
        e.push("Image", "c".into());
        assert_eq!(e.get_str("Image"), Some("b"));
        assert_eq!(e.remove("Image"), Some(Value::from("b")));
        assert_eq!(e.get_str("Image"), Some("c"));
    }

    #[test]
    fn serializes_in_field_order() {
        let mut e = event();
        e.push("Z", Value::Int(1));
        e.push("A", Value::Null);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"time":null,"host":null,"logsource":{},"source":{"path":"x.evtx","record":7,"format":"evtx"},"fields":{"Z":1,"A":null}}"#
        );
    }
}
