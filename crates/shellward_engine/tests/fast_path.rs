//! The fast evaluator ([`RuleSet::matching`]: prefilter, folded values, log source plans) against
//! the reference evaluator ([`RuleSet::matching_reference`]: every rule, every item, directly), on
//! every rule the project has (all of SigmaHQ and the built-in pack) and every corpus the tests
//! use: the SigmaHQ regression events, the reference examples, evtx-to-mitre, evtx-samples, the
//! OTRF dataset, the pack's scenarios and the samples. They must name the same rules for every
//! event.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use shellward_engine::{RuleSet, Scratch};
use shellward_sigma::load_paths;

#[test]
fn fast_and_reference_evaluators_agree_everywhere() {
    let Some(sigmahq) = shellward_testdata::shared("data/sigmahq") else { return };
    let Some(examples) = shellward_testdata::shared("reference/examples") else { return };
    let Some(mitre) = shellward_testdata::shared("data/evtx-to-mitre") else { return };
    let Some(samples) = shellward_testdata::shared("data/evtx-samples") else { return };
    let Some(otrf) = shellward_testdata::shared("data/otrf") else { return };
    let root = shellward_testdata::repo_root();
    let loaded = load_paths(&[
        sigmahq.join("rules"),
        sigmahq.join("rules-emerging-threats"),
        sigmahq.join("rules-threat-hunting"),
        root.join("rules"),
    ]);
    let (set, _) = RuleSet::compile(&loaded);
    assert!(set.len() > 3000, "{} rules", set.len());

    let read = common::read_events(&[
        sigmahq.join("regression_data"),
        examples,
        mitre,
        samples,
        otrf,
        root.join("rules"),
        root.join("samples"),
    ]);
    assert!(read.events.len() > 70_000, "{} events", read.events.len());

    let (mut scratch, mut fast, mut reference) = (Scratch::default(), Vec::new(), Vec::new());
    let (mut matches, mut differences) = (0usize, Vec::new());
    for event in &read.events {
        set.matching(event, &mut scratch, &mut fast);
        set.matching_reference(event, &mut scratch, &mut reference);
        matches += reference.len();
        if fast != reference {
            let titles = |v: &[usize]| {
                v.iter().map(|&i| set.rules()[i].info.title.clone()).collect::<Vec<_>>()
            };
            differences.push(format!(
                "{} record {}: fast {:?}, reference {:?}",
                event.provenance.path,
                event.provenance.record,
                titles(&fast),
                titles(&reference)
            ));
        }
    }
    eprintln!("{} rules, {} events, {matches} matches", set.len(), read.events.len());
    assert!(matches > 2000, "{matches} matches");
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
