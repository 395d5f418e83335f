//! Alerts as OCSF Detection Findings (class 2004, schema 1.2.0), for Timesketch, security data
//! lakes and SIEM pipelines that read OCSF.
//!
//! The mapping: the rule is the finding's analytic (`type_id` 1, Rule) and its ATT&CK tags its
//! `attacks` (a sub-technique with its technique); the level is `severity_id` (informational 1 ...
//! critical 5); the host is `device` (the `host` profile, declared in `metadata.profiles`); the
//! acting process (image, command line, id, lineage, parent), the file and the destination are
//! one evidence artifact. What OCSF has no attribute for stays in `unmapped`: every field of the
//! event, where it came from, and for a correlation its members. The tests validate the output
//! against the OCSF project's compiled schema (`scripts/ocsf-validate`).

use crate::alert::{alert_id, rfc3339};
use serde_json::{Map, Value as Json, json};
use shellward_engine::{Level, RuleInfo};
use shellward_event::{Event, Value};

/// The OCSF schema version written.
pub const OCSF_VERSION: &str = "1.2.0";

/// The Detection Finding of `rule` on `event`; `message` says what happened (the table's
/// summary), `correlation` is a correlation alert's section of the contract.
pub fn ocsf_finding(
    event: &Event,
    rule: &RuleInfo,
    message: &str,
    correlation: Option<&Json>,
) -> Json {
    let id = alert_id(event, rule);
    let time = event.time.map(|t| t.as_millisecond());
    let mut finding_info = Map::new();
    finding_info.insert("uid".into(), json!(id));
    finding_info.insert("title".into(), json!(rule.title));
    if let Some(description) = &rule.description {
        finding_info.insert("desc".into(), json!(description));
    }
    if let Some(kind) = &rule.detection_type {
        finding_info.insert("types".into(), json!([kind]));
    }
    let mut analytic = json!({"name": rule.title, "type_id": 1, "type": "Rule"});
    if let Some(uid) = &rule.id {
        analytic["uid"] = json!(uid);
    }
    finding_info.insert("analytic".into(), analytic);
    let attacks = attacks(&rule.tags);
    if !attacks.is_empty() {
        finding_info.insert("attacks".into(), Json::Array(attacks));
    }
    // A correlation spans its member alerts.
    let members: Vec<i64> = correlation
        .and_then(|c| c["events"].as_array())
        .map(|events| events.iter().filter_map(|e| millis(&e["time"])).collect())
        .unwrap_or_default();
    let first = members.iter().copied().min().or(time);
    let last = members.iter().copied().max().or(time);
    if let Some(first) = first {
        finding_info.insert("first_seen_time".into(), json!(first));
    }
    if let Some(last) = last {
        finding_info.insert("last_seen_time".into(), json!(last));
    }
    finding_info.insert("data_sources".into(), json!([log_name(event)]));

    let (severity_id, severity) = severity(rule.level);
    let mut finding = Map::new();
    finding.insert("activity_id".into(), json!(1));
    finding.insert("activity_name".into(), json!("Create"));
    finding.insert("category_uid".into(), json!(2));
    finding.insert("category_name".into(), json!("Findings"));
    finding.insert("class_uid".into(), json!(2004));
    finding.insert("class_name".into(), json!("Detection Finding"));
    finding.insert("type_uid".into(), json!(200_401));
    finding.insert("type_name".into(), json!("Detection Finding: Create"));
    finding.insert("severity_id".into(), json!(severity_id));
    finding.insert("severity".into(), json!(severity));
    finding.insert("status_id".into(), json!(1));
    finding.insert("status".into(), json!("New"));
    // OCSF requires a time: a record without one is reported at the time of the hunt.
    let now = shellward_event::Timestamp::now().as_millisecond();
    finding.insert("time".into(), json!(time.unwrap_or(now)));
    finding.insert("message".into(), json!(format!("{}: {message}", rule.title)));
    finding.insert("finding_info".into(), Json::Object(finding_info));
    let mut metadata = json!({
        "version": OCSF_VERSION,
        "product": {"name": "shellward", "vendor_name": "shellward", "version": env!("CARGO_PKG_VERSION")},
        "uid": id,
        "log_name": log_name(event),
        "profiles": ["host"],
    });
    if let Some(t) = event.time {
        metadata["original_time"] = json!(rfc3339(t));
    }
    if let Some(code) = text(event, "EventID") {
        metadata["event_code"] = json!(code);
    }
    finding.insert("metadata".into(), metadata);
    if let Some(host) = &event.host {
        finding.insert("device".into(), json!({"hostname": host, "name": host, "type_id": 0}));
    }
    if let Some(evidence) = evidence(event) {
        finding.insert("evidences".into(), json!([evidence]));
    }
    let mut fields = Map::new();
    for (name, value) in event.fields() {
        fields.entry(name.to_string()).or_insert_with(|| json!(value));
    }
    let mut unmapped = json!({
        "event": fields,
        "source": {
            "path": &*event.provenance.path,
            "record": event.provenance.record,
            "format": event.provenance.format.name(),
        },
        "rule": {"level": rule.level, "tags": rule.tags, "origin": rule.origin},
    });
    if let Some(correlation) = correlation {
        unmapped["correlation"] = correlation.clone();
    }
    finding.insert("unmapped".into(), unmapped);
    Json::Object(finding)
}

