//! Helpers shared by the engine's integration tests.

#![allow(dead_code, clippy::unwrap_used)]

use shellward_event::{Event, Format, LogSource, Provenance, Value};
use shellward_sources::{Collected, ReadOptions};
use std::path::{Path, PathBuf};

/// Reads every event under the paths (files or directories).
pub(crate) fn read_events(paths: &[PathBuf]) -> Collected {
    shellward_sources::collect(paths, &ReadOptions::with_threads(1))
}

/// Reads one file.
pub(crate) fn read_file(path: &Path) -> Collected {
    read_events(&[path.to_path_buf()])
}

/// Compiles rules from YAML text, panicking on any diagnostic.
pub(crate) fn ruleset(yaml: &str) -> shellward_engine::RuleSet {
    let loaded = shellward_sigma::load_text(
        shellward_sigma::Origin::Builtin("test.yml".into()),
        yaml.to_string(),
    );
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let (set, diagnostics) = shellward_engine::RuleSet::compile(&loaded);
    assert!(
        diagnostics.is_empty(),
        "{}",
        diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    );
    set
}

/// An event of `windows/process_creation` (from Sysmon) with the given fields.
pub(crate) fn process_event(fields: &[(&str, Value)]) -> Event {
    let mut event =
        Event::new(Provenance { path: "t.jsonl".into(), record: 1, format: Format::Json });
    event.logsource = LogSource {
        product: Some("windows"),
        category: Some("process_creation"),
        service: Some("sysmon"),
    };
    for (name, value) in fields {
        event.push(name.to_string(), value.clone());
    }
    event
}
