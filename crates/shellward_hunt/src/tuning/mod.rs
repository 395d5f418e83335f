//! Tuning without editing rules: `shellward.toml`.
//!
//! ```toml
//! [scopes]                          # named groups of hosts (wildcards, case-insensitive)
//! dev = ["dev-*", "*.test.corp.example"]
//!
//! [[allow]]                         # alerts not reported: every key given must hold
//! rule = "web_server_spawns_shell"  # a rule's id, name or title; or detection_type = "..."
//! parent_command_line = '*\Octopus\Tentacle\*'   # or { regex = '...' }
//! reason = "Octopus deployment agent"
//!
//! [[level]]                         # the level alerts get on some hosts
//! scope = "dev"
//! detection_type = "WebShell_ChildProcess"
//! level = "low"
//!
//! [[suppress]]                      # repeats folded into the first alert
//! rule = "Web Server Spawns Recon Tool"
//! fields = ["CommandLine"]          # besides rule and host
//! window = "1h"
//!
//! sigma = ["filters/"]              # extra Sigma files (filters), beside this file
//! ```
//!
//! Every entry selects alerts by `rule`, `detection_type`, `scope` and `host` (none given: all).
//! `[[allow]]` also tests the event: `image`, `command_line`, `parent`, `parent_command_line`,
//! `path` (`TargetFilename`, `FilePath`, `ImageLoaded` or `TargetObject`) and `user`.
//!
//! Order: allowlisted alerts are dropped first; then the last `[[level]]` entry that selects an
//! alert sets its level; then an alert a `[[suppress]]` entry selects is folded into the first
//! alert of the same rule, host and fields less than `window` before it, which reports the count
//! and the first and last times. Alerts are taken in time order, so the result does not depend on
//! the order of the inputs.

mod config;
mod pattern;
mod suppress;

use crate::Finding;
use config::{Entry, File};
use pattern::{Matcher, Pattern};
use shellward_engine::{Level, RuleInfo, RuleSet};
use shellward_event::Event;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

pub use suppress::{Repeats, SuppressState};

/// The file looked for in the working directory when no `--config` is given.
pub const FILE_NAME: &str = "shellward.toml";

/// A mistake in a tuning file, with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct TuningError {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Which alerts an entry is about.
#[derive(Debug)]
struct Select {
    /// Lower-cased id, name or title.
    rule: Option<String>,
    detection_type: Option<String>,
    scope: Option<usize>,
    host: Option<Matcher>,
}

/// An allowlist entry.
#[derive(Debug)]
struct Allow {
    select: Select,
    tests: Vec<(&'static [&'static str], Matcher)>,
    /// `allow[n]` and the reason, for `--explain-suppressed`.
    name: String,
}

/// A level override.
#[derive(Debug)]
struct LevelRule {
    select: Select,
    level: Level,
}

/// A loaded tuning file. See the module documentation.
#[derive(Debug)]
pub struct Tuning {
    /// Where it was read from.
    pub path: PathBuf,
    scopes: Vec<(String, Vec<Matcher>)>,
    allow: Vec<Allow>,
    levels: Vec<LevelRule>,
    suppress: Vec<suppress::Rule>,
    sigma: Vec<PathBuf>,
    /// Rule and detection type references with their positions, checked against a rule set.
    rule_refs: Vec<(Reference, TuningError)>,
}

/// What an entry names.
#[derive(Debug)]
enum Reference {
    /// A rule's id, name or title (lower case).
    Rule(String),
    /// A detection type.
    DetectionType(String),
}