/// OCSF's severity id and name of a level.
fn severity(level: Level) -> (u8, &'static str) {
    match level {
        Level::Informational => (1, "Informational"),
        Level::Low => (2, "Low"),
        Level::Medium => (3, "Medium"),
        Level::High => (4, "High"),
        Level::Critical => (5, "Critical"),
    }
}

/// ATT&CK tags as OCSF attack objects: one per technique (a sub-technique with its technique),
/// each with the rule's first tactic; a rule with tactics only gets one object per tactic.
fn attacks(tags: &[String]) -> Vec<Json> {
    let (techniques, tactics) = crate::attack_tags(tags);
    let tactics: Vec<String> = tactics.iter().map(|t| title_case(&t.replace('-', " "))).collect();
    let tactic = tactics.first().map(|name| json!({"name": name}));
    if techniques.is_empty() {
        return tactics.iter().map(|name| json!({"tactic": {"name": name}})).collect();
    }
    techniques
        .iter()
        .map(|id| {
            let mut attack = match id.split_once('.') {
                Some((technique, _)) => {
                    json!({"technique": {"uid": technique}, "sub_technique": {"uid": id}})
                }
                None => json!({"technique": {"uid": id}}),
            };
            if let Some(tactic) = &tactic {
                attack["tactic"] = tactic.clone();
            }
            attack
        })
        .collect()
}

fn title_case(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The acting process, the file and the destination of the event, as one evidence artifact.
fn evidence(event: &Event) -> Option<Json> {
    let mut evidence = Map::new();
    if let Some(mut process) = process_of(event, "Image", "CommandLine", "ProcessId", "ProcessGuid")
    {
        if let Some(Value::List(ancestors)) = event.get("AncestorImage") {
            process["lineage"] = json!(ancestors.iter().map(|a| a.as_text()).collect::<Vec<_>>());
        }
        if let Some(parent) = process_of(
            event,
            "ParentImage",
            "ParentCommandLine",
            "ParentProcessId",
            "ParentProcessGuid",
        ) {
            process["parent_process"] = parent;
        }
        evidence.insert("process".into(), process);
    }
    if let Some(path) = text(event, "TargetFilename") {
        evidence.insert("file".into(), file(&path));
    }
    if let Some(ip) = text(event, "DestinationIp") {
        let mut endpoint = json!({"ip": ip, "name": ip});
        if let Some(port) = text(event, "DestinationPort").and_then(|p| p.parse::<u16>().ok()) {
            endpoint["port"] = json!(port);
        }
        evidence.insert("dst_endpoint".into(), endpoint);
    }
    (!evidence.is_empty()).then_some(Json::Object(evidence))
}

/// A process object from the event's fields for its image, command line, id and GUID.
fn process_of(event: &Event, image: &str, line: &str, pid: &str, guid: &str) -> Option<Json> {
    let image = text(event, image);
    let line = text(event, line);
    if image.is_none() && line.is_none() {
        return None;
    }
    let mut process = Map::new();
    if let Some(image) = &image {
        process.insert("name".into(), json!(base(image)));
        process.insert("file".into(), file(image));
    }
    if let Some(line) = line {
        process.insert("cmd_line".into(), json!(line));
        if image.is_none() {
            process.insert("name".into(), json!(line.split_whitespace().next().unwrap_or("")));
        }
    }
    if let Some(pid) = text(event, pid).and_then(|p| p.trim().parse::<i32>().ok()) {
        process.insert("pid".into(), json!(pid));
    }
    if let Some(guid) = text(event, guid) {
        process.insert("uid".into(), json!(guid));
    }
    Some(Json::Object(process))
}

/// A file object for a path (`type_id` 1, a regular file).
fn file(path: &str) -> Json {
    json!({"name": base(path), "path": path, "type_id": 1})
}

fn base(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

fn text(event: &Event, name: &str) -> Option<String> {
    event.get(name).filter(|v| !v.is_null()).map(|v| v.as_text().into_owned())
}

/// The log the event came from: its Windows channel, else its input format.
fn log_name(event: &Event) -> String {
    text(event, "Channel").unwrap_or_else(|| event.provenance.format.name().to_owned())
}

/// Milliseconds since the epoch of an RFC 3339 string.
fn millis(value: &Json) -> Option<i64> {
    value.as_str()?.parse::<shellward_event::Timestamp>().ok().map(|t| t.as_millisecond())
}
