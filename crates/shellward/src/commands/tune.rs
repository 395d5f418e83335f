//! The tuning file in a run: found and checked before the rules load (its `sigma` files load with
//! them), applied to the findings, counted in the closing line.

use crate::args::{RuleSelection, TuningArgs};
use crate::report;
use shellward_engine::RuleSet;
use shellward_hunt::Finding;
use shellward_hunt::tuning::{Overrides, SuppressState, Tuning};
use std::cell::{Cell, RefCell};

/// The tuning file the arguments name (or `./shellward.toml`), and the rule selection with its
/// Sigma files added. A file with a mistake stops the run (its line and column in the message).
pub(crate) fn load(
    args: &TuningArgs,
    selection: &RuleSelection,
) -> anyhow::Result<(Option<Tuning>, RuleSelection)> {
    let tuning = if args.no_config { None } else { Tuning::find(args.config.as_deref())? };
    let mut selection = selection.clone();
    if let Some(tuning) = &tuning {
        selection.rules.extend(tuning.sigma_paths().iter().cloned());
    }
    Ok((tuning, selection))
}

/// A loaded tuning file with what applying it needs and what it did.
pub(crate) struct Tuner {
    tuning: Tuning,
    overrides: Overrides,
    explain: bool,
    /// Suppression groups, from one batch to the next.
    state: RefCell<SuppressState>,
    /// Alerts allowlisted.
    allowlisted: Cell<u64>,
    /// Alerts folded into another.
    suppressed: Cell<u64>,
}

impl Tuner {
    /// Prepares `tuning` for `set`, warning of rule names no rule answers to.
    pub(crate) fn new(tuning: Tuning, set: &RuleSet, explain: bool) -> Tuner {
        for unknown in tuning.unknown_rules(set) {
            report::warn(&unknown.to_string());
        }
        let overrides = tuning.overrides(set);
        Tuner {
            tuning,
            overrides,
            explain,
            state: RefCell::default(),
            allowlisted: Cell::new(0),
            suppressed: Cell::new(0),
        }
    }

    /// The findings to report, counting (and with `--explain-suppressed` listing) the others.
    pub(crate) fn apply<'r>(&'r self, findings: Vec<Finding<'r>>) -> Vec<Finding<'r>> {
        let tuned = self.tuning.apply(findings, &self.overrides, &mut self.state.borrow_mut());
        self.allowlisted.set(self.allowlisted.get() + tuned.allowlisted.len() as u64);
        self.suppressed.set(self.suppressed.get() + tuned.suppressed.len() as u64);
        if self.explain {
            for (finding, entry) in &tuned.allowlisted {
                report::note(&format!("allowlisted by {entry}: {}", describe(finding)));
            }
            for (finding, into) in &tuned.suppressed {
                report::note(&format!("suppressed into {into}: {}", describe(finding)));
            }
        }
        tuned.findings
    }

    /// `, N allowlisted, M suppressed (FILE)` for the closing line.
    pub(crate) fn closing(&self) -> String {
        format!(
            ", {} allowlisted, {} suppressed ({})",
            self.allowlisted.get(),
            self.suppressed.get(),
            self.tuning.path.display()
        )
    }
}

/// One line naming an alert: its time, host, rule and record.
fn describe(finding: &Finding<'_>) -> String {
    let event = &finding.event;
    format!(
        "{} {} {} [{}] ({} record {})",
        event.time.map_or_else(|| "-".to_owned(), shellward_hunt::rfc3339),
        event.host.as_deref().unwrap_or("-"),
        finding.rule.title,
        finding.rule.level,
        event.provenance.path,
        event.provenance.record
    )
}