/// What [`Tuning::apply`] did.
#[derive(Debug, Default)]
pub struct Tuned<'r> {
    /// What is reported.
    pub findings: Vec<Finding<'r>>,
    /// Alerts an allowlist entry dropped, with the entry (`allow[2] (reason)`).
    pub allowlisted: Vec<(Finding<'r>, String)>,
    /// Alerts folded into an earlier one, with its id.
    pub suppressed: Vec<(Finding<'r>, String)>,
}

/// Rules with their levels overridden, owned apart so findings can point at them.
#[derive(Debug, Default)]
pub struct Overrides {
    infos: Vec<RuleInfo>,
    /// (rule key, level) → index in `infos`.
    index: HashMap<(String, Level), usize>,
}

impl Tuning {
    /// Reads and checks a tuning file.
    pub fn load(path: &Path) -> Result<Tuning, TuningError> {
        let text = std::fs::read_to_string(path).map_err(|e| TuningError {
            path: path.display().to_string(),
            line: 1,
            column: 1,
            message: format!("cannot read it: {e}"),
        })?;
        Tuning::parse(path, &text)
    }

    /// `explicit` (`--config`), else `shellward.toml` in the working directory if there is one.
    pub fn find(explicit: Option<&Path>) -> Result<Option<Tuning>, TuningError> {
        match explicit {
            Some(path) => Tuning::load(path).map(Some),
            None if Path::new(FILE_NAME).is_file() => Tuning::load(Path::new(FILE_NAME)).map(Some),
            None => Ok(None),
        }
    }

    /// Checks a tuning file's text (`path` names it in errors and anchors `sigma` paths).
    pub fn parse(path: &Path, text: &str) -> Result<Tuning, TuningError> {
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = position(text, span.start);
            TuningError { path: path.display().to_string(), line, column, message }
        };
        let file: File = toml::from_str(text)
            .map_err(|e| at(e.span().unwrap_or(0..0), e.message().trim_end().to_owned()))?;
        let matcher = |pattern: &Spanned<Pattern>| {
            Matcher::new(pattern.get_ref()).map_err(|e| at(pattern.span(), e))
        };
        let mut tuning = Tuning {
            path: path.to_owned(),
            scopes: Vec::new(),
            allow: Vec::new(),
            levels: Vec::new(),
            suppress: Vec::new(),
            sigma: Vec::new(),
            rule_refs: Vec::new(),
        };
        for (name, patterns) in &file.scopes {
            let matchers = patterns.iter().map(matcher).collect::<Result<_, _>>()?;
            tuning.scopes.push((name.clone(), matchers));
        }
        let select = |entry: &Spanned<Entry>, tuning: &mut Tuning| -> Result<Select, TuningError> {
            let e = entry.get_ref();
            let scope = match &e.scope {
                Some(scope) => {
                    Some(tuning.scopes.iter().position(|(n, _)| n == scope.get_ref()).ok_or_else(
                        || {
                            at(
                                scope.span(),
                                format!("no scope \"{}\" in [scopes]", scope.get_ref()),
                            )
                        },
                    )?)
                }
                None => None,
            };
            let rule = e.rule.as_ref().map(|r| r.get_ref().to_lowercase());
            if let Some(r) = &e.rule {
                let error =
                    at(r.span(), format!("no rule has the id, name or title \"{}\"", r.get_ref()));
                tuning.rule_refs.push((Reference::Rule(r.get_ref().to_lowercase()), error));
            }
            if let Some(d) = &e.detection_type {
                let error =
                    at(d.span(), format!("no rule has the detection_type \"{}\"", d.get_ref()));
                tuning.rule_refs.push((Reference::DetectionType(d.get_ref().clone()), error));
            }
            Ok(Select {
                rule,
                detection_type: e.detection_type.as_ref().map(|d| d.get_ref().clone()),
                scope,
                host: e.host.as_ref().map(matcher).transpose()?,
            })
        };
        let refuse = |entry: &Spanned<Entry>, table: &str, keys: &[(&str, bool)]| match keys
            .iter()
            .find(|(_, given)| *given)
        {
            Some((key, _)) => Err(at(entry.span(), format!("[[{table}]] takes no `{key}`"))),
            None => Ok(()),
        };
        for (n, entry) in file.allow.iter().enumerate() {
            let e = entry.get_ref();
            refuse(
                entry,
                "allow",
                &[
                    ("level", e.level.is_some()),
                    ("fields", e.fields.is_some()),
                    ("window", e.window.is_some()),
                ],
            )?;
            let select = select(entry, &mut tuning)?;
            let mut tests = Vec::new();
            for (fields, pattern) in [
                (&["Image"][..], &e.image),
                (&["CommandLine"][..], &e.command_line),
                (&["ParentImage"][..], &e.parent),
                (&["ParentCommandLine"][..], &e.parent_command_line),
                (&["TargetFilename", "FilePath", "ImageLoaded", "TargetObject"][..], &e.path),
                (&["User"][..], &e.user),
            ] {
                if let Some(pattern) = pattern {
                    tests.push((fields, matcher(pattern)?));
                }
            }
            let name = match &e.reason {
                Some(reason) => format!("allow[{}] ({reason})", n + 1),
                None => format!("allow[{}]", n + 1),
            };
            tuning.allow.push(Allow { select, tests, name });
        }
        for entry in &file.level {
            let e = entry.get_ref();
            refuse(
                entry,
                "level",
                &value_keys(e, &[("fields", e.fields.is_some()), ("window", e.window.is_some())]),
            )?;
            let Some(level) = &e.level else {
                return Err(at(entry.span(), "[[level]] needs `level`".into()));
            };
            let parsed = level.get_ref().parse::<Level>().map_err(|_| {
                at(
                    level.span(),
                    format!(
                        "\"{}\" is not a level (informational, low, medium, high, critical)",
                        level.get_ref()
                    ),
                )
            })?;
            let select = select(entry, &mut tuning)?;
            tuning.levels.push(LevelRule { select, level: parsed });
        }
        for entry in &file.suppress {
            let e = entry.get_ref();
            refuse(entry, "suppress", &value_keys(e, &[("level", e.level.is_some())]))?;
            let Some(window) = &e.window else {
                return Err(at(entry.span(), "[[suppress]] needs `window`".into()));
            };
            let ms = duration_ms(window.get_ref()).ok_or_else(|| {
                at(
                    window.span(),
                    format!("\"{}\" is not a duration (90s, 30m, 1h, 7d)", window.get_ref()),
                )
            })?;
            let select = select(entry, &mut tuning)?;
            let fields = e.fields.clone().unwrap_or_default();
            tuning.suppress.push(suppress::Rule { select, fields, window_ms: ms });
        }
        let base = path.parent().unwrap_or(Path::new(""));
        tuning.sigma = file.sigma.iter().map(|p| base.join(p.get_ref())).collect();
        Ok(tuning)
    }

    /// Extra Sigma files to load with the rules.
    pub fn sigma_paths(&self) -> &[PathBuf] {
        &self.sigma
    }

    /// Counts of entries: (allow, level, suppress, scopes).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        (self.allow.len(), self.levels.len(), self.suppress.len(), self.scopes.len())
    }

    /// The rules and detection types named that no rule of `set` answers to, as located errors
    /// (a typo leaves an entry without effect, so callers warn).
    pub fn unknown_rules(&self, set: &RuleSet) -> Vec<TuningError> {
        let infos: Vec<&RuleInfo> = all_infos(set).collect();
        let known = |reference: &Reference| match reference {
            Reference::Rule(name) => infos.iter().any(|info| names(info, name)),
            Reference::DetectionType(d) => {
                infos.iter().any(|info| info.detection_type.as_deref() == Some(d.as_str()))
            }
        };
        self.rule_refs
            .iter()
            .filter(|(reference, _)| !known(reference))
            .map(|(_, error)| error.clone())
            .collect()
    }

    /// The rules of `set` with the levels the `[[level]]` entries may give them.
    pub fn overrides(&self, set: &RuleSet) -> Overrides {
        let mut overrides = Overrides::default();
        for info in all_infos(set) {
            for rule in &self.levels {
                if rule.select.rule_applies(info) && rule.level != info.level {
                    let key = (info.key().to_owned(), rule.level);
                    if !overrides.index.contains_key(&key) {
                        let mut changed = info.clone();
                        changed.level = rule.level;
                        overrides.index.insert(key, overrides.infos.len());
                        overrides.infos.push(changed);
                    }
                }
            }
        }
        overrides
    }

    fn in_scope(&self, scope: usize, host: Option<&str>) -> bool {
        let host = host.unwrap_or("");
        self.scopes.get(scope).is_some_and(|(_, patterns)| patterns.iter().any(|p| p.matches(host)))
    }

    fn selects(&self, select: &Select, rule: &RuleInfo, event: &Event) -> bool {
        let host = event.host.as_deref();
        select.rule_applies(rule)
            && select.scope.is_none_or(|s| self.in_scope(s, host))
            && select.host.as_ref().is_none_or(|m| m.matches(host.unwrap_or("")))
    }

    /// The allowlist entry that drops this alert, if any.
    pub fn allowed_by(&self, finding: &Finding<'_>) -> Option<&str> {
        self.allow
            .iter()
            .find(|allow| {
                self.selects(&allow.select, finding.rule, &finding.event)
                    && allow.tests.iter().all(|(fields, matcher)| {
                        fields
                            .iter()
                            .any(|f| finding.event.get_str(f).is_some_and(|v| matcher.matches(v)))
                    })
            })
            .map(|allow| allow.name.as_str())
    }

    /// The level the `[[level]]` entries give this alert, if they change it.
    fn level_of(&self, finding: &Finding<'_>) -> Option<Level> {
        self.levels
            .iter()
            .rev()
            .find(|rule| self.selects(&rule.select, finding.rule, &finding.event))
            .map(|rule| rule.level)
            .filter(|level| *level != finding.rule.level)
    }

    /// Allowlists, level overrides and suppression applied to time-ordered findings; `state`
    /// carries the suppression groups from one call to the next (a live hunt's batches).
    pub fn apply<'r>(
        &self,
        findings: Vec<Finding<'r>>,
        overrides: &'r Overrides,
        state: &mut SuppressState,
    ) -> Tuned<'r> {
        let mut tuned = Tuned::default();
        let mut kept = Vec::with_capacity(findings.len());
        for mut finding in findings {
            if let Some(name) = self.allowed_by(&finding) {
                tuned.allowlisted.push((finding, name.to_owned()));
                continue;
            }
            if let Some(level) = self.level_of(&finding)
                && let Some(&i) = overrides.index.get(&(finding.rule.key().to_owned(), level))
            {
                finding.rule = &overrides.infos[i];
            }
            kept.push(finding);
        }
        let (findings, suppressed) = suppress::fold(self, kept, state);
        tuned.findings = findings;
        tuned.suppressed = suppressed;
        tuned
    }
}

