//! `shellward rules list | show | check` (`test` in [`super::ruletest`]).

use crate::args::{RulesCheckArgs, RulesCommand, RulesListArgs, RulesShowArgs};
use crate::commands::ruleload::{self, Rules};
use crate::report::{self, escape};
use anyhow::{Context, bail};
use shellward_engine::{CompiledRule, Correlation, RuleInfo};
use std::io::Write;
use std::process::ExitCode;

/// Runs a `rules` subcommand.
pub(crate) fn run(command: &RulesCommand) -> anyhow::Result<ExitCode> {
    match command {
        RulesCommand::List(args) => list(args),
        RulesCommand::Show(args) => show(args),
        RulesCommand::Check(args) => check(args),
        RulesCommand::Test(args) => super::ruletest::run(args),
        RulesCommand::Export(args) => super::export::run(args),
    }
}

fn list(args: &RulesListArgs) -> anyhow::Result<ExitCode> {
    let rules = ruleload::load(&args.selection)?;
    ruleload::print_diagnostics(&rules, false);
    let wanted = |info: &RuleInfo| {
        (args.tag.is_empty()
            || args
                .tag
                .iter()
                .any(|tag| info.tags.iter().any(|t| super::export::tag_under(t, tag))))
            && (args.level.is_empty() || args.level.contains(&info.level))
    };
    let detections = rules.set.rules().iter().map(|r| (&r.info, None));
    let correlations = rules.set.correlations().iter().map(|c| (&c.info, Some(c.kind.name())));
    let shown: Vec<(&RuleInfo, Option<&str>)> =
        detections.chain(correlations).filter(|(info, _)| wanted(info)).collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if !args.json {
        writeln!(
            out,
            "{:<36}  {:<8}  {:<40}  {:<28}  TITLE",
            "ID", "LEVEL", "LOGSOURCE", "ATT&CK"
        )?;
    }
    for (info, correlation) in &shown {
        let logsource = match correlation {
            Some(kind) => format!("correlation ({kind})"),
            None => info.logsource.to_string(),
        };
        if args.json {
            let json = serde_json::json!({
                "id": info.id, "title": info.title, "level": info.level, "status": info.status,
                "tags": info.tags, "logsource": logsource, "correlation": correlation,
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
            escape(&logsource),
            attack.join(","),
            escape(&info.title)
        )?;
    }
    out.flush()?;
    let (errors, _) = rules.counts();
    let correlations = shown.iter().filter(|(_, c)| c.is_some()).count();
    let mut line = format!("{} rule(s), {correlations} correlation(s)", shown.len() - correlations);
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

/// What `rules show` found.
enum Shown<'a> {
    Rule(&'a CompiledRule),
    Correlation(&'a Correlation),
}

impl Shown<'_> {
    fn info(&self) -> &RuleInfo {
        match self {
            Shown::Rule(rule) => &rule.info,
            Shown::Correlation(correlation) => &correlation.info,
        }
    }
}

/// A rule or correlation by id, name or title, by id prefix, or by part of its title (any case),
/// as long as one answers.
fn find_any<'a>(rules: &'a Rules, query: &str) -> anyhow::Result<Shown<'a>> {
    let all: Vec<Shown<'a>> = rules
        .set
        .rules()
        .iter()
        .map(Shown::Rule)
        .chain(rules.set.correlations().iter().map(Shown::Correlation))
        .collect();
    let lower = query.to_lowercase();
    let tests: [&dyn Fn(&RuleInfo) -> bool; 3] = [
        &|info| {
            info.is_named(query)
                || info.id.as_deref().is_some_and(|i| i.eq_ignore_ascii_case(query))
        },
        &|info| info.id.as_deref().is_some_and(|i| i.starts_with(query)),
        &|info| info.title.to_lowercase().contains(&lower),
    ];
    for test in tests {
        let mut found: Vec<&Shown<'a>> = all.iter().filter(|s| test(s.info())).collect();
        match found.len() {
            0 => continue,
            1 => {
                return Ok(match found.remove(0) {
                    Shown::Rule(rule) => Shown::Rule(rule),
                    Shown::Correlation(c) => Shown::Correlation(c),
                });
            }
            _ => {
                let titles: Vec<&str> =
                    found.iter().take(5).map(|s| s.info().title.as_str()).collect();
                bail!(
                    "'{query}' answers to {} rules ({}{}); give more of it",
                    found.len(),
                    titles.join("; "),
                    if found.len() > 5 { "; ..." } else { "" }
                );
            }
        }
    }
    bail!(
        "no loaded rule or correlation has the id, name or title '{query}', or a title containing it"
    )
}

fn show(args: &RulesShowArgs) -> anyhow::Result<ExitCode> {
    let rules = ruleload::load(&args.selection)?;
    let shown = find_any(&rules, &args.id)?;
    let info = shown.info();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(out, "# {}", escape(&info.title))?;
    writeln!(out, "# id:        {}", info.id.as_deref().unwrap_or("-"))?;
    writeln!(out, "# level:     {}", info.level)?;
    match &shown {
        Shown::Rule(_) => writeln!(out, "# logsource: {}", info.logsource)?,
        Shown::Correlation(c) => {
            writeln!(out, "# correlation: {} of {}", c.kind.name(), c.members.join(", "))?
        }
    }
    if let Some(kind) = &info.detection_type {
        writeln!(out, "# detection_type: {}", escape(kind))?;
    }
    writeln!(out, "# file:      {}:{}", escape(&info.origin), info.line)?;
    let loaded = &rules.loaded;
    let text = match &shown {
        Shown::Rule(_) => loaded
            .rules
            .iter()
            .find(|l| l.rule.id == info.id && l.rule.title == info.title)
            .map(|l| document(&l.text.text, l.line)),
        Shown::Correlation(_) => loaded
            .correlations
            .iter()
            .find(|l| l.rule.title == info.title && l.line == info.line)
            .map(|l| document(&l.text.text, l.line)),
    }
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
    let mut rules = ruleload::load_only(&args.paths);
    // A rule without a level alerts at medium: say so, it is rarely meant.
    let unlevelled: Vec<shellward_sigma::Diagnostic> = rules
        .loaded
        .rules
        .iter()
        .filter(|l| l.rule.level.is_none())
        .map(|l| (&l.text, l.line, &l.rule.title))
        .chain(
            rules
                .loaded
                .correlations
                .iter()
                .filter(|l| l.rule.level.is_none())
                .map(|l| (&l.text, l.line, &l.rule.title)),
        )
        .map(|(text, line, title)| shellward_sigma::Diagnostic {
            origin: text.origin.to_string(),
            line: Some(line),
            column: None,
            severity: shellward_sigma::Severity::Warning,
            rule: Some(title.clone()),
            message: "no `level`: its alerts are medium".into(),
        })
        .collect();
    rules.diagnostics.extend(unlevelled);
    let regex_problems = rules.set.regex_problems(true);
    rules.diagnostics.extend(regex_problems);
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
