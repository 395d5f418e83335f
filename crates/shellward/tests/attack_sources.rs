//! The seeds' five attack tests, written in every other source that can observe them
//! (`rules/selftest/sources/`): Defender advanced hunting rows, Falcon FDR events, auditd for the
//! Linux test, IIS and Apache access logs for the web shell requests.
//!
//! An EDR or auditd form must fire exactly the detection types its Sysmon form
//! (`rules/selftest/N.jsonl`) fires on the event kinds that source records (an EDR sees processes,
//! files, registry and network; not the Application log's SQL Server messages nor PowerShell
//! script blocks). A web server log cannot see processes; its form must fire a web shell request
//! detection for the same attack.

#![allow(clippy::unwrap_used)]

use shellward_engine::{RuleSet, Scratch};
use shellward_event::Event;
use shellward_sigma::load_paths;
use shellward_sources::{ReadOptions, collect};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn rules_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules")
}

fn events(path: &Path) -> Vec<Event> {
    let read = collect(&[path.to_path_buf()], &ReadOptions::with_threads(1));
    assert!(read.problems.is_empty(), "{}: {:?}", path.display(), read.problem_texts());
    assert!(!read.events.is_empty(), "{}: no events", path.display());
    read.events
}

/// The detection types the pack fires on the events that pass `keep`.
fn detection_types(
    set: &RuleSet,
    events: &[Event],
    keep: impl Fn(&Event) -> bool,
) -> BTreeSet<String> {
    let (mut scratch, mut matched) = (Scratch::default(), Vec::new());
    let mut types = BTreeSet::new();
    for event in events.iter().filter(|e| keep(e)) {
        set.matching(event, &mut scratch, &mut matched);
        // Rules that alert on first sightings only need a hunt's history: not counted here.
        for &i in matched.iter().filter(|&&i| set.rules()[i].info.first_seen.is_none()) {
            types.insert(set.rules()[i].info.detection_type.clone().unwrap_or_default());
        }
    }
    types
}

/// The Sigma categories a source records.
fn observes(source: &str) -> &'static [&'static str] {
    const EDR: &[&str] = &[
        "process_creation",
        "file_event",
        "file_delete",
        "registry_add",
        "registry_delete",
        "registry_set",
        "registry_rename",
        "network_connection",
        "image_load",
    ];
    match source {
        "defender" | "falcon" => EDR,
        "audit" => &["process_creation", "file_event"],
        other => panic!("unknown source form {other}"),
    }
}

#[test]
fn every_source_form_fires_what_its_sysmon_form_fires() {
    let loaded = load_paths(&[rules_dir()]);
    let (set, _) = RuleSet::compile(&loaded);
    let mut forms: Vec<PathBuf> = std::fs::read_dir(rules_dir().join("selftest/sources"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    forms.sort();
    assert!(forms.len() >= 13, "{} source forms", forms.len());
    let mut seen_tests = BTreeSet::new();
    let mut failures = Vec::new();
    for form in &forms {
        let file = form.file_name().unwrap().to_string_lossy().into_owned();
        let mut parts = file.split('.');
        let (test, source) = (parts.next().unwrap(), parts.next().unwrap());
        seen_tests.insert(test.to_owned());
        let sysmon = events(&rules_dir().join(format!("selftest/{test}.jsonl")));
        let got = detection_types(&set, &events(form), |_| true);
        if source == "iis" || source == "access" {
            if !got.iter().any(|t| t.starts_with("WebShell_")) {
                failures.push(format!("{file}: fired {got:?}, no web shell request detection"));
            }
            continue;
        }
        let categories = observes(source);
        let want = detection_types(&set, &sysmon, |e| {
            e.logsource.category.is_some_and(|c| categories.contains(&c))
        });
        assert!(!want.is_empty(), "{test}: the Sysmon form fires nothing {source} sees");
        if got != want {
            failures.push(format!("{file}: fired {got:?}, the Sysmon form {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(seen_tests.len(), 5, "{seen_tests:?}");
}
