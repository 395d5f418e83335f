//! The `evtx` crate's JSON rendering of a Windows event (`evtx_dump -o json|jsonl`):
//! `{"Event": {"System": {...}, "EventData": {...}}}`, also produced internally for binary EVTX.

use super::convert;
use crate::windows;
use serde_json::{Map, Value as Json};
use shellward_event::{Event, FieldName, Value};

/// Fills `event` from the object under `"Event"`.
pub(crate) fn build(event: &mut Event, mut root: Map<String, Json>) {
    if let Some(Json::Object(system)) = root.remove("System") {
        system_fields(event, system);
    }
    if let Some(Json::Object(data)) = root.remove("EventData") {
        event_data(event, data);
    }
    if let Some(Json::Object(user)) = root.remove("UserData") {
        leaves(event, user);
    }
    windows::finish(event);
}

/// The channel and event ID under `<System>`, read without building the event (see
/// [`super::windows_key`]).
pub(crate) fn key(root: &Map<String, Json>) -> Option<(&str, i64)> {
    let system = root.get("System")?.as_object()?;
    let channel = system.get("Channel")?.as_str()?;
    Some((channel, super::event_id_of(system.get("EventID")?)?))
}

/// `<System>`: elements by name, attributes as `Element_Attribute`, with the conventional names
/// `EventID`, `Qualifiers`, `Provider_Name` and `TimeCreated` (for `TimeCreated_SystemTime`).
fn system_fields(event: &mut Event, system: Map<String, Json>) {
    for (element, json) in system {
        match json {
            Json::Object(mut obj) => {
                if let Some(Json::Object(attrs)) = obj.remove("#attributes") {
                    for (attr, v) in attrs {
                        let name = windows::system_attribute_name(&element, &attr);
                        event.push(FieldName::Owned(name), convert::value(v));
                    }
                }
                if let Some(text) = obj.remove("#text") {
                    event.push(FieldName::Owned(element), convert::value(text));
                }
            }
            Json::Null => {}
            other => event.push(FieldName::Owned(element), convert::value(other)),
        }
    }
}

/// `<EventData>`: named `<Data>` elements are keys; unnamed ones arrive as
/// `"Data": {"#text": [..]}` (or a single string) and become the positional list `Data`.
fn event_data(event: &mut Event, data: Map<String, Json>) {
    for (key, json) in data {
        match (key.as_str(), json) {
            ("#attributes", _) => {}
            ("Data", Json::Object(mut obj)) => {
                let list = match obj.remove("#text") {
                    Some(Json::Array(items)) => items.into_iter().map(convert::value).collect(),
                    Some(Json::Null) | None => Vec::new(),
                    Some(single) => vec![convert::value(single)],
                };
                event.push("Data", Value::List(list));
            }
            ("Data", Json::Array(items)) => {
                event.push("Data", Value::List(items.into_iter().map(convert::value).collect()));
            }
            (_, Json::Object(mut obj)) => {
                let v = obj.remove("#text").map_or(Value::Null, convert::value);
                event.push(FieldName::Owned(key), v);
            }
            (_, json) => event.push(FieldName::Owned(key), convert::value(json)),
        }
    }
}

/// `<UserData>`: its leaf elements, by their own names (`<EventXML><Param1>` becomes `Param1`).
pub(crate) fn leaves(event: &mut Event, map: Map<String, Json>) {
    for (key, json) in map {
        match json {
            Json::Object(mut inner) => {
                inner.remove("#attributes");
                match inner.remove("#text") {
                    Some(text) if inner.is_empty() => {
                        event.push(FieldName::Owned(key), convert::value(text))
                    }
                    _ => leaves(event, inner),
                }
            }
            other => event.push(FieldName::Owned(key), convert::value(other)),
        }
    }
}
