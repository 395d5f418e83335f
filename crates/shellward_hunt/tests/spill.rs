//! A hunt that spills its alerts to temporary files ([`Hunt::spilling_after`]) reports exactly
//! what one holding them in memory reports: the same findings, correlation firings included, in
//! the same order, with the same ids and JSON.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use shellward_engine::{Lineage, RuleSet};
use shellward_event::Event;
use shellward_hunt::{Hunt, RuleScreen, Window, findings};
use shellward_sigma::load_paths;
use shellward_sources::{Marks, Problem, ReadOptions, Screen, Sink, read_all};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

/// Screened events into the hunt.
struct Hunting(Hunt);

impl Sink for Hunting {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        self.0.push_unscreened(event);
        ControlFlow::Continue(())
    }

    fn screened(&mut self, event: Event, rules: Marks) -> ControlFlow<()> {
        self.0.push(event, rules);
        ControlFlow::Continue(())
    }

    fn problem(&mut self, _: Problem) {}
}

/// The findings of a hunt over `inputs` (each as its id and its JSON), and how many alerts the
/// hunt held before the findings were chosen.
fn reported(set: &Arc<RuleSet>, inputs: &[PathBuf], budget: Option<usize>) -> (Vec<String>, usize) {
    let screen = Arc::new(RuleScreen::new(Arc::clone(set), Window::default(), true));
    let options = ReadOptions {
        screen: Some(Arc::clone(&screen) as Arc<dyn Screen>),
        ..ReadOptions::with_threads(2)
    };
    let hunt = Hunt::new(Arc::clone(set), Some(Lineage::default()));
    let mut sink = Hunting(match budget {
        Some(budget) => hunt.spilling_after(budget),
        None => hunt,
    });
    let (files, problems) = shellward_sources::expand(inputs);
    assert!(problems.is_empty(), "{problems:?}");
    let _ = read_all(&files, &options, &mut sink);
    let held = sink.0.len();
    let mut sorted = sink.0.finish();
    let found = findings(set, &mut sorted, None);
    assert!(sorted.errors().is_empty(), "{:?}", sorted.errors());
    let lines =
        found.iter().map(|finding| format!("{} {}", finding.id(), finding.json())).collect();
    (lines, held)
}

#[test]
fn a_hunt_that_spills_reports_what_one_in_memory_reports() {
    let root = shellward_testdata::repo_root();
    let mut inputs = vec![root.join("samples")];
    match shellward_testdata::corpora() {
        Some(corpora) => inputs.extend([corpora.mitre, corpora.examples]),
        None => eprintln!("SKIPPED: the shared corpora (only the bundled samples are hunted)"),
    }
    let pack = Arc::new(RuleSet::compile(&load_paths(&[root.join("rules")])).0);
    let (expected, held) = reported(&pack, &inputs, None);
    // Budgets from a spill at every alert to a few runs.
    for budget in [1, 64 << 10] {
        let (spilled, _) = reported(&pack, &inputs, Some(budget));
        assert_eq!(spilled.len(), expected.len(), "budget {budget}");
        for (a, b) in spilled.iter().zip(&expected) {
            assert_eq!(a, b, "budget {budget}");
        }
    }
    let correlations = expected.iter().filter(|line| line.contains("\"correlation\":")).count();
    eprintln!("{} findings ({correlations} correlations) from {held} alerts", expected.len());
    assert!(correlations > 0 && held > expected.len() / 2, "{held} alerts");
}
