//! The alert object written straight from the event ([`AlertView`]) is the object a simple
//! builder makes of the same event as a `serde_json` value, key for key and byte for byte: with
//! empty and null sections, a field named twice, numbers and lists, an ancestry with and without
//! command lines, file hashes with and without a file, a correlation and folded repeats.

#![allow(clippy::unwrap_used)]

use serde_json::{Map, Value as Json, json};
use shellward_engine::{RuleInfo, RuleSet};
use shellward_event::{Event, Format, Provenance, Timestamp, Value};
use shellward_hunt::tuning::Repeats;
use shellward_hunt::{AlertView, SECTIONS, alert_id, rfc3339};
use shellward_sigma::{Origin, load_text};

fn rules() -> RuleSet {
    let text = "title: Shell\nid: 9af70ddd-ef18-5b75-9fce-ef3dfe889bfe\nlogsource:\n    product: test\ndetection:\n    sel:\n        Kind: 'shell'\n    condition: sel\nlevel: critical\ntags:\n    - attack.t1505.003\ndetection_type: WebShell_ChildProcess\n---\ntitle: \"Recon \\\"quoted\\\"\"\nlogsource:\n    product: test\ndetection:\n    sel:\n        Kind: 'recon'\n    condition: sel\n";
    let (set, diagnostics) = RuleSet::compile(&load_text(Origin::Builtin("t".into()), text.into()));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    set
}

/// The alert object as the contract describes it, built as a value one key at a time.
fn oracle(event: &Event, rule: &RuleInfo) -> Json {
    let text = |v: &Value| serde_json::to_value(v).unwrap();
    let mut alert = Map::new();
    alert.insert("time".into(), json!(event.time.map(rfc3339)));
    alert.insert("host".into(), json!(event.host));
    alert.insert(
        "rule".into(),
        json!({"id": rule.id, "title": rule.title, "level": rule.level, "tags": rule.tags}),
    );
    alert.insert("detection_type".into(), json!(rule.detection_type));
    alert
        .insert("user".into(), event.get("User").filter(|v| !v.is_null()).map_or(Json::Null, text));
    for (section, keys) in SECTIONS {
        let mut object = Map::new();
        for (key, name) in *keys {
            if *section == "file" && *key == "hashes" && object.is_empty() {
                continue;
            }
            if let Some(value) = event.get(name).filter(|v| !v.is_null()) {
                object.insert((*key).into(), text(value));
            }
        }
        if *section == "process"
            && let Some(Value::List(images)) = event.get("AncestorImage")
        {
            let lines = match event.get("AncestorCommandLine") {
                Some(Value::List(lines)) => lines.clone(),
                _ => Vec::new(),
            };
            let chain: Vec<Json> = images
                .iter()
                .enumerate()
                .map(|(depth, image)| {
                    let mut ancestor = Map::new();
                    ancestor.insert("depth".into(), json!(depth + 1));
                    ancestor.insert("image".into(), text(image));
                    if let Some(line) = lines.get(depth).filter(|l| !l.is_null()) {
                        ancestor.insert("command_line".into(), text(line));
                    }
                    Json::Object(ancestor)
                })
                .collect();
            object.insert("ancestry".into(), Json::Array(chain));
        }
        let value = if object.is_empty() { Json::Null } else { Json::Object(object) };
        alert.insert((*section).into(), value);
    }
    let source = &event.provenance;
    alert.insert(
        "source".into(),
        json!({"path": &*source.path, "record": source.record, "format": source.format.name()}),
    );
    alert.insert("id".into(), json!(alert_id(event, rule)));
    let mut fields = Map::new();
    for (name, value) in event.fields() {
        fields.entry(name.to_string()).or_insert_with(|| text(value));
    }
    alert.insert("event".into(), Json::Object(fields));
    Json::Object(alert)
}

