//! The evtx crate's JSON rendering of a record, built into an event in one pass over its text,
//! without a `serde_json` tree in between.
//!
//! [`super::evtx_json::build`] reads a parsed tree: every value of the record allocated as a
//! `serde_json::Value` in an ordered map, then moved into the event and the tree freed. Here the
//! same fields are pushed as the text is read, for the records the evtx crate renders (and
//! anything else of the same shape). The result must be the same event, so this reader builds
//! only the plain shape and gives up on anything else, and the caller then builds the record from
//! its tree as before ([`Built::Other`]):
//! - a key repeated in an object (a tree keeps the first key's place and the last value);
//! - `System`, `EventData` and `UserData` out of that order, or repeated (the tree builder takes
//!   them in that order whatever the text's);
//! - an object where a value is read (the tree builder writes its JSON text);
//! - text that is not valid JSON, or not an object with an `Event` object (the tree builder
//!   reports it).
//!
//! A test builds every record of the shared EVTX corpora both ways and compares the events.

use super::{KeySeed, evtx_json};
use crate::windows;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;
use shellward_event::{Event, FieldName, Value};
use std::borrow::Cow;
use std::fmt;

/// What [`build`] made of a record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Built {
    /// The event is built; the record's channel and event ID, where `<System>` has them as
    /// [`evtx_json::key`] reads them.
    Event(Option<(String, i64)>),
    /// Not the plain shape (see the module documentation): nothing is built that the caller
    /// keeps, and the record is built from its tree instead.
    Other,
}

/// Fills `event` (a new one) from the text of a record (`{"Event": {"System": .., "EventData":
/// ..}}`) as [`evtx_json::build`] fills it from the record's tree, or says it cannot: `event` then
/// holds part of the record, to be dropped.
pub(crate) fn build(text: &[u8], event: &mut Event) -> Built {
    let mut key = Key::default();
    let mut de = serde_json::Deserializer::from_slice(text);
    let found = Root { event: &mut *event, key: &mut key }.deserialize(&mut de);
    if !matches!(found, Ok(true)) || de.end().is_err() {
        return Built::Other;
    }
    windows::finish(event);
    Built::Event(key.channel.zip(key.event_id))
}

/// The record's channel and event ID, as read from `<System>`.
#[derive(Default)]
struct Key {
    channel: Option<String>,
    event_id: Option<i64>,
}

/// The error that stops the pass (its text is never shown: the tree builder takes over).
fn other<E: de::Error>() -> E {
    E::custom("not the plain shape")
}

/// The keys of one object read so far, to find one that repeats.
#[derive(Default)]
struct Keys<'de>(Vec<Cow<'de, str>>);

impl<'de> Keys<'de> {
    /// The next key of `map`, or an error if it repeats an earlier one.
    fn next<A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<Option<Cow<'de, str>>, A::Error> {
        let Some(key) = map.next_key_seed(KeySeed)? else { return Ok(None) };
        if self.0.contains(&key) {
            return Err(other());
        }
        self.0.push(key.clone());
        Ok(Some(key))
    }
}

/// A value as [`super::convert::value`] converts it; an object stops the pass.
struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or_else(|_| Value::Str(v.to_string()), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed)? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Value, A::Error> {
        Err(other())
    }
}

/// The top level: `{"Event": {...}}`. Gives whether an `Event` object was read.
struct Root<'a> {
    event: &'a mut Event,
    key: &'a mut Key,
}

