//! The hunt pipeline as a library: decoded events in, alerts and correlation findings out.
//!
//! # Design
//!
//! ```text
//! decoders ─► RuleScreen (on each decoding thread: time window, rules, lineage's needs)
//!          ─► Hunt::push (input order: lineage, re-evaluation of what it added, first-seen)
//!          ─► Hunt::finish (alerts sorted by time, file, record, rule)
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
//!   their own (`generate`, `--min-level`).
//!
//! It is its own crate, between the decoders ([`shellward_sources`]) and the rules
//! ([`shellward_engine`]), because it needs both, while the engine is also used without decoders
//! (by the renderers), and the command line only parses arguments and writes what it returns.

mod alert;
mod checkpoint;
mod findings;
mod hunt;
mod live;
mod novelty;
mod store;

pub use alert::{SECTIONS, alert_id, alert_json, rfc3339, stable_id};
pub use checkpoint::{LiveState, RestoreError, rules_fingerprint};
pub use findings::{Correlated, Finding, correlation_alert_json, correlation_finding, findings};
pub use hunt::{Alert, Hunt, RuleScreen, Window};
pub use live::Live;
pub use novelty::{Novelty, NoveltyState};
pub use store::{Checkpoint, Store, StoreError};

use shellward_engine::{Lineage, RuleSet};
use shellward_event::Event;
use std::sync::Arc;

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
