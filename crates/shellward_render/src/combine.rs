//! Several rules as one query, in the shape of the hand-written seeds: one block per rule (a
//! signal), each setting `DetectionType` (the rule's `detection_type`, else its title) and
//! `SeverityRating` (its level), joined and sorted.
//!
//! - KQL: a `let` per rule, `union` of them, `sort by Timestamp desc` (seed 000).
//! - SPL: one search with each rule's terms OR-ed, then `eval DetectionType=case(...)` and
//!   `SeverityRating=case(...)` over each rule's exact condition, and `where` a rule matched
//!   (seed 001). A rule whose condition search cannot state contributes its sourcetype and
//!   EventCode to the search; its `eval` condition decides.
//! - CQL: one `case { ... }` with a branch per rule, then `groupBy` (seed 002). Fields a
//!   group-by names get a default first: LogScale's groupBy drops events missing a field, which
//!   silently drops every registry event from the seed's group-by of file and process fields.
//!
//! Rules are ordered by level, most severe first (`case` takes the first branch that holds, so an
//! event two rules match is reported as the more severe), then by detection type and title. A rule
//! the target cannot express is left out and listed in a comment at the top, with the reason.

use crate::{RenderError, Target, cql, kql, spl};
use shellward_engine::{CompiledRule, Level};
use std::fmt::Write;

/// A combined query and the rules it leaves out.
#[derive(Debug)]
pub struct Combined {
    /// The query.
    pub query: String,
    /// Rules left out (`key`, why).
    pub skipped: Vec<(String, RenderError)>,
}

/// Options of a combined query.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only events this recent (`24h`, `7d`: a number and one of `s m h d`), in the targets
    /// whose query text can say so (KQL, SPL).
    pub lookback: Option<String>,
}

/// `rules` as one query in `target` (kql, spl or cql).
pub fn combine(
    rules: &[&CompiledRule],
    target: Target,
    options: &Options,
) -> Result<Combined, RenderError> {
    if let Some(lookback) = &options.lookback {
        let digits = lookback.trim_end_matches(['s', 'm', 'h', 'd']);
        if digits.is_empty()
            || lookback.len() != digits.len() + 1
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(RenderError::unsupported(
                target.name(),
                format!("the lookback {lookback:?} (write a number and s, m, h or d)"),
            ));
        }
    }
    let mut ordered: Vec<&CompiledRule> = rules.to_vec();
    ordered.sort_by(|a, b| {
        b.info
            .level
            .cmp(&a.info.level)
            .then_with(|| detection_type(a).cmp(detection_type(b)))
            .then_with(|| a.info.title.cmp(&b.info.title))
    });
    let mut skipped = Vec::new();
    let mut blocks = Vec::new();
    for rule in ordered {
        let block = crate::expressible(rule, target).and_then(|()| match target {
            Target::Kql => kql_block(rule, options),
            Target::Spl => spl_block(rule),
            Target::Cql => cql_block(rule),
            Target::Sigma | Target::Sqlite => Err(RenderError::unsupported(
                target.name(),
                "a combined query (render the rules one by one)",
            )),
        });
        match block {
            Ok(block) => blocks.push(block),
            Err(error) => skipped.push((rule.info.key().to_owned(), error)),
        }
    }
    let mut query = header(target, rules.len(), &skipped);
    for note in crate::notes_of(rules.iter().copied(), target) {
        query.push_str(&target.comment_line(note));
    }
    if blocks.is_empty() {
        return Err(RenderError::unsupported(target.name(), "any of the selected rules"));
    }
    match target {
        Target::Kql => kql_join(&mut query, &blocks),
        Target::Spl => spl_join(&mut query, &blocks, options),
        _ => cql_join(&mut query, &blocks),
    }
    Ok(Combined { query, skipped })
}

fn detection_type(rule: &CompiledRule) -> &str {
    rule.info.detection_type.as_deref().unwrap_or(&rule.info.title)
}

/// `Critical`, `High`, ... as the seeds write severities.
fn severity(level: Level) -> &'static str {
    match level {
        Level::Critical => "Critical",
        Level::High => "High",
        Level::Medium => "Medium",
        Level::Low => "Low",
        Level::Informational => "Informational",
    }
}

fn header(target: Target, total: usize, skipped: &[(String, RenderError)]) -> String {
    let mut out = target.comment_line(&format!(
        "shellward: {} of {total} rule(s), one block per rule, most severe first",
        total - skipped.len()
    ));
    for (key, error) in skipped {
        out.push_str(&target.comment_line(&format!("left out {key}: {error}")));
    }
    out
}

/// One rule's block and its parts (used by every target's join).
struct Block {
    name: String,
    text: String,
    condition: String,
    detection_type: String,
    severity: &'static str,
    title: String,
}

