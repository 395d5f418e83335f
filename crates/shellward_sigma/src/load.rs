//! Reading rule files and directories into parsed rules and diagnostics.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use rsigma_parser::{CorrelationRule, FilterRule, SigmaRule, parse_sigma_yaml};

use crate::diagnostic::{Diagnostic, Severity};
use crate::text::{Origin, RuleText};

/// A detection rule with the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    /// The parsed rule.
    pub rule: SigmaRule,
    /// The file's text and origin.
    pub text: Arc<RuleText>,
    /// The 1-based line where the rule's document starts (its `title:`).
    pub line: u32,
}

/// A correlation rule with the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedCorrelation {
    /// The parsed correlation.
    pub rule: CorrelationRule,
    /// The file's text and origin.
    pub text: Arc<RuleText>,
    /// The 1-based line where the document starts.
    pub line: u32,
}

/// A filter with the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedFilter {
    /// The parsed filter.
    pub rule: FilterRule,
    /// The file's text and origin.
    pub text: Arc<RuleText>,
    /// The 1-based line where the document starts.
    pub line: u32,
}

/// Everything read from a set of rule paths.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Detection rules, in path order then document order.
    pub rules: Vec<LoadedRule>,
    /// Correlation rules.
    pub correlations: Vec<LoadedCorrelation>,
    /// Filters.
    pub filters: Vec<LoadedFilter>,
    /// Problems, in path order.
    pub diagnostics: Vec<Diagnostic>,
    /// How many files were read.
    pub files: usize,
}

impl Loaded {
    /// Appends another load's results.
    pub fn extend(&mut self, other: Loaded) {
        self.rules.extend(other.rules);
        self.correlations.extend(other.correlations);
        self.filters.extend(other.filters);
        self.diagnostics.extend(other.diagnostics);
        self.files += other.files;
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Loads every `.yml`/`.yaml` file under the given files and directories (sorted by path within
/// a directory), parsing files in parallel. A path that does not exist is an error diagnostic.
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    let mut files = Vec::new();
    let mut loaded = Loaded::default();
    for path in paths {
        collect_files(path, &mut files, &mut loaded.diagnostics);
    }
    let parts: Vec<Loaded> = files
        .par_iter()
        .map(|path| match std::fs::read_to_string(path) {
            Ok(text) => load_text(Origin::File(path.clone()), text),
            Err(error) => Loaded {
                diagnostics: vec![file_error(path, format!("cannot read: {error}"))],
                files: 1,
                ..Loaded::default()
            },
        })
        .collect();
    // Sized once: a rule is large, and growing the list by doubling copied it a few times over.
    loaded.rules.reserve_exact(parts.iter().map(|part| part.rules.len()).sum());
    for part in parts {
        loaded.extend(part);
    }
    loaded
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>, diagnostics: &mut Vec<Diagnostic>) {
    if path.is_file() {
        files.push(path.to_path_buf());
        return;
    }
    if !path.is_dir() {
        diagnostics.push(file_error(path, "no such file or directory".to_string()));
        return;
    }
    let walker = walkdir::WalkDir::new(path).sort_by_file_name().follow_links(true);
    for entry in walker {
        match entry {
            Ok(entry) if entry.file_type().is_file() && is_yaml(entry.path()) => {
                files.push(entry.into_path());
            }
            Ok(_) => {}
            Err(error) => {
                let at = error.path().unwrap_or(path).to_path_buf();
                diagnostics.push(file_error(&at, error.to_string()));
            }
        }
    }
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("yml") || ext.eq_ignore_ascii_case("yaml"))
}

fn file_error(path: &Path, message: String) -> Diagnostic {
    Diagnostic {
        origin: path.display().to_string(),
        line: None,
        column: None,
        severity: Severity::Error,
        rule: None,
        message,
    }
}

/// Parses one rule file's text (one or more YAML documents).
pub fn load_text(origin: Origin, text: String) -> Loaded {
    let text = RuleText::new(origin, text);
    let mut loaded = Loaded { files: 1, ..Loaded::default() };
    let collection = match parse_sigma_yaml(&text.text) {
        Ok(collection) => collection,
        Err(error) => {
            loaded.diagnostics.push(parse_error(&text, &error.to_string()));
            return loaded;
        }
    };
    for message in &collection.errors {
        loaded.diagnostics.push(parse_error(&text, message));
    }
    for rule in collection.rules {
        let line = text.document_line(&rule.title);
        loaded.rules.push(LoadedRule { rule, text: Arc::clone(&text), line });
    }
    for rule in collection.correlations {
        let line = text.document_line(&rule.title);
        loaded.correlations.push(LoadedCorrelation { rule, text: Arc::clone(&text), line });
    }
    for rule in collection.filters {
        let line = text.document_line(&rule.title);
        loaded.filters.push(LoadedFilter { rule, text: Arc::clone(&text), line });
    }
    loaded
}

/// Turns one of the parser's error strings into a diagnostic, recovering the YAML position from
/// `at line N column M` or pointing at the `condition` key for condition errors.
fn parse_error(text: &RuleText, message: &str) -> Diagnostic {
    let (mut line, mut column) =
        yaml_position(message).map_or((None, None), |(l, c)| (Some(l), Some(c)));
    if line.is_none()
        && message.contains("Condition")
        && let Some((l, c)) = text.line_of("condition:", 1)
    {
        line = Some(l);
        column = Some(c);
    }
    if line.is_none()
        && let Some(modifier) = quoted_after(message, "Unknown modifier '")
        && let Some((l, c)) = text.line_of(&format!("|{modifier}"), 1)
    {
        line = Some(l);
        column = Some(c + 1);
    }
    Diagnostic {
        origin: text.origin.to_string(),
        line,
        column,
        severity: Severity::Error,
        rule: None,
        message: message.to_string(),
    }
}

fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let start = message.find(prefix)? + prefix.len();
    let rest = &message[start..];
    Some(&rest[..rest.find('\'')?])
}

