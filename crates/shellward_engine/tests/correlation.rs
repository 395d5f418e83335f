//! Correlation rules at the edges of their windows: just inside, just outside, members in the
//! wrong order, other groups, aliases, chaining and `generate`.

#![allow(clippy::unwrap_used)]

use shellward_engine::correlation::{Fired, MemberRef};
use shellward_engine::{Correlator, RuleSet};
use shellward_event::{Event, Format, Provenance, Timestamp, Value};
use shellward_sigma::{Origin, load_text};
use std::sync::Arc;

/// Two detection rules (`a`, `b`) that match anything, and the correlation(s) in `yaml`.
fn rules(yaml: &str) -> RuleSet {
    let mut text = String::new();
    for name in ["a", "b"] {
        text.push_str(&format!(
            "title: Rule {name}\nname: {name}\nid: 00000000-0000-0000-0000-00000000000{}\nlogsource:\n    product: test\ndetection:\n    sel:\n        Kind: '{name}'\n    condition: sel\n---\n",
            if name == "a" { 1 } else { 2 }
        ));
    }
    text.push_str(yaml);
    let loaded = load_text(Origin::Builtin("test".into()), text);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let (set, diagnostics) = RuleSet::compile(&loaded);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    set
}

/// An alert of rule `rule` (0: a, 1: b) at `seconds` on `host` with `fields`.
fn alert(rule: usize, seconds: f64, host: &str, fields: &[(&str, &str)]) -> (Arc<Event>, usize) {
    let mut event =
        Event::new(Provenance { path: "t.jsonl".into(), record: 1, format: Format::Json });
    event.host = Some(host.into());
    let millis = (seconds * 1000.0).round() as i64;
    event.time = Some(Timestamp::from_millisecond(1_700_000_000_000 + millis).unwrap());
    for (name, value) in fields {
        event.insert(name.to_string(), Value::Str(value.to_string()));
    }
    (Arc::new(event), rule)
}

/// Sorts like a hunt does, runs the correlations, returns the firings of correlation 0. The
/// alerts arrive newest first (as from files read in the wrong order): the sort makes it so.
fn fire(set: &RuleSet, mut alerts: Vec<(Arc<Event>, usize)>) -> (Vec<Fired>, Vec<Vec<Fired>>) {
    alerts.reverse();
    alerts.sort_by_key(|(e, _)| e.time);
    let correlator = Correlator::new(set);
    let all: Vec<Vec<Fired>> = correlator
        .run(&alerts)
        .iter()
        .map(|firings| firings.iter().map(|f| (**f).clone()).collect())
        .collect();
    (all[0].clone(), all)
}

fn correlation(kind: &str, rules: &str, extra: &str) -> String {
    format!(
        "title: C\nname: c\ncorrelation:\n    type: {kind}\n    rules: [{rules}]\n    group-by: [host]\n    timespan: 10m\n{extra}level: high\n"
    )
}

#[test]
fn event_count_window_edges() {
    let set = rules(&correlation("event_count", "a", "    condition:\n        gte: 3\n"));
    let inside =
        vec![alert(0, 0.0, "h", &[]), alert(0, 300.0, "h", &[]), alert(0, 600.0, "h", &[])];
    let (fired, _) = fire(&set, inside);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].members.len(), 3);
    assert_eq!(fired[0].group, [("host".to_string(), "h".to_string())]);
    let outside =
        vec![alert(0, 0.0, "h", &[]), alert(0, 300.0, "h", &[]), alert(0, 600.001, "h", &[])];
    assert!(fire(&set, outside).0.is_empty());
    // Another host is another group.
    let split = vec![alert(0, 0.0, "h", &[]), alert(0, 1.0, "h", &[]), alert(0, 2.0, "g", &[])];
    assert!(fire(&set, split).0.is_empty());
    // After firing, the window starts again: six in a row fire twice, not four times.
    let six = (0..6).map(|i| alert(0, f64::from(i), "h", &[])).collect();
    assert_eq!(fire(&set, six).0.len(), 2);
}