impl Select {
    fn rule_applies(&self, rule: &RuleInfo) -> bool {
        self.rule.as_deref().is_none_or(|name| names(rule, name))
            && self
                .detection_type
                .as_deref()
                .is_none_or(|d| rule.detection_type.as_deref() == Some(d))
    }
}

/// Whether `name` (lower case) is the rule's id, name or title.
fn names(rule: &RuleInfo, name: &str) -> bool {
    rule.id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(name))
        || rule.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name))
        || rule.title.to_lowercase() == name
}

fn all_infos(set: &RuleSet) -> impl Iterator<Item = &RuleInfo> {
    set.rules().iter().map(|r| &r.info).chain(set.correlations().iter().map(|c| &c.info))
}

/// The allowlist-only keys given, with `others`.
fn value_keys<'a>(e: &Entry, others: &[(&'a str, bool)]) -> Vec<(&'a str, bool)> {
    let mut keys = vec![
        ("image", e.image.is_some()),
        ("command_line", e.command_line.is_some()),
        ("parent", e.parent.is_some()),
        ("parent_command_line", e.parent_command_line.is_some()),
        ("path", e.path.is_some()),
        ("user", e.user.is_some()),
        ("reason", e.reason.is_some()),
    ];
    keys.extend_from_slice(others);
    keys
}

/// 1-based line and column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// `90s`, `30m`, `1h`, `7d`, `2w` in milliseconds.
fn duration_ms(text: &str) -> Option<i64> {
    let seconds = crate::duration_seconds(text)?.ok()?;
    (seconds >= 0).then(|| seconds.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_durations() {
        assert_eq!(position("ab\ncd", 4), (2, 2));
        assert_eq!(position("", 0), (1, 1));
        assert_eq!(duration_ms("90s"), Some(90_000));
        assert_eq!(duration_ms("1h"), Some(3_600_000));
        assert_eq!(duration_ms("1y"), None);
        assert_eq!(duration_ms("h"), None);
    }
}
