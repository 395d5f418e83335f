//! `shellward rules test PATH...`: each rule against the scenarios beside it, as the built-in
//! pack is tested, for detection engineers' CI.
//!
//! A rule file `NAME.yml` may have `NAME.match.EXT` and `NAME.nomatch.EXT` beside it (any format
//! a hunt reads: JSON lines, raw log lines, EVTX, XML...). Each scenario goes whole through a hunt
//! with every rule given (lineage, filters, first-seen state, as `hunt` runs them); then every
//! event the rule's log source takes must have made it fire (`match`) or not (`nomatch`), except
//! events marked `"shellward_scenario": "context"` (the ancestors of a chain) and, for a rule with
//! `first_seen`, the events of its baseline.

use crate::args::RulesTestArgs;
use crate::commands::ruleload;
use crate::report;
use shellward_engine::{CompiledRule, Lineage, RuleSet};
use shellward_hunt::Hunt;
use shellward_sources::{ReadOptions, collect};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// The scenario file of a rule file, if any: `NAME.<kind>.<any extension>` beside it.
fn scenario(rule_file: &Path, kind: &str) -> Option<PathBuf> {
    let stem = rule_file.file_stem()?.to_str()?;
    let prefix = format!("{stem}.{kind}.");
    let dir = rule_file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix)))
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Runs the scenarios; exit 1 when any fails (or, with `--strict`, is missing).
pub(crate) fn run(args: &RulesTestArgs) -> anyhow::Result<ExitCode> {
    super::require_paths(&args.paths, "rules test")?;
    let rules = ruleload::load_only(&args.paths);
    ruleload::print_diagnostics(&rules, true);
    let (errors, _) = rules.counts();
    let set = Arc::new(rules.set);
    let mut failures = 0usize;
    let (mut passed, mut untested) = (0usize, 0usize);
    for rule in set.rules() {
        let Some(file) = Some(Path::new(&rule.info.origin))
            .filter(|_| !rule.info.origin.starts_with("builtin:"))
        else {
            continue;
        };
        let mut problems = Vec::new();
        let mut checked = 0usize;
        for (kind, must_fire) in [("match", true), ("nomatch", false)] {
            match scenario(file, kind) {
                Some(path) => {
                    checked += check(&set, rule, &path, must_fire, &mut problems);
                }
                None if args.strict => problems.push(format!("no {kind} scenario beside it")),
                None => {}
            }
        }
        if problems.is_empty() && checked == 0 {
            untested += 1;
            continue;
        }
        if problems.is_empty() {
            passed += 1;
            if args.verbose {
                report::note(&format!("ok: {} ({checked} event(s))", rule.info.title));
            }
        } else {
            failures += 1;
            for problem in problems {
                report::warn(&format!(
                    "FAILED {} ({}): {problem}",
                    rule.info.title,
                    file.display()
                ));
            }
        }
    }
    report::note(&format!(
        "{passed} rule(s) passed, {failures} failed, {untested} without scenarios{}",
        if errors > 0 { format!(", {errors} could not be loaded") } else { String::new() }
    ));
    Ok(if failures > 0 || errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Checks one scenario file; returns how many events were checked.
fn check(
    set: &Arc<RuleSet>,
    rule: &CompiledRule,
    path: &Path,
    must_fire: bool,
    problems: &mut Vec<String>,
) -> usize {
    let read = collect(&[path.to_path_buf()], &ReadOptions::with_threads(1));
    for problem in read.problem_texts() {
        problems.push(format!("{}: {problem}", path.display()));
    }
    let all = read.events;
    let mut hunt = Hunt::new(Arc::clone(set), Some(Lineage::default()));
    for event in all.iter().cloned() {
        hunt.push_unscreened(event);
    }
    let fired: HashSet<u64> = hunt
        .take_alerts()
        .into_iter()
        .filter(|(_, r)| std::ptr::eq(&set.rules()[*r], rule))
        .map(|(event, _)| event.provenance.record)
        .collect();
    let info = &rule.info;
    // A rule alerting on first sight after a baseline is checked after the baseline.
    let baseline_end = info.first_seen.as_ref().and_then(|setting| {
        let start = all.iter().filter_map(|e| e.time).min()?;
        start
            .checked_add(jiff::SignedDuration::from_secs(
                i64::try_from(setting.after_seconds).ok()?,
            ))
            .ok()
    });
    let events: Vec<_> = all
        .iter()
        .filter(|e| info.logsource.matches(&e.logsource))
        .filter(|e| e.get_str("shellward_scenario") != Some("context"))
        .filter(|e| baseline_end.is_none_or(|end| e.time.is_some_and(|t| t >= end)))
        .collect();
    if events.is_empty() {
        problems.push(format!("{}: no event of the rule's log source", path.display()));
    }
    for event in &events {
        if fired.contains(&event.provenance.record) != must_fire {
            problems.push(format!(
                "{} record {}: {}",
                path.display(),
                event.provenance.record,
                if must_fire { "did not fire" } else { "fired" }
            ));
        }
    }
    events.len()
}