#[test]
fn value_count_counts_distinct_values() {
    let yaml = correlation(
        "value_count",
        "a",
        "    condition:\n        gte: 2\n        field: CommandLine\n",
    );
    let set = rules(&yaml);
    let same = vec![
        alert(0, 0.0, "h", &[("CommandLine", "whoami")]),
        alert(0, 1.0, "h", &[("CommandLine", "whoami")]),
        alert(0, 2.0, "h", &[]),
    ];
    assert!(fire(&set, same).0.is_empty());
    let inside = vec![
        alert(0, 0.0, "h", &[("CommandLine", "whoami")]),
        alert(0, 600.0, "h", &[("CommandLine", "ipconfig")]),
    ];
    assert_eq!(fire(&set, inside).0.len(), 1);
    let outside = vec![
        alert(0, 0.0, "h", &[("CommandLine", "whoami")]),
        alert(0, 600.5, "h", &[("CommandLine", "ipconfig")]),
    ];
    assert!(fire(&set, outside).0.is_empty());
}

#[test]
fn temporal_takes_any_order_and_needs_every_rule() {
    let set = rules(&correlation("temporal", "a, b", ""));
    let reversed = vec![alert(1, 0.0, "h", &[]), alert(0, 600.0, "h", &[])];
    let (fired, _) = fire(&set, reversed);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].member_refs(), [MemberRef::Alert(0), MemberRef::Alert(1)]);
    let outside = vec![alert(0, 0.0, "h", &[]), alert(1, 601.0, "h", &[])];
    assert!(fire(&set, outside).0.is_empty());
    let only_a = vec![alert(0, 0.0, "h", &[]), alert(0, 1.0, "h", &[])];
    assert!(fire(&set, only_a).0.is_empty(), "a temporal rule without a condition needs all");
}

#[test]
fn temporal_ordered_needs_the_listed_order() {
    let set = rules(&correlation("temporal_ordered", "a, b", ""));
    let ordered = vec![alert(0, 0.0, "h", &[]), alert(1, 600.0, "h", &[])];
    assert_eq!(fire(&set, ordered).0.len(), 1);
    let reversed = vec![alert(1, 0.0, "h", &[]), alert(0, 1.0, "h", &[])];
    assert!(fire(&set, reversed).0.is_empty());
    let late = vec![alert(0, 0.0, "h", &[]), alert(1, 600.001, "h", &[])];
    assert!(fire(&set, late).0.is_empty());
    // b, a, b: the second b completes the order.
    let again = vec![alert(1, 0.0, "h", &[]), alert(0, 1.0, "h", &[]), alert(1, 2.0, "h", &[])];
    assert_eq!(fire(&set, again).0.len(), 1);
}

#[test]
fn aliases_group_members_by_their_own_fields() {
    let yaml = "title: C\nname: c\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    group-by: [client]\n    timespan: 1m\n    aliases:\n        client:\n            a: SourceIp\n            b: c-ip\nlevel: high\n";
    let set = rules(yaml);
    let same = vec![
        alert(0, 0.0, "h1", &[("SourceIp", "203.0.113.5")]),
        alert(1, 30.0, "h2", &[("c-ip", "203.0.113.5")]),
    ];
    let (fired, _) = fire(&set, same);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].group, [("client".to_string(), "203.0.113.5".to_string())]);
    let other = vec![
        alert(0, 0.0, "h", &[("SourceIp", "203.0.113.5")]),
        alert(1, 30.0, "h", &[("c-ip", "203.0.113.6")]),
    ];
    assert!(fire(&set, other).0.is_empty());
}

#[test]
fn chained_correlations_and_generate() {
    let yaml = format!(
        "{}---\ntitle: Twice\nname: twice\ncorrelation:\n    type: event_count\n    rules: [c]\n    group-by: [host]\n    timespan: 1h\n    condition:\n        gte: 2\ngenerate: true\nlevel: critical\n",
        correlation("temporal", "a, b", "")
    );
    let set = rules(&yaml);
    let alerts = vec![
        alert(0, 0.0, "h", &[]),
        alert(1, 10.0, "h", &[]),
        alert(0, 1000.0, "h", &[]),
        alert(1, 1010.0, "h", &[]),
    ];
    let (inner, all) = fire(&set, alerts);
    assert_eq!(inner.len(), 2);
    assert_eq!(all[1].len(), 1);
    assert_eq!(all[1][0].member_refs(), [MemberRef::Fired(0, 0), MemberRef::Fired(0, 1)]);
    let correlator = Correlator::new(&set);
    // c has generate: false (the default), so a and b alert only through it; twice generates.
    assert!(!correlator.rule_generates(0) && !correlator.rule_generates(1));
    assert!(correlator.correlation_generates(0));
}