impl<'de> DeserializeSeed<'de> for Root<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Root<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let (mut keys, mut found) = (Keys::default(), false);
        while let Some(key) = keys.next(&mut map)? {
            if key == "Event" {
                map.next_value_seed(Sections { event: &mut *self.event, key: &mut *self.key })?;
                found = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// The object under `Event`: its `System`, `EventData` and `UserData`, in that order.
struct Sections<'a> {
    event: &'a mut Event,
    key: &'a mut Key,
}

impl<'de> DeserializeSeed<'de> for Sections<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Sections<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an Event object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        const ORDER: [&str; 3] = ["System", "EventData", "UserData"];
        let (mut keys, mut next) = (Keys::default(), 0);
        while let Some(name) = keys.next(&mut map)? {
            let Some(at) = ORDER.iter().position(|section| *section == name) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if at < next {
                return Err(other());
            }
            next = at + 1;
            let event = &mut *self.event;
            match at {
                0 => map.next_value_seed(Section(System { event, key: &mut *self.key }))?,
                1 => map.next_value_seed(Section(EventData { event }))?,
                _ => {
                    if let Json::Object(user) = map.next_value::<Json>()? {
                        evtx_json::leaves(event, user);
                    }
                }
            }
        }
        Ok(())
    }
}

/// How a section reads its members.
trait Members {
    fn members<'de, A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error>;
}

/// A section, read if it is an object; any other value is passed over, as the tree builder passes
/// over a section that is not an object.
struct Section<T>(T);

impl<'de, T: Members> DeserializeSeed<'de> for Section<T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A visitor's methods for every JSON value but an object, each passing over it and giving
/// `$value`.
macro_rules! pass_over {
    ($value:expr) => {
        scalars!($value);
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($value)
        }
    };
}

impl<'de, T: Members> Visitor<'de> for Section<T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.members(map)
    }
    pass_over!(());
}

/// `<System>`: as [`evtx_json`]'s `system_fields`, and the record's channel and event ID.
struct System<'a> {
    event: &'a mut Event,
    key: &'a mut Key,
}

impl Members for System<'_> {
    fn members<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = Keys::default();
        while let Some(element) = keys.next(&mut map)? {
            let (value, attributes) = match map.next_value_seed(ElementSeed { attributes: true })? {
                Element::Object { attributes, text } => (text, attributes),
                Element::String(text) => {
                    if element == "Channel" {
                        self.key.channel = Some(text.clone());
                    }
                    (Some(Value::Str(text)), Vec::new())
                }
                Element::Bare(Value::Null) => (None, Vec::new()),
                Element::Bare(value) => (Some(value), Vec::new()),
            };
            // As `evtx_json::key` reads it: a number or a string, bare or as the element's text.
            if element == "EventID"
                && let Some(id @ (Value::Int(_) | Value::Str(_) | Value::Float(_))) = &value
            {
                self.key.event_id = id.as_i64();
            }
            for (attribute, value) in attributes {
                let name = windows::system_attribute_name(&element, &attribute);
                self.event.push(FieldName::Owned(name), value);
            }
            if let Some(value) = value {
                self.event.push(FieldName::Owned(element.into_owned()), value);
            }
        }
        Ok(())
    }
}

/// `<EventData>`: as [`evtx_json`]'s `event_data`.
struct EventData<'a> {
    event: &'a mut Event,
}

impl Members for EventData<'_> {
    fn members<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = Keys::default();
        while let Some(key) = keys.next(&mut map)? {
            if key == "#attributes" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let element = map.next_value_seed(ElementSeed { attributes: false })?;
            let value = match (&*key, element) {
                ("Data", Element::Object { text, .. }) => Value::List(match text {
                    Some(Value::List(items)) => items,
                    Some(Value::Null) | None => Vec::new(),
                    Some(single) => vec![single],
                }),
                (_, Element::Object { text, .. }) => text.unwrap_or(Value::Null),
                (_, Element::String(text)) => Value::Str(text),
                (_, Element::Bare(value)) => value,
            };
            self.event.push(FieldName::Owned(key.into_owned()), value);
        }
        Ok(())
    }
}

/// A value that is an element (`{"#attributes": {..}, "#text": ..}`) or a bare value.
enum Element {
    /// An object: its attributes (in order, when kept) and its text, if it has them.
    Object { attributes: Vec<(String, Value)>, text: Option<Value> },
    /// A string.
    String(String),
    /// Any other value.
    Bare(Value),
}

