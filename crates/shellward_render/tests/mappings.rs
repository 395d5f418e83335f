//! The product field mappings are one table read by decoders and renderers: every row of every
//! entry both decodes (a record holding the row's source fields gets the taxonomy field) and
//! renders (a rule on that field under the entry's category gives a KQL or LogScale query).

#![allow(clippy::unwrap_used)]

use shellward_engine::RuleSet;
use shellward_event::Event;
use shellward_sources::mappings::{Entry, FieldSpec, Tables, TemplatePart};
use shellward_sources::{Problem, ReadOptions, Sink, read_bytes};
use std::ops::ControlFlow;

/// Sample values for the source fields a spec reads, chosen so the spec gives a value.
fn inputs(spec: &FieldSpec, out: &mut serde_json::Map<String, serde_json::Value>, fixed: &[&str]) {
    let mut put = |name: &str, value: &str| {
        if !fixed.contains(&name) {
            out.insert(name.to_owned(), value.into());
        }
    };
    match spec {
        FieldSpec::Copy(c) => put(c, "value"),
        FieldSpec::Int(c) => put(c, "42"),
        FieldSpec::Template(parts) => {
            for part in parts {
                if let TemplatePart::Field(f) = part {
                    put(f, "part");
                }
            }
        }
        FieldSpec::Path { folder, name } => {
            put(folder, r"C:\Windows\System32");
            put(name, "cmd.exe");
        }
        FieldSpec::Registry { key, value } => {
            put(key, r"HKEY_LOCAL_MACHINE\SOFTWARE\x");
            put(value, "v");
        }
        FieldSpec::NtPath(c) => put(c, r"\Device\HarddiskVolume3\Windows\x.exe"),
        FieldSpec::Map { from, values } => put(from, &values[0].0),
        FieldSpec::First(names) => put(&names[0], "10.0.0.1"),
        FieldSpec::Data(_) | FieldSpec::Integrity(_) => panic!("not an EDR spec: {spec:?}"),
    }
}

#[derive(Default)]
struct Events(Vec<Event>, Vec<String>);

impl Sink for Events {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        self.0.push(event);
        ControlFlow::Continue(())
    }
    fn problem(&mut self, problem: Problem) {
        self.1.push(problem.to_string());
    }
}

fn decode(json: &serde_json::Value) -> Event {
    let mut sink = Events::default();
    let text = json.to_string();
    let _ = read_bytes("row.json", text.as_bytes(), &ReadOptions::with_threads(1), &mut sink);
    assert!(sink.1.is_empty(), "{:?}", sink.1);
    assert_eq!(sink.0.len(), 1, "{text}");
    sink.0.remove(0)
}

fn renders(
    target: shellward_render::Target,
    category: &str,
    field: &str,
) -> Result<String, String> {
    let rule = format!(
        "title: t\nlogsource:\n  product: windows\n  category: {category}\ndetection:\n  sel:\n    {field}: 'x'\n  condition: sel\n"
    );
    let loaded = shellward_sigma::load_text(shellward_sigma::Origin::Builtin("t.yml".into()), rule);
    let set = RuleSet::compile(&loaded).0;
    shellward_render::render(&set.rules()[0], target, "").map_err(|e| e.to_string())
}

fn check(
    entry: &Entry,
    record: serde_json::Value,
    fixed: &[&str],
    target: shellward_render::Target,
) {
    let Some(category) = entry.category else { return };
    let mut record = record;
    let fields =
        if let Some(properties) = record.get_mut("properties") { properties } else { &mut record };
    let object = fields.as_object_mut().unwrap();
    for (_, spec) in &entry.fields {
        inputs(spec, object, fixed);
    }
    let event = decode(&record);
    assert_eq!(event.logsource.category, Some(category), "{record}");
    for (field, _) in &entry.fields {
        let value = event.get(field).map(|v| v.as_text().into_owned()).unwrap_or_default();
        assert!(!value.is_empty(), "{field} not decoded from {record}");
        let query = renders(target, category, field);
        assert!(query.is_ok(), "{field} of {category} does not render: {query:?}");
    }
}

#[test]
fn every_defender_row_decodes_and_renders() {
    let tables = Tables::get();
    for entry in &tables.defender {
        let Some(action) = entry.actions.first() else { continue };
        let record = serde_json::json!({
            "category": format!("AdvancedHunting-{}", entry.names[0]),
            "time": "2026-11-02T09:15:41Z",
            "properties": {"Timestamp": "2026-11-02T09:15:41Z", "DeviceName": "web01", "ActionType": action},
        });
        check(entry, record, &["ActionType"], shellward_render::Target::Kql);
    }
}

#[test]
fn every_falcon_row_decodes_and_renders() {
    let tables = Tables::get();
    for entry in &tables.falcon {
        let name = entry.names[0].replace('*', "Test");
        let record = serde_json::json!({
            "event_simpleName": name, "event_platform": "Win", "aid": "a1",
            "ContextTimeStamp": "1700000000.5",
        });
        check(entry, record, &["event_simpleName"], shellward_render::Target::Cql);
    }
}
