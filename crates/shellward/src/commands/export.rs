//! `shellward rules export`: rules as queries for the SIEMs, normalized Sigma, or SQLite.
//!
//! Each selected rule is rendered on its own (or all in one `--combine` query); a rule a target
//! cannot express is reported on standard error with the reason and left out, the rest are still
//! written, and the exit status is 1 when any was left out, unless `--allow-partial` says the
//! refusals are expected (they are still reported, and listed in a combined query's header).

use crate::args::RulesExportArgs;
use crate::commands::ruleload::{self, Rules};
use crate::commands::rules::{document, find};
use crate::report;
use anyhow::{Context, bail};
use shellward_engine::CompiledRule;
use shellward_render::{Target, combine};
use shellward_sigma::LoadedCorrelation;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Runs `rules export`.
pub(crate) fn run(args: &RulesExportArgs) -> anyhow::Result<ExitCode> {
    let rules = ruleload::load(&args.selection)?;
    ruleload::print_diagnostics(&rules, false);
    let target = args.target.target();
    let (selected, correlations) = select(&rules, args, target)?;
    let mut failed = 0;
    let queries = correlation_queries(&rules, &correlations, target, &mut failed);
    if args.combine {
        let combined = combine::combine(
            &selected,
            target,
            &combine::Options { lookback: args.lookback.clone() },
        )
        .context("nothing to combine")?;
        for (key, error) in &combined.skipped {
            report::note(&format!("rule {key} left out of the combined query: {error}"));
        }
        failed += combined.skipped.len();
        // The correlations follow as queries of their own, each after a blank line.
        let mut text = format!("{}\n", combined.query);
        for (_, query) in &queries {
            text.push('\n');
            text.push_str(query);
        }
        match &args.out {
            Some(dir) => write_file(dir, &format!("combined.{}", target.extension()), &text)?,
            None => std::io::stdout().lock().write_all(text.as_bytes())?,
        }
        return finish(
            queries.len() + selected.len() - combined.skipped.len(),
            failed,
            args.allow_partial,
        );
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut names = HashSet::new();
    let mut written = queries.len();
    for (name, query) in &queries {
        match &args.out {
            Some(dir) => write_file(dir, name, query)?,
            None => writeln!(out, "{query}")?,
        }
    }
    let documents = documents(&rules, target);
    for rule in &selected {
        let text = documents.get(&(rule.info.origin.clone(), rule.info.line));
        match shellward_render::render(rule, target, text.map_or("", String::as_str)) {
            Ok(query) => {
                written += 1;
                let header = header(rule, target);
                match &args.out {
                    Some(dir) => {
                        let name = file_name(rule, target, &mut names);
                        write_file(dir, &name, &format!("{header}{query}\n"))?;
                    }
                    None => {
                        if target == Target::Sigma && written > 1 {
                            writeln!(out, "---")?;
                        }
                        writeln!(out, "{header}{query}")?;
                        if target != Target::Sigma {
                            writeln!(out)?;
                        }
                    }
                }
            }
            Err(error) => {
                failed += 1;
                report::note(&format!(
                    "rule {} ({}:{}) not exported: {error}",
                    rule.info.key(),
                    rule.info.origin,
                    rule.info.line
                ));
            }
        }
    }
    out.flush()?;
    finish(written, failed, args.allow_partial)
}

/// The detection rules and correlation rules the arguments name (by id, name or title, or by a
/// tag they carry). Correlations are chosen by tag or `--all` only for the SIEMs: the other
/// targets write rules one by one.
fn select<'r>(
    rules: &'r Rules,
    args: &RulesExportArgs,
    target: Target,
) -> anyhow::Result<(Vec<&'r CompiledRule>, Vec<&'r LoadedCorrelation>)> {
    let all = rules.set.rules();
    let siem = matches!(target, Target::Kql | Target::Spl | Target::Cql);
    let correlations: &[LoadedCorrelation] = if siem { &rules.loaded.correlations } else { &[] };
    if args.all {
        return Ok((all.iter().collect(), correlations.iter().collect()));
    }
    if args.ids.is_empty() && args.tag.is_empty() {
        bail!("name the rules to export (ids, --tag or --all)");
    }
    let mut selected: Vec<&CompiledRule> = Vec::new();
    let mut chosen: Vec<&LoadedCorrelation> = Vec::new();
    for id in &args.ids {
        if let Some(correlation) = rules.loaded.correlations.iter().find(|c| {
            [c.rule.id.as_deref(), c.rule.name.as_deref(), Some(c.rule.title.as_str())]
                .contains(&Some(id.as_str()))
        }) {
            if !chosen.iter().any(|c| std::ptr::eq(*c, correlation)) {
                chosen.push(correlation);
            }
            continue;
        }
        let rule = find(rules, id)?;
        if !selected.iter().any(|r| std::ptr::eq(*r, rule)) {
            selected.push(rule);
        }
    }
    let tagged =
        |tags: &[String]| args.tag.iter().any(|tag| tags.iter().any(|t| tag_under(t, tag)));
    for rule in all {
        if tagged(&rule.info.tags) && !selected.iter().any(|r| std::ptr::eq(*r, rule)) {
            selected.push(rule);
        }
    }
    for correlation in correlations {
        if tagged(&correlation.rule.tags) && !chosen.iter().any(|c| std::ptr::eq(*c, correlation)) {
            chosen.push(correlation);
        }
    }
    if selected.is_empty() && chosen.is_empty() {
        bail!("no loaded rule carries the tag(s) {}", args.tag.join(", "));
    }
    Ok((selected, chosen))
}

