//! The hunt pipeline as a library: decoded events in, alerts and correlation findings out.
//!
//! # Design
//!
//! ```text
//! decoders ─► RuleScreen (on each decoding thread: time window, rules, lineage's needs)
//!          ─► Hunt::push (input order: lineage, re-evaluation of what it added, first-seen)
//!          ─► Hunt::finish (alerts sorted by time, file, record, rule; spilled to disk past a budget)
//!          ─► findings (correlations over the sorted alerts; what each rule generates)
//! ```
//!
//! - **Screened where decoded.** [`RuleScreen`] is the decoders' [`shellward_sources::Screen`]:
//!   events that match nothing are dropped on the thread that decoded them, unless process lineage
//!   needs them (every process creation builds the process table).
//! - **State in input order.** [`Hunt`] keeps what depends on order: the process table
//!   ([`shellward_engine::Lineage`]), which may add ancestor fields and so new matches, and the
//!   first-seen values of rules that alert on novelty.
//! - **Findings last.** [`findings`] runs the correlation rules over every alert sorted by time, so
//!   a window does not depend on the order of the input files, and decides which alerts stand on
//!   their own (`generate`, `--min-level`). The sort holds the alerts' events up to a budget and
//!   spills the rest to temporary files ([`Hunt::spilling`]); the findings take the sorted alerts
//!   one at a time and keep only what they report.
//!
//! It is its own crate, between the decoders ([`shellward_sources`]) and the rules
//! ([`shellward_engine`]), because it needs both, while the engine is also used without decoders
//! (by the renderers), and the command line only parses arguments and writes what it returns.

mod alert;
mod attack;
mod checkpoint;
mod duration;
mod findings;
mod hunt;
mod live;
mod novelty;
mod ocsf;
mod raw_skip;
mod spill;
mod store;
pub mod tuning;

pub use alert::{AlertView, SECTIONS, alert_id, alert_json, rfc3339, stable_id};
pub use attack::attack_tags;
pub use checkpoint::{LiveState, RestoreError, rules_fingerprint};
pub use duration::{duration_seconds, format_duration};
pub use findings::{Correlated, Finding, correlation_alert_json, correlation_finding, findings};
pub use hunt::{Alert, Hunt, RuleScreen, Window};
pub use live::Live;
pub use novelty::{Novelty, NoveltyState};
pub use ocsf::{OCSF_VERSION, ocsf_finding};
pub use raw_skip::{RECORDS_BEFORE_SEARCH, RouteSkips};
pub use spill::SortedAlerts;
pub use store::{Checkpoint, Store, StoreError};

use shellward_engine::{Lineage, RuleSet};
use shellward_event::Event;
use std::sync::Arc;

/// What the state of a hunt had to let go of to keep its memory bounded on an endless stream.
/// Each limit is documented where it is kept: the process table's
/// ([`shellward_engine::lineage::Limits`]: 262,144 processes, 64 MiB of text, a week idle), the
/// first-seen values ([`Novelty`]: 262,144), the signals of one correlation group's window
/// ([`shellward_engine::correlation::MAX_WINDOW`]: 10,000) and the alerts a live hunt holds back
/// for the windows (100,000).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Processes the table forgot for room: their descendants get no ancestors from it.
    pub processes_forgotten: u64,
    /// First-seen values forgotten: each alerts again when seen again.
    pub values_forgotten: u64,
    /// Signals dropped from full correlation windows (the oldest of the group).
    pub signals_cut: u64,
    /// Alerts a live hunt gave the windows before the watermark passed them.
    pub alerts_forced: u64,
}

impl Limits {
    /// Which limits were reached, in the order of the fields.
    pub fn reached(&self) -> [bool; 4] {
        [
            self.processes_forgotten > 0,
            self.values_forgotten > 0,
            self.signals_cut > 0,
            self.alerts_forced > 0,
        ]
    }

    /// One line saying which limits were reached, or `None` if none was.
    pub fn line(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.processes_forgotten, "process(es) forgotten by the full lineage table"),
            (self.values_forgotten, "first-seen value(s) forgotten"),
            (self.signals_cut, "signal(s) cut from full correlation windows"),
            (self.alerts_forced, "alert(s) correlated early (too many waiting)"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        (!parts.is_empty()).then(|| format!("memory limits reached: {}", parts.join(", ")))
    }
}

/// Hunts over events already decoded, in order, with lineage: the findings of `rules` on them
/// (what `selftest` and tests use; a hunt over files screens on the decoding threads instead).
pub fn hunt_events<'r>(
    rules: &'r Arc<RuleSet>,
    events: impl IntoIterator<Item = Event>,
) -> Vec<Finding<'r>> {
    let mut hunt = Hunt::new(Arc::clone(rules), Some(Lineage::default()));
    for event in events {
        hunt.push_unscreened(event);
    }
    findings(rules, hunt.finish(), None)
}
