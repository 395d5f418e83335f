//! `shellward rules list | show | check`.

use crate::args::{RulesCheckArgs, RulesCommand, RulesListArgs, RulesShowArgs};
use crate::commands::ruleload::{self, Rules};
use crate::report::{self, escape};
use anyhow::{Context, bail};
use shellward_engine::CompiledRule;
use std::io::Write;
use std::process::ExitCode;

/// Runs a `rules` subcommand.
pub(crate) fn run(command: &RulesCommand) -> anyhow::Result<ExitCode> {
    match command {
        RulesCommand::List(args) => list(args),
        RulesCommand::Show(args) => show(args),
        RulesCommand::Check(args) => check(args),
        RulesCommand::Export(args) => super::export::run(args),
    }
}

fn list(args: &RulesListArgs) -> anyhow::Result<ExitCode> {
    let rules = ruleload::load(&args.selection)?;
    ruleload::print_diagnostics(&rules, false);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if !args.json {
        writeln!(
            out,
            "{:<36}  {:<8}  {:<40}  {:<28}  TITLE",
            "ID", "LEVEL", "LOGSOURCE", "ATT&CK"
        )?;
    }
    for rule in rules.set.rules() {
        let info = &rule.info;
        if args.json {
            let json = serde_json::json!({
                "id": info.id, "title": info.title, "level": info.level, "status": info.status,
                "tags": info.tags, "logsource": info.logsource.to_string(),
                "detection_type": info.detection_type, "origin": info.origin, "line": info.line,
            });
            writeln!(out, "{json}")?;
            continue;
        }
        let attack: Vec<&str> = info
            .tags
            .iter()
            .filter_map(|t| t.strip_prefix("attack.").filter(|t| t.starts_with('t')))
            .collect();
        writeln!(
            out,
            "{:<36}  {:<8}  {:<40}  {:<28}  {}",
            escape(info.id.as_deref().unwrap_or("-")),
            info.level.name().get(..8).unwrap_or(info.level.name()),
            escape(&info.logsource.to_string()),
            attack.join(","),
            escape(&info.title)
        )?;
    }
    out.flush()?;
    let (errors, _) = rules.counts();
    let mut line = format!("{} rule(s)", rules.set.len());
    if errors > 0 {
        line.push_str(&format!(", {errors} could not be loaded (see above)"));
    }
    report::note(&line);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn find<'a>(rules: &'a Rules, id: &str) -> anyhow::Result<&'a CompiledRule> {
    let all = rules.set.rules();
    if let Some(rule) = all.iter().find(|r| r.info.is_named(id)) {
        return Ok(rule);
    }
    let prefixed: Vec<&CompiledRule> =
        all.iter().filter(|r| r.info.id.as_deref().is_some_and(|i| i.starts_with(id))).collect();
    match prefixed.as_slice() {
        [one] => Ok(one),
        [] => bail!("no loaded rule has the id, name or title '{id}'"),
        many => bail!("'{id}' is the prefix of {} rule ids; give more of it", many.len()),
    }
}

fn show(args: &RulesShowArgs) -> anyhow::Result<ExitCode> {
    let rules = ruleload::load(&args.selection)?;
    let rule = find(&rules, &args.id)?;
    let info = &rule.info;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(out, "# {}", escape(&info.title))?;
    writeln!(out, "# id:        {}", info.id.as_deref().unwrap_or("-"))?;
    writeln!(out, "# level:     {}", info.level)?;
    writeln!(out, "# logsource: {}", info.logsource)?;
    if let Some(kind) = &info.detection_type {
        writeln!(out, "# detection_type: {}", escape(kind))?;
    }
    writeln!(out, "# file:      {}:{}", escape(&info.origin), info.line)?;
    let text = rules
        .loaded
        .rules
        .iter()
        .find(|l| l.rule.id == info.id && l.rule.title == info.title)
        .map(|l| document(&l.text.text, l.line))
        .context("rule text not found")?;
    writeln!(out, "{}", escape_lines(&text))?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The YAML document that starts at `line` (1-based), up to the next `---`.
pub(crate) fn document(text: &str, line: u32) -> String {
    let skip = line.saturating_sub(1) as usize;
    let lines: Vec<&str> = text.lines().skip(skip).take_while(|l| l.trim_end() != "---").collect();
    lines.join("\n")
}

fn escape_lines(text: &str) -> String {
    text.lines().map(escape).collect::<Vec<_>>().join("\n")
}

fn check(args: &RulesCheckArgs) -> anyhow::Result<ExitCode> {
    super::require_paths(&args.paths, "rules check")?;
    let rules = ruleload::load_only(&args.paths);
    ruleload::print_diagnostics(&rules, true);
    let (errors, warnings) = rules.counts();
    report::note(&format!(
        "{} file(s), {} rule(s) ready, {} correlation(s), {} filter(s), {errors} error(s), {warnings} warning(s)",
        rules.loaded.files,
        rules.set.len(),
        rules.loaded.correlations.len(),
        rules.loaded.filters.len(),
    ));
    Ok(if errors > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}
