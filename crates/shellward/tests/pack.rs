//! The built-in pack under `rules/`: every rule loads cleanly, has its metadata, and has a
//! positive and a negative scenario beside it (`NAME.match.jsonl`, `NAME.nomatch.jsonl`, or `.log`
//! for raw log lines) on which `shellward rules test` passes; and the pack is quiet on benign
//! corpora. Events go through the hunt pipeline
//! ([`shellward_hunt::Hunt`]: lineage, re-evaluation, first-seen state), as in `hunt` and `watch`.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use shellward_engine::{Level, Lineage, RuleSet};
use shellward_hunt::Hunt;
use shellward_sigma::load_paths;
use shellward_sources::{ReadOptions, collect};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn pack() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules")
}

fn compile_pack() -> (shellward_sigma::Loaded, RuleSet) {
    let loaded = load_paths(&[pack()]);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let (set, diagnostics) = RuleSet::compile(&loaded);
    let text: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    assert!(text.is_empty(), "{}", text.join("\n"));
    (loaded, set)
}

fn events(path: &Path) -> Vec<shellward_event::Event> {
    let read = collect(&[path.to_path_buf()], &ReadOptions::with_threads(1));
    assert!(read.problems.is_empty(), "{:?}", read.problem_texts());
    read.events
}

/// Every rule's scenarios pass, through `shellward rules test --strict` (the command users run on
/// their own rules): a hunt with the whole pack over each scenario file.
#[test]
fn every_rule_has_scenarios_that_pass() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shellward"))
        .args(["rules", "test", "--strict"])
        .arg(pack())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(" 0 failed, 0 without scenarios"), "{stderr}");
}

#[test]
fn every_rule_has_metadata() {
    let (loaded, set) = compile_pack();
    let set = Arc::new(set);
    assert!(set.len() >= 25, "{} rules", set.len());
    let mut failures = Vec::new();
    for (loaded_rule, rule) in loaded.rules.iter().zip(set.rules()) {
        let shellward_sigma::Origin::File(path) = &loaded_rule.text.origin else { unreachable!() };
        let info = &rule.info;
        let attrs = &loaded_rule.rule.custom_attributes;
        for key in ["detection_type", "investigation", "response"] {
            if !attrs.contains_key(key) {
                failures.push(format!("{}: no {key}", path.display()));
            }
        }
        if !info.tags.iter().any(|t| t.starts_with("attack.t1505"))
            || info.falsepositives.is_empty()
        {
            failures.push(format!("{}: needs a T1505 tag and false positives", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// High and critical alerts of the pack on a corpus, as `(file, record, title)`.
fn severe_alerts(set: &Arc<RuleSet>, corpus: &Path) -> Vec<String> {
    let read = collect(&[corpus.to_path_buf()], &ReadOptions::with_threads(2));
    let mut hunt = Hunt::new(Arc::clone(set), Some(Lineage::default()));
    for event in read.events {
        hunt.push_unscreened(event);
    }
    let mut alerts = Vec::new();
    for (event, i) in hunt.finish() {
        {
            let info = &set.rules()[i].info;
            eprintln!(
                "{}: {} record {}: {}",
                info.level, event.provenance.path, event.provenance.record, info.title
            );
            if info.level >= Level::High {
                alerts.push(format!(
                    "{} record {}: {}",
                    event.provenance.path, event.provenance.record, info.title
                ));
            }
        }
    }
    alerts
}

#[test]
fn no_high_or_critical_alert_on_benign_corpora() {
    let set = Arc::new(compile_pack().1);
    for corpus in ["data/evtx-samples", "data/otrf"] {
        let Some(path) = shellward_testdata::shared(corpus) else { return };
        let alerts = severe_alerts(&set, &path);
        assert!(alerts.is_empty(), "{corpus}:\n{}", alerts.join("\n"));
    }
}

#[test]
fn the_t1505_attack_files_of_evtx_to_mitre_fire() {
    let set = Arc::new(compile_pack().1);
    let Some(root) = shellward_testdata::shared("data/evtx-to-mitre") else { return };
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [
        "TA0003-Persistence/T1505.001-SQL Stored Procedures",
        "TA0003-Persistence/T1505-Server Software Component",
    ] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.push(root.join("TA0002-Execution/T1059.003-Windows Command Shell/ID4688-SQL Server payload injectection for reverse shell (MSF).evtx"));
    files.sort();
    assert_eq!(files.len(), 8);
    for file in &files {
        let mut hunt = Hunt::new(Arc::clone(&set), Some(Lineage::default()));
        for event in events(file) {
            hunt.push_unscreened(event);
        }
        assert!(!hunt.is_empty(), "nothing fired on {}", file.display());
    }
}
