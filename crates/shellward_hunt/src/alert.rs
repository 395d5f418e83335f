//! Alerts: the output contract of ARCHITECTURE.md ("Alerts"), one JSON object per rule match.
//!
//! The entity sections (`process`, `parent`, `file`, `registry`, `network`) are read from the
//! event's taxonomy fields by a fixed table, so every source that names its fields after the Sigma
//! taxonomy fills them the same way; a section the event has nothing for is `null`. `event` holds
//! every normalized field of the event, not only the ones the rule tested: an analyst triaging an
//! alert wants the record, and the rule is one lookup away.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value as Json;
use shellward_event::{Event, Value};

use crate::tuning::Repeats;

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

/// Builds the alert object for `event` matched by `rule` ([`AlertView`] as a value).
pub fn alert_json(event: &Event, rule: &RuleInfo) -> Json {
    AlertView::new(event, rule).to_json()
}

/// The alert object of `event` matched by `rule`, borrowed from them: serializing it writes the
/// object without building it first. (Building it copied every field of the event into a
/// `serde_json` tree; writing the 1,709 alerts of every SigmaHQ Windows rule over evtx-to-mitre
/// that way was a twentieth of the hunt.)
///
/// Keys come in the contract's order: `time`, `host`, `rule`, `detection_type`, `user`, the
/// entity sections, `source`, `id`, `event`, then `correlation` and `suppressed` where set.
pub struct AlertView<'a> {
    event: &'a Event,
    rule: &'a RuleInfo,
    /// A correlation's `{"type", "group", "events"}`, and its id in place of the alert's.
    correlation: Option<(&'a Json, String)>,
    /// The repeats a tuning file's `[[suppress]]` folded into this alert.
    suppressed: Option<&'a Repeats>,
}

impl<'a> AlertView<'a> {
    /// The alert of `event` matched by `rule`.
    pub fn new(event: &'a Event, rule: &'a RuleInfo) -> Self {
        AlertView { event, rule, correlation: None, suppressed: None }
    }

    /// A correlation alert: `correlation` under the key `correlation`, `id` as its id.
    pub fn correlated(self, correlation: &'a Json, id: String) -> Self {
        AlertView { correlation: Some((correlation, id)), ..self }
    }

    /// With the repeats folded into it, under the key `suppressed`.
    pub fn suppressed(self, repeats: Option<&'a Repeats>) -> Self {
        AlertView { suppressed: repeats, ..self }
    }

    /// The object as a JSON value, its keys in the same order (`serde_json`'s `preserve_order`,
    /// which the `evtx` crate turns on, keeps them in insertion order; the test of the view
    /// against a value built key by key fails if that changes).
    pub fn to_json(&self) -> Json {
        // Only a map with keys that are not strings fails to become a value; these are strings.
        serde_json::to_value(self).unwrap_or(Json::Null)
    }
}

impl Serialize for AlertView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (event, rule) = (self.event, self.rule);
        let mut alert = serializer.serialize_map(None)?;
        alert.serialize_entry("time", &event.time.map(rfc3339))?;
        alert.serialize_entry("host", &event.host)?;
        alert.serialize_entry("rule", &RuleView(rule))?;
        alert.serialize_entry("detection_type", &rule.detection_type)?;
        alert.serialize_entry("user", &event.get("User").filter(|v| !v.is_null()))?;
        for section in SECTIONS {
            alert.serialize_entry(section.0, &SectionView::new(event, section))?;
        }
        alert.serialize_entry("source", &SourceView(event))?;
        match &self.correlation {
            Some((_, id)) => alert.serialize_entry("id", id)?,
            None => alert.serialize_entry("id", &alert_id(event, rule))?,
        }
        alert.serialize_entry("event", &FieldsView(event))?;
        if let Some((correlation, _)) = &self.correlation {
            alert.serialize_entry("correlation", correlation)?;
        }
        if let Some(repeats) = self.suppressed {
            alert.serialize_entry("suppressed", &RepeatsView(repeats))?;
        }
        alert.end()
    }
}

/// `{"id", "title", "level", "tags"}`.
struct RuleView<'a>(&'a RuleInfo);

