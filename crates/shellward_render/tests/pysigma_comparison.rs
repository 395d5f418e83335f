//! Our renderings of the 71 T1505-related SigmaHQ rules next to pySigma's
//! (`../shared/reference/sigma/pysigma-out`: splunk with the sysmon and splunk_windows pipelines,
//! kusto with microsoft_xdr, log_scale with crowdstrike_falcon).
//!
//! Each (rule, language) pair gets a verdict, and the report is a golden file. Where the two
//! differ in meaning, the verdict says which is right and why:
//!
//! - `pysigma-wrong:registry-wildcard`: pySigma 1.5.1 turns a registry value ending in `\` before a
//!   wildcard into a literal `*` (`RegistryKey endswith "\\Control\\Terminal Server*"`), so the
//!   query can never match (SIGMA.md §3). Ours keeps the wildcard; the test checks it.
//! - `pysigma-wrong:no-event-type`: pySigma's Falcon pipeline handles only process creation and a
//!   few other categories; for file, registry, web and service rules it "converts" the rule with
//!   Sigma field names and no `#event_simpleName`, which is not a Falcon query. Ours either reads the
//!   Falcon events that record it or refuses with the reason; the test checks it.
//! - `pysigma-wrong:quoted-keyword`: pySigma puts a keyword's quotes inside the regex
//!   (`/"Install-TransportAgent"/i`), which only matches quoted text.
//! - `pysigma-failed`: pySigma refused the rule (its error is shown); `ours` is what we produce.
//! - `both`: both rendered. The string literals of the two queries are compared (case folded); the
//!   report lists the literals only one side has, e.g. our `TargetObject` built from key and value
//!   name against pySigma's `RegistryKey`, or our sourcetype against pySigma's `source`.
//!   The SPL differences left are of two kinds. `EventCode="29"` (ours) against `EventCode=29`:
//!   the same search. Keywords and `|re`: pySigma writes keywords as bare search terms, which
//!   Splunk matches as whole tokens, so `Install-TransportAgent` inside a longer token is missed;
//!   ours tests the raw event with a case-insensitive regex, which is Sigma's substring meaning
//!   (right); for `|re` inside OR pySigma uses `rex`/`eval` pairs and ours one `match()` each, the
//!   same test.
//! - `ours-refused`: pySigma rendered it and we refuse, with our reason (a log source the target's
//!   data does not have, such as web server logs in Defender tables, where pySigma's query would
//!   search fields that do not exist).

#![allow(clippy::unwrap_used)]

use shellward_engine::RuleSet;
use shellward_render::{Target, render};
use std::collections::BTreeSet;
use std::fmt::Write;

/// The `"..."` literals of a query (backslash escapes read), case folded; the base search's
/// channel names (our `sourcetype="XmlWinEventLog:..."` against pySigma's `source="WinEventLog:..."`)
/// and our LogScale format strings are left out, so what remains compares the conditions.
fn literals(query: &str) -> BTreeSet<String> {
    let mut all = quoted(query);
    all.retain(|l| !l.contains("wineventlog:") && !l.ends_with("%s"));
    all
}

fn quoted(query: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut chars = query.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut text = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => text.extend(chars.next()),
                '"' => break,
                c => text.push(c),
            }
        }
        out.insert(text.to_lowercase());
    }
    out
}

/// The condition of one of our queries: its last `| where` (KQL's computed columns before it use
/// verbatim strings this reader does not parse), or all of it.
fn condition(query: &str) -> &str {
    query.rsplit_once("\n| where ").map_or(query, |(_, condition)| condition)
}

fn short(set: &BTreeSet<String>) -> String {
    let shown: Vec<String> = set.iter().take(3).map(|s| format!("{s:?}")).collect();
    let more = set.len().saturating_sub(3);
    if more > 0 { format!("{} (+{more})", shown.join(", ")) } else { shown.join(", ") }
}

#[test]
fn our_renderings_next_to_pysigmas() {
    let Some(out) = shellward_testdata::shared("reference/sigma/pysigma-out") else { return };
    let Some(sigmahq) = shellward_testdata::shared("data/sigmahq") else { return };
    let results: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let mut report = String::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut wrong = Vec::new();
    for entry in &results {
        let (target, dir) = match entry["backend"].as_str().unwrap() {
            "kusto_xdr" => (Target::Kql, "kusto_xdr"),
            "splunk" => (Target::Spl, "splunk"),
            "logscale" => (Target::Cql, "logscale"),
            _ => continue,
        };
        let id = entry["id"].as_str().unwrap();
        let path = sigmahq.join(entry["path"].as_str().unwrap());
        let theirs = std::fs::read_to_string(out.join(dir).join(format!("{id}.txt"))).ok();
        let ours = if path.exists() {
            let loaded = shellward_sigma::load_paths(&[path]);
            let set = RuleSet::compile(&loaded).0;
            match set.rules().first() {
                Some(rule) => render(rule, target, ""),
                None => Err(shellward_render::RenderError::Unsupported {
                    target: "shellward",
                    construct: "a rule it cannot load".into(),
                }),
            }
        } else {
            continue;
        };
        let error = entry["error"].as_str().unwrap_or("");
        let error: String = error
            .lines()
            .find(|l| l.contains("rror"))
            .or_else(|| error.lines().next())
            .unwrap_or("")
            .trim()
            .chars()
            .take(160)
            .collect();
        let verdict = match (&theirs, &ours) {
            (Some(t), _)
                if target == Target::Kql && literals(t).iter().any(|l| l.ends_with('*')) =>
            {
                if ours
                    .as_ref()
                    .map_or(true, |o| literals(condition(o)).iter().any(|l| l.ends_with('*')))
                {
                    wrong.push(format!("{id} kql: the registry wildcard is not rendered right"));
                }
                "pysigma-wrong:registry-wildcard".to_owned()
            }
            (Some(t), _) if target == Target::Cql && !t.contains("event_simpleName") => {
                if ours.as_ref().is_ok_and(|o| !o.contains("#event_simpleName")) {
                    wrong.push(format!("{id} cql: no event type"));
                }
                "pysigma-wrong:no-event-type".to_owned()
            }
            (Some(t), _) if target == Target::Cql && t.contains("/\"") => {
                "pysigma-wrong:quoted-keyword".to_owned()
            }
            (None, _) => format!("pysigma-failed ({error})"),
            (Some(t), Ok(o)) => {
                let (a, b) = (literals(condition(o)), literals(t));
                let only_ours: BTreeSet<String> = a.difference(&b).cloned().collect();
                let only_theirs: BTreeSet<String> = b.difference(&a).cloned().collect();
                if only_ours.is_empty() && only_theirs.is_empty() {
                    "both: same literals".to_owned()
                } else {
                    format!(
                        "both: only ours [{}]; only pySigma's [{}]",
                        short(&only_ours),
                        short(&only_theirs)
                    )
                }
            }
            (Some(_), Err(e)) => format!("ours-refused ({e})"),
        };
        let ours_line = match &ours {
            Ok(_) => "ours: rendered".to_owned(),
            Err(e) => format!("ours: {e}"),
        };
        let class = verdict.split([' ', '(']).next().unwrap_or("").to_owned();
        *counts.entry(format!("{} {class}", target.name())).or_default() += 1;
        let _ = writeln!(report, "{} {:<5} {verdict}\n      {ours_line}", &id[..8], target.name());
    }
    let mut summary = String::new();
    for (class, n) in &counts {
        let _ = writeln!(summary, "{class}: {n}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    insta::assert_snapshot!("pysigma_comparison", format!("{summary}\n{report}"));
}
