//! Flattened Windows events: one JSON object per event with `Channel`, `EventID` and the event data
//! at the top level (OTRF Security-Datasets, NXLog, many SIEM exports).

use super::convert;
use super::doc::Doc;
use crate::windows;
use shellward_event::{Event, Value};

/// Fills `event` from a flat document.
pub(crate) fn build(event: &mut Event, doc: Doc) {
    convert::flatten_into(event, "", doc);
    // The conventional system names, where the export used others.
    for (name, alternatives) in [
        ("Computer", ["Hostname", "host", "ComputerName"]),
        ("Provider_Name", ["SourceName", "ProviderName", "Provider"]),
    ] {
        if event.get(name).is_none()
            && let Some(v) = alternatives.iter().find_map(|a| event.get(a)).cloned()
        {
            event.insert(name, v);
        }
    }
    windows::finish(event);
    if event.time.is_none() {
        event.time = event.get_str("@timestamp").and_then(windows::parse_time);
    }
    if let Some(Value::Str(id)) = event.get("EventID")
        && let Ok(n) = id.trim().parse::<i64>()
    {
        event.insert("EventID", Value::Int(n));
    }
}
