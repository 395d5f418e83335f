//! The exit status and the closing line that explains it.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | the run completed: every input and rule was read (whatever was found) |
//! | 1 | `--fail-on`: an alert at or above its level was found |
//! | 2 | usage error: bad arguments, an input or `--rules` path that does not exist, no rules to run, or with `--strict` a rule that failed to load; nothing was run |
//! | 3 | incomplete: some input could not be read, nothing was read at all, some rule failed to load, or spilled alerts could not be read back; everything else was processed and reported |
//!
//! When several hold, the status is the first of 2, 3, 1: a run that did not read everything says
//! so even if it found alerts (the alerts are still written), as grep's trouble status outranks its
//! match status. The closing line names every reason, so none is hidden by another.

use std::process::ExitCode;

/// Why a run that completed did not end with status 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reason {
    /// Records or files that could not be read (status 3).
    Unreadable { problems: u64, files: usize },
    /// No event was read at all (status 3).
    NothingRead,
    /// Rules that could not be loaded and did not run (status 3).
    RulesNotLoaded(usize),
    /// Alerts spilled to a temporary file that could not be read back (status 3).
    AlertsLost,
    /// `--fail-on LEVEL` saw this many alerts at or above it (status 1).
    FailOn { level: shellward_engine::Level, alerts: usize },
}

impl Reason {
    fn code(&self) -> u8 {
        match self {
            Reason::FailOn { .. } => 1,
            _ => 3,
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Unreadable { problems, files } => {
                write!(f, "{problems} unreadable record(s) or file(s) in {files} file(s)")
            }
            Reason::NothingRead => write!(f, "no events were read"),
            Reason::RulesNotLoaded(n) => write!(f, "{n} rule(s) could not be loaded"),
            Reason::AlertsLost => write!(f, "alerts spilled to a temporary file were lost"),
            Reason::FailOn { level, alerts } => {
                write!(f, "{alerts} alert(s) at or above --fail-on {level}")
            }
        }
    }
}

/// The reasons a run collected; its status is the highest-precedence one.
#[derive(Debug, Default)]
pub(crate) struct Status {
    reasons: Vec<Reason>,
}

impl Status {
    /// Adds a reason.
    pub(crate) fn add(&mut self, reason: Reason) {
        self.reasons.push(reason);
    }

    /// Adds `--fail-on`'s reason when `alerts` (the count at or above `level`) is not zero.
    pub(crate) fn fail_on(&mut self, level: shellward_engine::Level, alerts: usize) {
        if alerts > 0 {
            self.add(Reason::FailOn { level, alerts });
        }
    }

    /// The exit code: 3 over 1 over 0.
    pub(crate) fn code(&self) -> u8 {
        let codes = self.reasons.iter().map(Reason::code);
        if codes.clone().any(|c| c == 3) { 3 } else { codes.max().unwrap_or(0) }
    }

    /// The closing line (`exit 3: ...; ...`), or `None` for status 0.
    pub(crate) fn closing_line(&self) -> Option<String> {
        if self.reasons.is_empty() {
            return None;
        }
        let mut reasons: Vec<&Reason> = self.reasons.iter().collect();
        reasons.sort_by_key(|r| std::cmp::Reverse(r.code()));
        let reasons: Vec<String> = reasons.iter().map(|r| r.to_string()).collect();
        Some(format!("exit {}: {}", self.code(), reasons.join("; ")))
    }

    /// Prints the closing line (if any) and gives the exit code.
    pub(crate) fn finish(self) -> ExitCode {
        if let Some(line) = self.closing_line() {
            crate::report::note(&line);
        }
        ExitCode::from(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shellward_engine::Level;

    #[test]
    fn precedence_and_closing_line() {
        let mut status = Status::default();
        assert_eq!((status.code(), status.closing_line()), (0, None));
        status.add(Reason::FailOn { level: Level::High, alerts: 17 });
        assert_eq!(status.code(), 1);
        status.add(Reason::Unreadable { problems: 1, files: 1 });
        assert_eq!(status.code(), 3);
        assert_eq!(
            status.closing_line().as_deref(),
            Some(
                "exit 3: 1 unreadable record(s) or file(s) in 1 file(s); 17 alert(s) at or above --fail-on high"
            )
        );
    }
}
