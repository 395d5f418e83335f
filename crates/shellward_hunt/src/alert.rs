//! Alerts: the output contract of ARCHITECTURE.md ("Alerts"), one JSON object per rule match.
//!
//! The entity sections (`process`, `parent`, `file`, `registry`, `network`) are read from the
//! event's taxonomy fields by a fixed table, so every source that names its fields after the Sigma
//! taxonomy fills them the same way; a section the event has nothing for is `null`. `event` holds
//! every normalized field of the event, not only the ones the rule tested: an analyst triaging an
//! alert wants the record, and the rule is one lookup away.

use serde_json::{Map, Value as Json, json};
use shellward_event::{Event, Value};

use shellward_engine::RuleInfo;

/// Alert sections and the taxonomy fields they are read from: (section, [(key, field)]).
pub const SECTIONS: &[(&str, &[(&str, &str)])] = &[
    (
        "process",
        &[
            ("image", "Image"),
            ("command_line", "CommandLine"),
            ("pid", "ProcessId"),
            ("guid", "ProcessGuid"),
            ("current_directory", "CurrentDirectory"),
            ("integrity_level", "IntegrityLevel"),
            ("original_file_name", "OriginalFileName"),
            ("hashes", "Hashes"),
        ],
    ),
    (
        "parent",
        &[
            ("image", "ParentImage"),
            ("command_line", "ParentCommandLine"),
            ("pid", "ParentProcessId"),
            ("guid", "ParentProcessGuid"),
            ("user", "ParentUser"),
        ],
    ),
    ("file", &[("path", "TargetFilename"), ("loaded_image", "ImageLoaded"), ("hashes", "Hashes")]),
    ("registry", &[("key", "TargetObject"), ("value", "Details"), ("event_type", "EventType")]),
    (
        "network",
        &[
            ("src_ip", "SourceIp"),
            ("src_port", "SourcePort"),
            ("dst_ip", "DestinationIp"),
            ("dst_port", "DestinationPort"),
            ("dst_host", "DestinationHostname"),
            ("protocol", "Protocol"),
            ("initiated", "Initiated"),
        ],
    ),
];

/// A stable id for the alert of `rule` on `event`: the same rule on the same record (file, record
/// number, event time) always gives the same id, in any run, so a consumer can drop repeats (a
/// watch restarted, a file read twice). 16 hex digits of FNV-1a (64 bits) over the rule's key and
/// the record's provenance and time, each followed by a NUL.
pub fn alert_id(event: &Event, rule: &RuleInfo) -> String {
    let time = event.time.map(rfc3339).unwrap_or_default();
    let record = event.provenance.record.to_string();
    stable_id([rule.key(), &event.provenance.path, &record, &time])
}

/// 16 hex digits of FNV-1a (64 bits) over the parts, each followed by a NUL (for alert ids; the
/// algorithm is fixed so ids stay the same from version to version).
pub fn stable_id<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in part.as_bytes().iter().chain(&[0u8]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// Builds the alert object for `event` matched by `rule`.
pub fn alert_json(event: &Event, rule: &RuleInfo) -> Json {
    let mut alert = Map::new();
    alert.insert("time".into(), event.time.map_or(Json::Null, |t| Json::String(rfc3339(t))));
    alert.insert(
        "host".into(),
        event.host.as_deref().map_or(Json::Null, |h| Json::String(h.to_string())),
    );
    alert.insert(
        "rule".into(),
        json!({"id": rule.id, "title": rule.title, "level": rule.level, "tags": rule.tags}),
    );
    alert.insert("detection_type".into(), json!(rule.detection_type));
    alert.insert("user".into(), field(event, "User"));
    for (section, keys) in SECTIONS {
        let mut object = Map::new();
        for (key, name) in *keys {
            // File hashes belong to the process for process events; show them once.
            if *section == "file" && *key == "hashes" && object.is_empty() {
                continue;
            }
            if let Some(value) = event.get(name).filter(|v| !v.is_null()) {
                object.insert((*key).into(), json!(value));
            }
        }
        if *section == "process"
            && let Some(ancestry) = ancestry(event)
        {
            object.insert("ancestry".into(), ancestry);
        }
        let section_value = if object.is_empty() { Json::Null } else { Json::Object(object) };
        alert.insert((*section).into(), section_value);
    }
    alert.insert(
        "source".into(),
        json!({
            "path": &*event.provenance.path,
            "record": event.provenance.record,
            "format": event.provenance.format.name(),
        }),
    );
    alert.insert("id".into(), Json::String(alert_id(event, rule)));
    let mut fields = Map::new();
    for (name, value) in event.fields() {
        fields.entry(name.to_string()).or_insert_with(|| json!(value));
    }
    alert.insert("event".into(), Json::Object(fields));
    Json::Object(alert)
}

/// The process's ancestors from lineage ([`crate::Lineage`]), parent first:
/// `[{"depth": 1, "image": ..., "command_line": ...}, ...]`.
fn ancestry(event: &Event) -> Option<Json> {
    let Some(Value::List(images)) = event.get("AncestorImage") else { return None };
    let lines = match event.get("AncestorCommandLine") {
        Some(Value::List(lines)) => lines.as_slice(),
        _ => &[],
    };
    let chain = images
        .iter()
        .enumerate()
        .map(|(depth, image)| {
            let mut ancestor = Map::new();
            ancestor.insert("depth".into(), json!(depth + 1));
            ancestor.insert("image".into(), json!(image));
            if let Some(line) = lines.get(depth).filter(|l| !l.is_null()) {
                ancestor.insert("command_line".into(), json!(line));
            }
            Json::Object(ancestor)
        })
        .collect();
    Some(Json::Array(chain))
}

fn field(event: &Event, name: &str) -> Json {
    event.get(name).filter(|v| !v.is_null()).map_or(Json::Null, |v| json!(v))
}

/// RFC 3339 in UTC with millisecond precision, e.g. `2021-03-14T01:40:19.123Z`.
pub fn rfc3339(time: shellward_event::Timestamp) -> String {
    format!("{time:.3}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_ids_are_fnv1a_over_nul_terminated_parts() {
        // Fixed values: the ids must not change from version to version.
        assert_eq!(stable_id([]), "cbf29ce484222325");
        assert_eq!(
            stable_id(["rule", "a.evtx", "7", "2026-11-02T09:15:41.532Z"]),
            "b3eb200ead458c18"
        );
        assert_ne!(stable_id(["ab", "c"]), stable_id(["a", "bc"]));
    }
}