impl Serialize for RuleView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("id", &self.0.id)?;
        map.serialize_entry("title", &self.0.title)?;
        map.serialize_entry("level", &self.0.level)?;
        map.serialize_entry("tags", &self.0.tags)?;
        map.end()
    }
}

/// `{"path", "record", "format"}` of the event's provenance.
struct SourceView<'a>(&'a Event);

impl Serialize for SourceView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let provenance = &self.0.provenance;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("path", &*provenance.path)?;
        map.serialize_entry("record", &provenance.record)?;
        map.serialize_entry("format", provenance.format.name())?;
        map.end()
    }
}

/// An entity section: the taxonomy fields the event has (not null), with the process's ancestry;
/// `null` if there are none.
struct SectionView<'a> {
    entries: Vec<(&'static str, &'a Value)>,
    ancestry: Option<AncestryView<'a>>,
}

impl<'a> SectionView<'a> {
    fn new(event: &'a Event, (section, keys): &(&str, &[(&'static str, &str)])) -> Self {
        let mut entries = Vec::new();
        for (key, name) in *keys {
            // File hashes belong to the process for process events; show them once.
            if *section == "file" && *key == "hashes" && entries.is_empty() {
                continue;
            }
            if let Some(value) = event.get(name).filter(|v| !v.is_null()) {
                entries.push((*key, value));
            }
        }
        let ancestry = (*section == "process").then(|| AncestryView::of(event)).flatten();
        SectionView { entries, ancestry }
    }
}

impl Serialize for SectionView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.entries.is_empty() && self.ancestry.is_none() {
            return serializer.serialize_unit();
        }
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in &self.entries {
            map.serialize_entry(key, value)?;
        }
        if let Some(ancestry) = &self.ancestry {
            map.serialize_entry("ancestry", ancestry)?;
        }
        map.end()
    }
}

/// The process's ancestors from lineage ([`crate::Lineage`]), parent first:
/// `[{"depth": 1, "image": ..., "command_line": ...}, ...]`.
struct AncestryView<'a> {
    images: &'a [Value],
    lines: &'a [Value],
}

impl<'a> AncestryView<'a> {
    fn of(event: &'a Event) -> Option<Self> {
        let Some(Value::List(images)) = event.get("AncestorImage") else { return None };
        let lines = match event.get("AncestorCommandLine") {
            Some(Value::List(lines)) => lines.as_slice(),
            _ => &[],
        };
        Some(AncestryView { images, lines })
    }
}

impl Serialize for AncestryView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut chain = serializer.serialize_seq(Some(self.images.len()))?;
        for (depth, image) in self.images.iter().enumerate() {
            let line = self.lines.get(depth).filter(|l| !l.is_null());
            chain.serialize_element(&AncestorView { depth: depth + 1, image, line })?;
        }
        chain.end()
    }
}

/// One ancestor: `{"depth", "image", "command_line"}` (without a command line it has none).
struct AncestorView<'a> {
    depth: usize,
    image: &'a Value,
    line: Option<&'a Value>,
}

impl Serialize for AncestorView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("depth", &self.depth)?;
        map.serialize_entry("image", self.image)?;
        if let Some(line) = self.line {
            map.serialize_entry("command_line", line)?;
        }
        map.end()
    }
}

/// Every field of the event, in its order; a name that comes twice keeps its first value.
struct FieldsView<'a>(&'a Event);

impl Serialize for FieldsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields: Vec<(&str, &Value)> = self.0.fields().collect();
        let mut map = serializer.serialize_map(None)?;
        for (i, (name, value)) in fields.iter().enumerate() {
            if !fields[..i].iter().any(|(earlier, _)| earlier == name) {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

/// `{"count", "first", "last"}` of a [`Repeats`].
struct RepeatsView<'a>(&'a Repeats);

impl Serialize for RepeatsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("count", &self.0.count)?;
        map.serialize_entry("first", &self.0.first.map(rfc3339))?;
        map.serialize_entry("last", &self.0.last.map(rfc3339))?;
        map.end()
    }
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
