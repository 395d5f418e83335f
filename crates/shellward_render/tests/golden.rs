//! Golden files: every built-in rule in every target, and the pack's T1505 rules combined per
//! SIEM. A change in any rendering shows up as a snapshot diff to review.

#![allow(clippy::unwrap_used)]

use shellward_engine::{CompiledRule, RuleSet};
use shellward_render::combine::{self, Options};
use shellward_render::{Target, render};
use shellward_sigma::Loaded;
use std::path::PathBuf;

fn pack() -> (Loaded, RuleSet) {
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let loaded = shellward_sigma::load_paths(&[rules]);
    let set = RuleSet::compile(&loaded).0;
    (loaded, set)
}

/// The rule's YAML document (from its `title:` line to the next `---`).
fn document(loaded: &Loaded, rule: &CompiledRule) -> String {
    let source = loaded
        .rules
        .iter()
        .find(|l| l.line == rule.info.line && l.text.origin.to_string() == rule.info.origin)
        .unwrap();
    let lines: Vec<&str> = source
        .text
        .text
        .lines()
        .skip(source.line as usize - 1)
        .take_while(|l| l.trim_end() != "---")
        .collect();
    lines.join("\n")
}

fn sorted(set: &RuleSet) -> Vec<&CompiledRule> {
    let mut rules: Vec<&CompiledRule> = set.rules().iter().collect();
    rules.sort_by(|a, b| a.info.origin.cmp(&b.info.origin));
    rules
}

/// The origin relative to the rules directory, the same on every machine.
fn name(rule: &CompiledRule) -> String {
    let origin = rule.info.origin.replace('\\', "/");
    origin.split("/rules/").last().unwrap_or(&origin).to_owned()
}

#[test]
fn every_builtin_rule_in_every_target() {
    let (loaded, set) = pack();
    assert!(set.len() >= 30, "the pack has {} rules", set.len());
    for target in Target::ALL {
        let mut out = String::new();
        for rule in sorted(&set) {
            out.push_str(&format!("=== {} ({})\n", name(rule), rule.info.title));
            match render(rule, target, &document(&loaded, rule)) {
                Ok(query) => out.push_str(&query),
                Err(error) => out.push_str(&format!("NOT RENDERED: {error}")),
            }
            out.push_str("\n\n");
        }
        insta::assert_snapshot!(format!("pack_{}", target.name()), out);
    }
}

#[test]
fn the_t1505_rules_combined_per_siem() {
    let (_, set) = pack();
    let t1505: Vec<&CompiledRule> = sorted(&set)
        .into_iter()
        .filter(|r| r.info.tags.iter().any(|t| t.starts_with("attack.t1505")))
        .collect();
    for target in [Target::Kql, Target::Spl, Target::Cql] {
        let options = Options { lookback: Some("24h".into()) };
        let combined = combine::combine(&t1505, target, &options).unwrap();
        insta::assert_snapshot!(format!("combined_{}", target.name()), combined.query);
    }
}

/// Every built-in correlation rendered for each SIEM (or the reason it is not).
fn correlation_queries(target: Target) -> Vec<(String, Result<String, String>)> {
    let (loaded, set) = pack();
    let mut out = Vec::new();
    for correlation in &loaded.correlations {
        let members = shellward_render::correlation::members(&set, &correlation.rule);
        let query = match members {
            Err(error) => Err(error),
            Ok(members) => {
                shellward_render::correlation::render(target, &correlation.rule, &members)
                    .map(|query| {
                        let mut text = String::new();
                        for note in shellward_render::correlation::notes(target, &members) {
                            text.push_str(&target.comment_line(note));
                        }
                        text + &query
                    })
                    .map_err(|e| e.to_string())
            }
        };
        out.push((correlation.rule.title.clone(), query));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn the_builtin_correlations_per_siem() {
    for target in [Target::Kql, Target::Spl, Target::Cql] {
        let mut out = String::new();
        for (title, query) in correlation_queries(target) {
            out.push_str(&format!("=== {title}\n"));
            match query {
                Ok(query) => out.push_str(&query),
                Err(error) => out.push_str(&format!("NOT RENDERED: {error}")),
            }
            out.push_str("\n\n");
        }
        insta::assert_snapshot!(format!("correlations_{}", target.name()), out);
    }
}
