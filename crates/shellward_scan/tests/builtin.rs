//! The built-in YARA rules (`rules/yara/`): each compiles, has ATT&CK tags and a level, and fires
//! on its `.match.*` sample and on nothing in its `.nomatch.*` sample; the third-party rule sets
//! in `../shared/data/webshells` compile (rules using modules this build leaves out are skipped).

#![allow(clippy::unwrap_used)]

use shellward_scan::content::{builtin, read_sources};
use shellward_scan::{ContentRules, Finding, ScanOptions, scan};
use std::path::{Path, PathBuf};

fn rules_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/yara")
}

fn findings(rules: &ContentRules, path: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let report = scan(&[path.to_owned()], rules, &ScanOptions::default(), |f| out.push(f), |_| {});
    assert!(report.unreadable.is_empty(), "{:?}", report.unreadable);
    out
}

#[test]
fn every_builtin_rule_fires_on_its_sample_and_not_on_its_counterpart() {
    let (rules, diagnostics) = ContentRules::compile(&builtin());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let mut names: Vec<String> = std::fs::read_dir(rules_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".yar").map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(names.len(), rules.len(), "every file in rules/yara is built in, one rule each");
    let mut failures = Vec::new();
    for name in &names {
        let info = rules.infos().find(|i| i.origin == format!("builtin:{name}.yar")).unwrap();
        if !info.tags.iter().any(|t| t.starts_with("attack.t1505")) || info.description.is_none() {
            failures.push(format!("{name}: needs a T1505 tag and a description"));
        }
        for (kind, must_fire) in [("match", true), ("nomatch", false)] {
            let sample =
                std::fs::read_dir(rules_dir()).unwrap().map(|e| e.unwrap().path()).find(|p| {
                    p.file_name().unwrap().to_string_lossy().starts_with(&format!("{name}.{kind}."))
                });
            let Some(sample) = sample else {
                failures.push(format!("{name}: no {kind} sample"));
                continue;
            };
            let found = findings(&rules, &sample);
            let fired = found.iter().any(|f| f.rule.id == info.id);
            if fired != must_fire {
                failures.push(format!(
                    "{}: {} {}",
                    sample.display(),
                    name,
                    if must_fire { "did not fire" } else { "fired" }
                ));
            }
            if !must_fire && !found.is_empty() {
                let titles: Vec<&str> = found.iter().map(|f| f.rule.title.as_str()).collect();
                failures.push(format!("{}: other rules fired: {titles:?}", sample.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn third_party_rule_sets_compile() {
    let Some(root) = shellward_testdata::shared("data/webshells") else { return };
    for set in ["yara-signature-base", "yara-nsa"] {
        let sources = read_sources(&root.join(set)).unwrap();
        let (rules, diagnostics) = ContentRules::compile(&sources);
        let errors: Vec<&String> = diagnostics.iter().filter(|d| !d.contains("warning")).collect();
        assert!(rules.len() > 10, "{set}: {} rules, {diagnostics:?}", rules.len());
        eprintln!("{set}: {} rules, {} diagnostics: {errors:?}", rules.len(), diagnostics.len());
    }
}
