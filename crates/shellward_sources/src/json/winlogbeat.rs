//! Winlogbeat / Elastic Agent: raw `winlog.*` fields, with or without the ECS ingest pipeline.

use super::convert;
use crate::windows;
use serde_json::{Map, Value as Json};
use shellward_event::{Event, FieldName};

/// `winlog.X` to the system field names of [`crate::windows`].
const SYSTEM: [(&str, &str); 11] = [
    ("channel", "Channel"),
    ("event_id", "EventID"),
    ("provider_name", "Provider_Name"),
    ("provider_guid", "Provider_Guid"),
    ("computer_name", "Computer"),
    ("record_id", "EventRecordID"),
    ("time_created", "TimeCreated"),
    ("version", "Version"),
    ("level", "Level"),
    ("task", "Task"),
    ("opcode", "Opcode"),
];

/// Fills `event` from a Winlogbeat document.
pub(crate) fn build(event: &mut Event, mut doc: Map<String, Json>) {
    let mut winlog = match doc.remove("winlog") {
        Some(Json::Object(w)) => w,
        _ => Map::new(),
    };
    for (from, to) in SYSTEM {
        if let Some(v) = winlog.remove(from) {
            event.push(to, convert::value(v));
        }
    }
    for key in ["event_data", "user_data"] {
        if let Some(Json::Object(data)) = winlog.remove(key) {
            for (name, v) in data {
                event.push(FieldName::Owned(name), convert::value(v));
            }
        }
    }
    convert::flatten_into(event, "winlog", winlog);
    convert::flatten_into(event, "", doc);
    windows::ecs::alias(event);
    windows::finish(event);
    if event.time.is_none() {
        event.time = event.get_str("@timestamp").and_then(windows::parse_time);
    }
    if event.host.is_none() {
        event.host = event.get_str("host.name").map(str::to_owned);
    }
}
