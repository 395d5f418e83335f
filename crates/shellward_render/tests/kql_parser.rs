//! Every KQL query shellward writes (each built-in rule, the combined T1505 query, and the
//! correlations that render for KQL, the flagship *Web Shell Deployed And Used* among them) parsed and
//! analyzed by Microsoft's own Kusto language library (`scripts/kql-check`: the npm build of
//! Kusto.Language, offline under node) with the Defender XDR tables declared: syntax, tables,
//! columns and functions. A mutation (one column misspelt) must fail it, so the check can fail.
//!
//! Runs where node and npm are (the script installs the library); CI sets
//! `SHELLWARD_REQUIRE_SIEM_PARSERS=1` to make their absence a failure.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use shellward_engine::RuleSet;
use shellward_render::combine::{self, Options};
use shellward_render::{Target, render};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The script's verdicts: (name, errors) per query; `None` (with a SKIPPED line) where it cannot
/// run.
fn check(queries: &[(String, String)]) -> Option<Vec<(String, Vec<String>)>> {
    let script = repo().join("scripts/kql-check");
    let installed = Command::new(&script).arg("--install").output();
    match installed {
        Ok(out) if out.status.success() => {}
        other => {
            let why = match other {
                Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            assert!(
                std::env::var_os("SHELLWARD_REQUIRE_SIEM_PARSERS").is_none(),
                "SHELLWARD_REQUIRE_SIEM_PARSERS is set but the Kusto parser cannot run: {why}"
            );
            eprintln!("SKIPPED: the Kusto parser cannot run here ({why})");
            return None;
        }
    }
    let input: Vec<serde_json::Value> = queries
        .iter()
        .map(|(name, query)| serde_json::json!({"name": name, "query": query}))
        .collect();
    let mut child = Command::new(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let verdicts: Vec<(String, Vec<String>)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let errors = v["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_owned())
                .collect();
            (v["name"].as_str().unwrap().to_owned(), errors)
        })
        .collect();
    assert_eq!(verdicts.len(), queries.len());
    Some(verdicts)
}

/// Every KQL query of the pack: each rule that renders, and the combined T1505 query.
fn queries() -> Vec<(String, String)> {
    let loaded = shellward_sigma::load_paths(&[repo().join("rules")]);
    let set = RuleSet::compile(&loaded).0;
    let mut out: Vec<(String, String)> = set
        .rules()
        .iter()
        .filter_map(|rule| render(rule, Target::Kql, "").ok().map(|q| (rule.info.title.clone(), q)))
        .collect();
    let t1505: Vec<_> = set
        .rules()
        .iter()
        .filter(|r| r.info.tags.iter().any(|t| t.starts_with("attack.t1505")))
        .collect();
    let combined =
        combine::combine(&t1505, Target::Kql, &Options { lookback: Some("24h".into()) }).unwrap();
    out.push(("combined".into(), combined.query));
    // The correlations that render for KQL (the others need tables Defender lacks).
    for correlation in &loaded.correlations {
        let members = shellward_render::correlation::members(&set, &correlation.rule);
        if let Ok(Ok(query)) =
            members.map(|m| shellward_render::correlation::kql(&correlation.rule, &m))
        {
            out.push((correlation.rule.title.clone(), query));
        }
    }
    out
}

#[test]
fn every_kql_query_passes_the_kusto_parser_with_the_defender_schema() {
    let queries = queries();
    assert!(queries.len() >= 23, "{} queries", queries.len());
    assert!(queries.iter().any(|(name, _)| name == "Web Shell Deployed And Used"));
    let Some(verdicts) = check(&queries) else { return };
    let failed: Vec<String> = verdicts
        .iter()
        .filter(|(_, errors)| !errors.is_empty())
        .map(|(name, errors)| format!("{name}: {}", errors.join("; ")))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn a_misspelt_column_fails_the_kusto_parser() {
    let (name, query) =
        queries().into_iter().find(|(_, q)| q.contains("ProcessCommandLine")).unwrap();
    let mutated = vec![(name, query.replacen("ProcessCommandLine", "ProcessCommandLin", 1))];
    let Some(verdicts) = check(&mutated) else { return };
    let errors = &verdicts[0].1;
    assert!(
        errors.iter().any(|e| e.starts_with("KS142") && e.contains("ProcessCommandLin")),
        "{errors:?}"
    );
}