/// A correlation rule as a query with its header (see `shellward_render::correlation`), its
/// member rules found among the loaded ones by id or name; with the file name it is written under.
fn correlation_query(
    rules: &Rules,
    correlation: &LoadedCorrelation,
    target: Target,
) -> Result<(String, String), String> {
    let kind = correlation.rule.correlation_type.as_str();
    let members = shellward_render::correlation::members(&rules.set, &correlation.rule)?;
    let query = shellward_render::correlation::render(target, &correlation.rule, &members)
        .map_err(|e| e.to_string())?;
    let mut text = target.comment_line(&correlation.rule.title);
    text.push_str(
        &target.comment_line(&format!(
            "correlation: {kind} over {}",
            correlation.rule.rules.join(", ")
        )),
    );
    for note in shellward_render::correlation::notes(target, &members) {
        text.push_str(&target.comment_line(note));
    }
    text.push_str(&query);
    text.push('\n');
    let name = correlation.rule.name.as_deref().or(correlation.rule.id.as_deref());
    let name: String = name
        .unwrap_or("correlation")
        .chars()
        .map(|c| if c.is_alphanumeric() || "-_".contains(c) { c } else { '_' })
        .collect();
    Ok((format!("{name}.{}", target.extension()), text))
}

/// The correlations that render, with their file names; each that does not is reported and
/// counted in `failed`.
fn correlation_queries(
    rules: &Rules,
    correlations: &[&LoadedCorrelation],
    target: Target,
    failed: &mut usize,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for correlation in correlations {
        match correlation_query(rules, correlation, target) {
            Ok(query) => out.push(query),
            Err(reason) => {
                *failed += 1;
                report::note(&format!(
                    "correlation {} ({}:{}) not exported: {reason}",
                    correlation.rule.name.as_deref().unwrap_or(&correlation.rule.title),
                    correlation.text.origin,
                    correlation.line
                ));
            }
        }
    }
    out
}

/// Each rule's YAML document by (origin, line), read only for the Sigma target, the one that
/// prints it; one pass over the loaded rules rather than a search per rule.
fn documents(rules: &Rules, target: Target) -> HashMap<(String, u32), String> {
    if target != Target::Sigma {
        return HashMap::new();
    }
    rules
        .loaded
        .rules
        .iter()
        .map(|l| ((l.text.origin.to_string(), l.line), document(&l.text.text, l.line)))
        .collect()
}

/// Whether `tag` is `wanted` or under it (`attack.t1505.003` is under `attack.t1505`), in any
/// case.
pub(crate) fn tag_under(tag: &str, wanted: &str) -> bool {
    tag.eq_ignore_ascii_case(wanted)
        || tag.get(..wanted.len()).is_some_and(|head| head.eq_ignore_ascii_case(wanted))
            && tag.as_bytes().get(wanted.len()) == Some(&b'.')
}

/// Comment lines naming the rule.
fn header(rule: &CompiledRule, target: Target) -> String {
    let mut out = target.comment_line(&rule.info.title);
    out.push_str(&target.comment_line(&format!(
        "id: {}  level: {}  logsource: {}",
        rule.info.id.as_deref().unwrap_or("-"),
        rule.info.level,
        rule.info.logsource
    )));
    for note in shellward_render::notes(rule, target) {
        out.push_str(&target.comment_line(note));
    }
    out
}

/// `<rule file stem>.<ext>`, made unique.
fn file_name(rule: &CompiledRule, target: Target, taken: &mut HashSet<String>) -> String {
    let stem = Path::new(&rule.info.origin)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| rule.info.key().to_owned());
    let stem: String = stem
        .chars()
        .map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' })
        .collect();
    let mut name = format!("{stem}.{}", target.extension());
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{stem}-{n}.{}", target.extension());
        n += 1;
    }
    name
}

fn write_file(dir: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The closing line; exit 1 when a rule could not be exported, unless partial exports are
/// accepted (and something was written).
fn finish(written: usize, failed: usize, allow_partial: bool) -> anyhow::Result<ExitCode> {
    let mut line = format!("{written} rule(s) exported");
    if failed > 0 {
        line.push_str(&format!(", {failed} could not be (reasons above)"));
        if allow_partial {
            line.push_str(", accepted (--allow-partial)");
        }
    }
    report::note(&line);
    let accepted = allow_partial && written > 0;
    Ok(if failed > 0 && !accepted { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