/// Finds the first `line N column M` (where the parser stopped) in a YAML error message.
fn yaml_position(message: &str) -> Option<(u32, u32)> {
    let at = message.find("line ")?;
    let mut words = message[at..].split_whitespace();
    let _ = words.next();
    let line = words.next()?.trim_end_matches(',').parse().ok()?;
    let column = match (words.next(), words.next()) {
        (Some("column"), Some(n)) => n.trim_end_matches(|c: char| !c.is_ascii_digit()).parse().ok(),
        _ => None,
    }
    .unwrap_or(1);
    Some((line, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_errors_keep_their_position() {
        let loaded = load_text(
            Origin::Builtin("broken.yml".into()),
            "title: x\ndetection:\n  sel: [\n".into(),
        );
        assert_eq!(loaded.rules.len(), 0);
        let diagnostic = &loaded.diagnostics[0];
        assert!(diagnostic.line.is_some(), "{diagnostic}");
        assert!(diagnostic.to_string().starts_with("builtin:broken.yml:"), "{diagnostic}");
    }

    #[test]
    fn unknown_modifier_points_at_its_line() {
        let text = "title: t\nlogsource:\n  product: windows\ndetection:\n  sel:\n    Image|endswidth: x\n  condition: sel\n";
        let loaded = load_text(Origin::Builtin("m.yml".into()), text.into());
        let diagnostic = &loaded.diagnostics[0];
        assert_eq!(diagnostic.line, Some(6), "{diagnostic}");
        assert!(diagnostic.message.contains("endswidth"));
    }

    #[test]
    fn condition_errors_point_at_the_condition() {
        let text = "title: t\nlogsource:\n  product: windows\ndetection:\n  sel:\n    Image: x\n  condition: sel and and\n";
        let loaded = load_text(Origin::Builtin("c.yml".into()), text.into());
        assert_eq!(loaded.diagnostics[0].line, Some(7), "{}", loaded.diagnostics[0]);
    }

    #[test]
    fn multi_document_rules_know_their_line() {
        let text = "title: a\nlogsource: {product: windows}\ndetection: {sel: {A: 1}, condition: sel}\n---\ntitle: b\nlogsource: {product: windows}\ndetection: {sel: {A: 2}, condition: sel}\n";
        let loaded = load_text(Origin::Builtin("d.yml".into()), text.into());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let lines: Vec<u32> = loaded.rules.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 5]);
    }
}