fn identifier(rule: &CompiledRule) -> String {
    let mut name: String =
        rule.info.title.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    name.truncate(60);
    let name = name.trim_matches('_').to_owned();
    let suffix: String = rule.info.id.as_deref().unwrap_or("").chars().take(8).collect();
    format!("{name}_{}", suffix.replace('-', ""))
}

fn kql_block(rule: &CompiledRule, options: &Options) -> Result<Block, RenderError> {
    let query = kql::render(rule)?;
    let mut lines = query.lines();
    let table = lines.next().unwrap_or_default();
    let mut text = table.to_owned();
    if let Some(lookback) = &options.lookback {
        let _ = write!(text, "\n| where Timestamp > ago({lookback})");
    }
    for line in lines {
        text.push('\n');
        text.push_str(line);
    }
    block(rule, text, String::new(), kql::literal)
}

fn block(
    rule: &CompiledRule,
    text: String,
    condition: String,
    literal: fn(&str) -> Result<String, RenderError>,
) -> Result<Block, RenderError> {
    Ok(Block {
        name: identifier(rule),
        text,
        condition,
        detection_type: literal(detection_type(rule))?,
        severity: severity(rule.info.level),
        title: literal(&rule.info.title)?,
    })
}

fn kql_join(out: &mut String, blocks: &[Block]) {
    for block in blocks {
        let _ = writeln!(
            out,
            "let {} = {}\n| extend DetectionType = {}, SeverityRating = \"{}\", RuleTitle = {};",
            block.name, block.text, block.detection_type, block.severity, block.title
        );
    }
    let names: Vec<&str> = blocks.iter().map(|b| b.name.as_str()).collect();
    let _ = write!(
        out,
        "union {}\n| project-reorder Timestamp, DeviceName, DetectionType, SeverityRating, RuleTitle\n| sort by Timestamp desc",
        names.join(", ")
    );
}

fn spl_block(rule: &CompiledRule) -> Result<Block, RenderError> {
    let (search, condition) = spl::selection(rule)?;
    block(rule, search, condition, spl::literal)
}

fn spl_join(out: &mut String, blocks: &[Block], options: &Options) {
    let mut search = String::from(spl::INDEX);
    if let Some(lookback) = &options.lookback {
        let _ = write!(search, " earliest=-{lookback}");
    }
    let terms: Vec<&str> = blocks.iter().map(|b| b.text.as_str()).collect();
    let conditions: Vec<&str> = blocks.iter().map(|b| b.condition.as_str()).collect();
    let _ = writeln!(
        out,
        "{search} (\n    {}\n){}",
        terms.join("\n    OR "),
        spl::stages(&conditions.join(" "))
    );
    let cases = |value: &dyn Fn(&Block) -> String| -> String {
        blocks
            .iter()
            .map(|b| format!("\n    {}, {}", b.condition, value(b)))
            .collect::<Vec<_>>()
            .join(",")
    };
    let _ =
        writeln!(out, "| eval DetectionType=case({}\n  )", cases(&|b| b.detection_type.clone()));
    let _ = writeln!(
        out,
        "| eval SeverityRating=case({}\n  )",
        cases(&|b| format!("\"{}\"", b.severity))
    );
    let _ = writeln!(out, "| eval RuleTitle=case({}\n  )", cases(&|b| b.title.clone()));
    let _ = write!(
        out,
        "| where isnotnull(DetectionType)\n| table _time, host, DetectionType, SeverityRating, RuleTitle, User, Image, CommandLine, ParentImage, ParentCommandLine, TargetFilename, TargetObject, Details\n| sort - _time"
    );
}

fn cql_block(rule: &CompiledRule) -> Result<Block, RenderError> {
    // The rule's query indented as a `case` branch.
    let text = cql::render(rule)?.replace('\n', "\n    ");
    block(rule, text, String::new(), cql::literal)
}

/// The fields the combined LogScale query groups by.
const CQL_GROUP: &str = "ComputerName, FileName, CommandLine, ParentBaseFileName, TargetFileName, RegObjectName, RegStringValue";

fn cql_join(out: &mut String, blocks: &[Block]) {
    out.push_str("case {\n");
    for block in blocks {
        let rank = match block.severity {
            "Critical" => 4,
            "High" => 3,
            "Medium" => 2,
            "Low" => 1,
            _ => 0,
        };
        let _ = writeln!(
            out,
            "  {}\n    | DetectionType := {} | SeverityRating := \"{}\" | SeverityRank := {rank} | RuleTitle := {};",
            block.text, block.detection_type, block.severity, block.title
        );
    }
    let _ = write!(
        out,
        "}}\n| default(field=[{CQL_GROUP}], value=\"-\")\n| groupBy([{CQL_GROUP}, DetectionType, SeverityRating, SeverityRank, RuleTitle], function=count(aid, as=EventCount))\n| sort([SeverityRank, EventCount], order=desc)"
    );
}
