//! Messages on standard error: problems found in the input, and the closing summary.
//!
//! A broken file can hold thousands of bad records, so each file gets at most
//! [`PER_FILE`] messages and then a count; the summary always has the totals.

#![allow(clippy::print_stderr)]

use shellward_sources::{Problem, Severity};
use std::collections::HashMap;
use std::sync::Arc;

/// How many problems are printed for one file.
const PER_FILE: usize = 10;

/// Prints an error that ends the run.
pub(crate) fn error(message: &str) {
    eprintln!("shellward: error: {message}");
}

/// Prints a warning.
pub(crate) fn warn(message: &str) {
    eprintln!("shellward: warning: {message}");
}

/// Prints a note.
pub(crate) fn note(message: &str) {
    eprintln!("shellward: {message}");
}

/// Prints a rule diagnostic (`file:line:col: error: rule "title": message`).
pub(crate) fn diagnostic(diagnostic: &shellward_sigma::Diagnostic) {
    eprintln!("{}", escape(&diagnostic.to_string()));
}

/// Counts and prints input problems.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    verbose: bool,
    per_file: HashMap<Arc<str>, usize>,
    /// How many errors, warnings and notes were seen.
    pub(crate) errors: u64,
    pub(crate) warnings: u64,
    pub(crate) notes: u64,
    error_files: std::collections::BTreeSet<Arc<str>>,
    suppressed: std::collections::BTreeMap<Arc<str>, usize>,
}

impl Problems {
    pub(crate) fn new(verbose: bool) -> Self {
        Problems { verbose, ..Problems::default() }
    }

    /// Records and (within limits) prints a problem.
    pub(crate) fn add(&mut self, problem: &Problem) {
        let label = match problem.severity {
            Severity::Error => {
                self.errors += 1;
                self.error_files.insert(Arc::clone(&problem.path));
                "error"
            }
            Severity::Warning => {
                self.warnings += 1;
                "warning"
            }
            Severity::Note => {
                self.notes += 1;
                if !self.verbose {
                    return;
                }
                "skipped"
            }
        };
        let seen = self.per_file.entry(Arc::clone(&problem.path)).or_default();
        *seen += 1;
        if *seen <= PER_FILE {
            eprintln!("shellward: {label}: {}", escape(&problem.to_string()));
        } else {
            *self.suppressed.entry(Arc::clone(&problem.path)).or_default() += 1;
        }
    }

    /// The status the input problems call for, after `events` events were read: unreadable input,
    /// or nothing read at all (said here, with why, if it can be told).
    pub(crate) fn status(&self, events: u64) -> crate::status::Status {
        use crate::status::Reason;
        let mut status = crate::status::Status::default();
        if self.errors > 0 {
            status.add(Reason::Unreadable { problems: self.errors, files: self.error_files.len() });
        }
        if events == 0 {
            let why = match (self.notes, self.warnings) {
                (0, 0) => String::new(),
                (0, _) => " (see the warnings above)".to_owned(),
                (n, _) if self.verbose => format!(" ({n} file(s) of unknown format skipped)"),
                (n, _) => format!(" ({n} file(s) of unknown format skipped; -v lists them)"),
            };
            eprintln!("shellward: warning: no events were read from the input{why}");
            status.add(Reason::NothingRead);
        }
        status
    }

    /// Prints the closing summary.
    pub(crate) fn summary(&self, files: usize, events: u64) {
        for (path, count) in &self.suppressed {
            eprintln!("shellward: ... and {count} more problem(s) in {}", escape(path));
        }
        let mut line = format!("shellward: {files} file(s), {events} event(s)");
        if self.errors > 0 {
            line.push_str(&format!(
                ", {} unreadable record(s) or file(s) in {} file(s)",
                self.errors,
                self.error_files.len()
            ));
        }
        if self.warnings > 0 {
            line.push_str(&format!(", {} warning(s)", self.warnings));
        }
        if self.notes > 0 {
            line.push_str(&format!(", {} file(s) of unknown format skipped", self.notes));
            if !self.verbose {
                line.push_str(" (-v lists them)");
            }
        }
        eprintln!("{line}");
    }
}

/// Escapes control characters so that text from the input (file names, record contents in error
/// messages) cannot move the cursor or recolour a terminal, and the invisible formatting characters
/// (bidirectional overrides such as U+202E, zero-width spaces) that make `gpj.exe` read `exe.jpg`.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || is_invisible_format(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}