/// Reads an [`Element`]; `attributes` says whether its `#attributes` are kept.
struct ElementSeed {
    attributes: bool,
}

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Element;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Element, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed {
    type Value = Element;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an element")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
        let (mut keys, mut attributes, mut text) = (Keys::default(), Vec::new(), None);
        while let Some(key) = keys.next(&mut map)? {
            match &*key {
                "#attributes" if self.attributes => {
                    attributes = map.next_value_seed(AttributesSeed)?;
                }
                "#text" => text = Some(map.next_value_seed(ValueSeed)?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Element::Object { attributes, text })
    }
    fn visit_unit<E: de::Error>(self) -> Result<Element, E> {
        Ok(Element::Bare(Value::Null))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Element, E> {
        ValueSeed.visit_bool(v).map(Element::Bare)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Element, E> {
        ValueSeed.visit_i64(v).map(Element::Bare)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Element, E> {
        ValueSeed.visit_u64(v).map(Element::Bare)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Element, E> {
        ValueSeed.visit_f64(v).map(Element::Bare)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Element, E> {
        Ok(Element::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Element, E> {
        Ok(Element::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Element, A::Error> {
        ValueSeed.visit_seq(seq).map(Element::Bare)
    }
}

/// An element's `#attributes`: its members if it is an object (else none, as the tree builder
/// reads none).
struct AttributesSeed;

impl<'de> DeserializeSeed<'de> for AttributesSeed {
    type Value = Vec<(String, Value)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AttributesSeed {
    type Value = Vec<(String, Value)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("attributes")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut keys, mut attributes) = (Keys::default(), Vec::new());
        while let Some(name) = keys.next(&mut map)? {
            attributes.push((name.into_owned(), map.next_value_seed(ValueSeed)?));
        }
        Ok(attributes)
    }
    pass_over!(Vec::new());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;
    use shellward_event::{Format, Provenance};
    use std::sync::Arc;

    fn event() -> Event {
        Event::new(Provenance { path: Arc::from("t"), record: 1, format: Format::Evtx })
    }

    /// The event and key the tree builder makes of `text`, if it makes one.
    fn from_tree(text: &[u8]) -> Option<(Event, Option<(String, i64)>)> {
        let mut root: Map<String, Json> = serde_json::from_slice(text).ok()?;
        let Some(Json::Object(inner)) = root.remove("Event") else { return None };
        let key = evtx_json::key(&inner).map(|(channel, id)| (channel.to_owned(), id));
        let mut event = event();
        evtx_json::build(&mut event, inner);
        Some((event, key))
    }

    /// Builds `text` both ways: the same event and key, or [`Built::Other`]. Gives whether the
    /// one pass built it.
    fn same(text: &str) -> bool {
        let mut streamed = event();
        match build(text.as_bytes(), &mut streamed) {
            Built::Event(key) => {
                let (tree, tree_key) = from_tree(text.as_bytes()).expect("the tree builds it");
                assert_eq!(streamed, tree, "{text}");
                assert_eq!(key, tree_key, "{text}");
                true
            }
            Built::Other => false,
        }
    }

    #[test]
    fn plain_records_are_built_as_from_their_tree() {
        let plain = [
            r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"P","Guid":"{G}"}},"EventID":4688,"TimeCreated":{"#attributes":{"SystemTime":"2021-01-01T00:00:00Z"}},"Channel":"Security","Computer":"h","Security":null},"EventData":{"NewProcessName":"C:\\w.exe","ProcessId":"0x1","Big":18446744073709551615,"F":1.5,"B":true,"N":null,"L":[1,"a",[2]]}}}"##,
            r##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},"Channel":"System"},"EventData":{"Data":{"#text":["a","b"]},"#attributes":{"Name":"x"}}}}"##,
            r##"{"Event":{"System":{"EventID":{"#text":"12","#attributes":{"Qualifiers":0}},"Channel":"Application"},"EventData":{"Data":{"#text":"one"}}}}"##,
            r##"{"Event":{"System":{"EventID":1,"Channel":"A"},"EventData":{"Data":{"#attributes":{}}, "X":{"#text":"v","#attributes":{"a":1}}, "Y":{}}}}"##,
            r##"{"Event":{"System":{"EventID":1,"Channel":"A"},"EventData":{"Data":[1,2]},"UserData":{"EventXML":{"#attributes":{"xmlns":"u"},"Param1":"p","Deep":{"#text":"d"},"Mixed":{"#text":"t","Inner":"i"}}}}}"##,
            r##"{"Event":{"System":{"EventID":1,"Channel":"A"},"EventData":{"Data":"scalar"}}}"##,
            r##"{"Event":{"System":{"EventID":1,"Channel":"A"},"EventData":{"Data":null}}}"##,
            // Sections that are not objects are passed over; a channel that is not a string or an
            // event ID that is not a number gives no key; keys with escapes.
            r##"{"Event":{"System":[1,2],"EventData":"x"}}"##,
            r##"{"Event":{"System":{"EventID":true,"Channel":5},"EventData":{"K\u0041":"v\n"}}}"##,
            r##"{"Event":{"System":{"EventID":"not a number","Channel":{"#text":"Security"}}}}"##,
            r##"{"Other":1,"Event":{"Rendering":{"a":{"b":1}},"System":{"EventID":99999999999999999999,"Channel":"A"}}}"##,
            r##"{"Event":{}}"##,
        ];
        for text in plain {
            assert!(same(text), "not built in one pass: {text}");
        }
    }

    #[test]
    fn other_shapes_are_left_to_the_tree_builder() {
        let other = [
            // Repeated keys, at every level.
            r##"{"Event":{"System":{"EventID":1,"EventID":2}}}"##,
            r##"{"Event":{"System":{}},"Event":{"System":{}}}"##,
            r##"{"Event":{"System":{},"System":{}}}"##,
            r##"{"Event":{"EventData":{"A":1,"A":2}}}"##,
            r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"a","Name":"b"}}}}}"##,
            r##"{"Event":{"System":{"EventID":{"#text":1,"#text":2}}}}"##,
            // Sections out of order.
            r##"{"Event":{"EventData":{"A":1},"System":{"EventID":1}}}"##,
            r##"{"Event":{"UserData":{},"EventData":{}}}"##,
            // An object where a value is read.
            r##"{"Event":{"EventData":{"A":{"#text":{"x":1}}}}}"##,
            r##"{"Event":{"EventData":{"Data":[{"x":1}]}}}"##,
            // Not a record the tree builder builds.
            r##"{"Event":"x"}"##,
            r##"{"NoEvent":{}}"##,
            r##"[{"Event":{}}]"#,
            r##"{"Event":{}} trailing"##,
            r##"{"Event":{"System":{"EventID":1"##,
        ];
        for text in other {
            assert!(!same(text), "built in one pass: {text}");
        }
    }

    /// Every record of the shared EVTX corpora, rendered by the evtx crate, is built in one pass
    /// into the event (and key) its tree gives.
    #[test]
    fn every_corpus_record_is_built_as_from_its_tree() {
        let Some(corpora) = shellward_testdata::corpora() else { return };
        let (mut records, mut streamed) = (0, 0);
        for dir in [&corpora.mitre, &corpora.samples] {
            for path in shellward_testdata::files_with_extension(dir, "evtx") {
                let Ok(mut parser) = evtx::EvtxParser::from_path(&path) else { continue };
                for record in parser.records_json_bytes().flatten() {
                    records += 1;
                    let text = std::str::from_utf8(&record.data).expect("UTF-8");
                    if same(text) {
                        streamed += 1;
                    }
                }
            }
        }
        eprintln!("{streamed} of {records} records built in one pass");
        assert!(records > 10_000 && streamed == records, "{streamed} of {records}");
    }
}
