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
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Runs `rules export`.
pub(crate) fn run(args: &RulesExportArgs) -> anyhow::Result<ExitCode> {
    let rules = ruleload::load(&args.selection)?;
    ruleload::print_diagnostics(&rules, false);
    let target = args.target.target();
    let mut tally = Tally::default();
    let selected = select(&rules, args, target, &mut tally)?;
    let Tally { written: correlations, mut failed } = tally;
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
        let text = format!("{}\n", combined.query);
        match &args.out {
            Some(dir) => write_file(dir, &format!("combined.{}", target.extension()), &text)?,
            None => std::io::stdout().lock().write_all(text.as_bytes())?,
        }
        return finish(
            correlations + selected.len() - combined.skipped.len(),
            failed,
            args.allow_partial,
        );
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut names = HashSet::new();
    let mut written = correlations;
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

/// Rules written and rules that could not be.
#[derive(Debug, Default)]
struct Tally {
    written: usize,
    failed: usize,
}

/// The detection rules the arguments name. Correlation rules named are written here (counted in
/// `tally`), as they are not compiled rules.
fn select<'r>(
    rules: &'r Rules,
    args: &RulesExportArgs,
    target: Target,
    tally: &mut Tally,
) -> anyhow::Result<Vec<&'r CompiledRule>> {
    let all = rules.set.rules();
    if args.all {
        return Ok(all.iter().collect());
    }
    if args.ids.is_empty() && args.tag.is_empty() {
        bail!("name the rules to export (ids, --tag or --all)");
    }
    let mut selected: Vec<&CompiledRule> = Vec::new();
    for id in &args.ids {
        if let Some(correlation) = rules.loaded.correlations.iter().find(|c| {
            [c.rule.id.as_deref(), c.rule.name.as_deref(), Some(c.rule.title.as_str())]
                .contains(&Some(id.as_str()))
        }) {
            match export_correlation(rules, correlation, args, target) {
                Ok(()) => tally.written += 1,
                Err(reason) => {
                    tally.failed += 1;
                    report::note(&format!(
                        "rule {id} ({}:{}) not exported: {reason}",
                        correlation.text.origin, correlation.line
                    ));
                }
            }
            continue;
        }
        let rule = find(rules, id)?;
        if !selected.iter().any(|r| std::ptr::eq(*r, rule)) {
            selected.push(rule);
        }
    }
    for rule in all {
        let tagged = args.tag.iter().any(|tag| rule.info.tags.iter().any(|t| tag_under(t, tag)));
        if tagged && !selected.iter().any(|r| std::ptr::eq(*r, rule)) {
            selected.push(rule);
        }
    }
    if selected.is_empty() && tally.written + tally.failed == 0 {
        bail!("no loaded rule carries the tag(s) {}", args.tag.join(", "));
    }
    Ok(selected)
}

/// Writes a correlation rule (Splunk and KQL: see `shellward_render::correlation`), its member
/// rules found among the loaded ones by id or name.
fn export_correlation(
    rules: &Rules,
    correlation: &shellward_sigma::LoadedCorrelation,
    args: &RulesExportArgs,
    target: Target,
) -> Result<(), String> {
    let kind = correlation.rule.correlation_type.as_str();
    if !matches!(target, Target::Spl | Target::Kql) {
        return Err(format!(
            "{} cannot express the {kind} correlation yet (use --target spl or kql)",
            target.name()
        ));
    }
    let members = shellward_render::correlation::members(&rules.set, &correlation.rule)?;
    let query = match target {
        Target::Kql => shellward_render::correlation::kql(&correlation.rule, &members),
        _ => shellward_render::correlation::spl(&correlation.rule, &members),
    }
    .map_err(|e| e.to_string())?;
    let text = format!(
        "{}{}{query}\n",
        target.comment_line(&correlation.rule.title),
        target.comment_line(&format!(
            "correlation: {kind} over {}",
            correlation.rule.rules.join(", ")
        ))
    );
    let name = correlation.rule.name.as_deref().or(correlation.rule.id.as_deref());
    let name: String = name
        .unwrap_or("correlation")
        .chars()
        .map(|c| if c.is_alphanumeric() || "-_".contains(c) { c } else { '_' })
        .collect();
    match &args.out {
        Some(dir) => write_file(dir, &format!("{name}.{}", target.extension()), &text)
            .map_err(|e| e.to_string()),
        None => writeln!(std::io::stdout().lock(), "{text}").map_err(|e| e.to_string()),
    }
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
    if target != Target::Sigma && shellward_render::server::reads_server_identity(rule) {
        out.push_str(&target.comment_line(shellward_render::server::NOTE));
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
