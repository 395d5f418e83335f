//! The matcher alone, on events already decoded: the fast evaluator against the reference one,
//! with the 2,407 SigmaHQ Windows rules over the evtx-to-mitre corpus (10,015 events) and over the
//! first 10,000 OTRF events. Needs `../shared`; prints why and does nothing without it.
//!
//! `cargo bench -p shellward_engine --bench matcher`

#![allow(missing_docs, clippy::unwrap_used, clippy::print_stderr)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use shellward_engine::{RuleSet, Scratch};
use shellward_event::Event;
use shellward_sources::{ReadOptions, collect};

/// One of the rule set's evaluators.
type Evaluator = fn(&RuleSet, &Event, &mut Scratch, &mut Vec<usize>);

fn corpus(relative: &str, limit: usize) -> Option<Vec<Event>> {
    let path = shellward_testdata::shared(relative)?;
    let mut events = collect(&[path], &ReadOptions::default()).events;
    events.truncate(limit);
    Some(events)
}

fn matcher(c: &mut Criterion) {
    let Some(rules) = shellward_testdata::shared("data/sigmahq/rules/windows") else { return };
    let (set, _) = RuleSet::compile(&shellward_sigma::load_paths(&[rules]));
    let corpora = [("evtx-to-mitre", "data/evtx-to-mitre"), ("otrf", "data/otrf")];
    let mut group = c.benchmark_group("match");
    group.sample_size(10);
    for (name, relative) in corpora {
        let Some(events) = corpus(relative, 10_000) else { continue };
        group.throughput(Throughput::Elements(events.len() as u64));
        let evaluators: [(&str, Evaluator); 2] =
            [("fast", RuleSet::matching), ("reference", RuleSet::matching_reference)];
        for (evaluator, matching) in evaluators {
            let (mut scratch, mut out) = (Scratch::default(), Vec::new());
            group.bench_function(BenchmarkId::new(evaluator, name), |b| {
                b.iter(|| {
                    let mut alerts = 0;
                    for event in &events {
                        matching(&set, event, &mut scratch, &mut out);
                        alerts += out.len();
                    }
                    alerts
                });
            });
        }
    }
    group.finish();
}

fn compile(c: &mut Criterion) {
    let Some(rules) = shellward_testdata::shared("data/sigmahq/rules/windows") else { return };
    let loaded = shellward_sigma::load_paths(&[rules]);
    let mut group = c.benchmark_group("rules");
    group.sample_size(10);
    group.bench_function("compile and index 2,407 SigmaHQ Windows rules", |b| {
        b.iter(|| RuleSet::compile(&loaded).0.len());
    });
    group.finish();
}

criterion_group!(benches, matcher, compile);
criterion_main!(benches);