fn events() -> Vec<Event> {
    let mut events = Vec::new();
    let provenance =
        |record| Provenance { path: "C:\\logs\\a \"b\".evtx".into(), record, format: Format::Evtx };
    // Nothing but provenance: every section null, no time, no host.
    events.push(Event::new(provenance(1)));
    let mut full = Event::new(provenance(2));
    full.time = Some(Timestamp::from_second(1_790_000_000).unwrap());
    full.host = Some("WEB01".into());
    for (name, value) in [
        ("Image", Value::Str("C:\\w3wp.exe".into())),
        ("CommandLine", Value::Str("cmd /c \"whoami\"\n\u{1}é".into())),
        ("ProcessId", Value::Int(4242)),
        ("Hashes", Value::Str("SHA256=AB".into())),
        ("User", Value::Str("IIS APPPOOL\\x".into())),
        ("ParentImage", Value::Null),
        ("Ratio", Value::Float(0.1)),
        ("Nan", Value::Float(f64::NAN)),
        ("Flag", Value::Bool(true)),
        ("Data", Value::List(vec![Value::Str("a".into()), Value::Int(1), Value::Null])),
        ("AncestorImage", Value::List(vec!["p.exe".into(), "gp.exe".into(), "ggp.exe".into()])),
        ("AncestorCommandLine", Value::List(vec!["p -x".into(), Value::Null])),
        ("DestinationPort", Value::Int(4444)),
    ] {
        full.insert(name.to_string(), value);
    }
    events.push(full.clone());
    // A file event: its hashes are the file's.
    let mut file = Event::new(provenance(3));
    file.insert("TargetFilename".to_string(), Value::Str("C:\\inetpub\\a.aspx".into()));
    file.insert("Hashes".to_string(), Value::Str("MD5=00".into()));
    events.push(file);
    // Hashes without a file or a process; an ancestry that is not a list.
    let mut odd = Event::new(provenance(4));
    odd.insert("Hashes".to_string(), Value::Str("MD5=11".into()));
    odd.insert("AncestorImage".to_string(), Value::Str("one".into()));
    events.push(odd);
    events
}

#[test]
fn the_view_writes_what_the_value_would() {
    let set = rules();
    let mut events = events();
    // A field named twice keeps its first value, where it first came (only a decoder's bug makes
    // one, but the contract must hold).
    let mut twice = events[1].clone();
    twice.rename_fields(|name| (name == "Flag").then(|| "Image".to_string()));
    events.push(twice);
    for event in &events {
        for rule in set.rules() {
            let view = AlertView::new(event, &rule.info);
            let written = serde_json::to_string(&view).unwrap();
            assert_eq!(written, oracle(event, &rule.info).to_string());
            assert_eq!(written, view.to_json().to_string());
        }
    }
}

#[test]
fn a_correlation_and_folded_repeats_come_last_and_the_correlation_id_replaces_the_alert_id() {
    let set = rules();
    let events = events();
    let rule = &set.rules()[0].info;
    let correlation = json!({"type": "temporal", "group": {"Computer": "WEB01"}, "events": []});
    let repeats = Repeats {
        count: 3,
        first: events[1].time,
        last: Some(Timestamp::from_second(1_790_000_060).unwrap()),
    };
    let view = AlertView::new(&events[1], rule)
        .correlated(&correlation, "c0ffee".into())
        .suppressed(Some(&repeats));
    let mut expected = oracle(&events[1], rule);
    let object = expected.as_object_mut().unwrap();
    object.insert("id".into(), json!("c0ffee"));
    object.insert("correlation".into(), correlation.clone());
    object.insert(
        "suppressed".into(),
        json!({"count": 3, "first": "2026-09-21T14:13:20.000Z", "last": "2026-09-21T14:14:20.000Z"}),
    );
    assert_eq!(serde_json::to_string(&view).unwrap(), expected.to_string());
    let keys: Vec<&str> = expected.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys[keys.len() - 4..], ["id", "event", "correlation", "suppressed"]);
}