#[test]
fn extended_temporal_conditions() {
    let set = rules(&correlation("temporal", "a, b", "    condition: a and not b\n"));
    assert_eq!(fire(&set, vec![alert(0, 0.0, "h", &[])]).0.len(), 1);
    let both = vec![alert(1, 0.0, "h", &[]), alert(0, 1.0, "h", &[])];
    assert!(fire(&set, both).0.is_empty());
}

#[test]
fn unsupported_and_unresolved_correlations_are_diagnosed() {
    let text = "title: S\ncorrelation:\n    type: value_sum\n    rules: [x]\n    timespan: 1m\n    condition:\n        gte: 2\n        field: n\n---\ntitle: U\ncorrelation:\n    type: event_count\n    rules: [nothing]\n    timespan: 1m\n    condition:\n        gte: 2\n";
    let loaded = load_text(Origin::Builtin("t".into()), text.into());
    let (set, diagnostics) = RuleSet::compile(&loaded);
    let text: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(set.correlations().len(), 1, "{text:?}");
    assert!(text[0].contains("value_sum"), "{text:?}");
    assert!(text[1].contains("references no loaded rule: nothing"), "{text:?}");
}

/// A stream returns each firing when the alert completing it is pushed, chained firings included,
/// and the same firings as the batch run.
#[test]
fn a_stream_fires_as_soon_as_the_condition_holds() {
    let yaml = format!(
        "{}---\ntitle: Twice\nname: twice\ncorrelation:\n    type: event_count\n    rules: [c]\n    group-by: [host]\n    timespan: 1h\n    condition:\n        gte: 2\ngenerate: true\nlevel: critical\n",
        correlation("temporal", "a, b", "")
    );
    let set = rules(&yaml);
    let alerts = [
        alert(0, 0.0, "h", &[]),
        alert(1, 10.0, "h", &[]),
        alert(0, 1000.0, "h", &[]),
        alert(1, 1010.0, "h", &[]),
        alert(0, 1020.0, "h", &[]),
    ];
    let correlator = Correlator::new(&set);
    let mut stream = correlator.stream();
    let decided: Vec<Vec<(usize, usize)>> = alerts
        .iter()
        .enumerate()
        .map(|(order, (event, rule))| {
            stream
                .push(Arc::clone(event), *rule, order)
                .iter()
                .map(|f| (f.correlation, f.index))
                .collect()
        })
        .collect();
    // c fires with b's alerts; twice waits for a later time (its inputs at one time are given
    // together, after that time's alerts), so it is decided by the next alert, or by flush.
    assert_eq!(decided, [vec![], vec![(0, 0)], vec![], vec![(0, 1)], vec![(1, 0)]]);
    assert!(stream.flush().is_empty());
    let batch = correlator.run(&alerts);
    assert_eq!(batch.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
}

/// Groups whose window can hold nothing more are forgotten, and a stream stays correct.
#[test]
fn a_long_stream_of_groups_stays_correct() {
    let set = rules(&correlation("temporal", "a, b", ""));
    let correlator = Correlator::new(&set);
    let mut stream = correlator.stream();
    let mut fired = 0;
    for i in 0..20_000u32 {
        let host = format!("h{i}");
        let t = f64::from(i) * 700.0;
        fired += stream.push(alert(0, t, &host, &[]).0, 0, 2 * i as usize).len();
        fired += stream.push(alert(1, t + 1.0, &host, &[]).0, 1, 2 * i as usize + 1).len();
    }
    assert_eq!(fired, 20_000);
}

/// Members are resolved when the set is compiled and again when `--min-level` removes rules, so
/// a correlation still finds its member at its new index.
#[test]
fn members_are_resolved_again_after_min_level() {
    let yaml = "title: C\nname: c\ncorrelation:\n    type: event_count\n    rules: [b]\n    group-by: [host]\n    timespan: 1m\n    condition:\n        gte: 1\nlevel: critical\n";
    let mut set = rules(yaml);
    assert_eq!(set.len(), 2);
    // Rule a is below the level and no correlation at or above it names it: a is removed, and b,
    // kept because c names it, moves from index 1 to 0.
    set.retain_at_or_above(shellward_engine::Level::Critical);
    assert_eq!(set.len(), 1);
    let correlator = Correlator::new(&set);
    let fired = correlator.run(&[alert(0, 0.0, "h", &[])]);
    assert_eq!(fired[0].len(), 1);
}
