//! A live hunt: detection alerts at once, correlations once the watermark has passed their members
//! by the allowed lateness (or the input goes quiet), late and future-dated alerts counted.

#![allow(clippy::unwrap_used)]

use shellward_engine::{Correlator, RuleSet};
use shellward_event::{Event, Format, LogSource, Provenance, Timestamp, Value};
use shellward_hunt::{Hunt, Live};
use shellward_sigma::{Origin, load_text};
use std::sync::Arc;
use std::time::Duration;

fn rules() -> RuleSet {
    let mut text = String::new();
    for name in ["a", "b"] {
        text.push_str(&format!(
            "title: Rule {name}\nname: {name}\nlogsource:\n    product: test\ndetection:\n    sel:\n        Kind: '{name}'\n    condition: sel\nlevel: high\n---\n"
        ));
    }
    text.push_str("title: Both\nname: both\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    group-by: [host]\n    timespan: 10m\ngenerate: true\nlevel: critical\n");
    let loaded = load_text(Origin::Builtin("test".into()), text);
    let (set, diagnostics) = RuleSet::compile(&loaded);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    set
}

fn event(kind: &str, seconds: i64, record: u64) -> Event {
    let mut event = Event::new(Provenance { path: "t".into(), record, format: Format::Json });
    event.logsource = LogSource { product: Some("test"), ..LogSource::default() };
    event.host = Some("h".into());
    event.time = Some(Timestamp::from_second(1_790_000_000 + seconds).unwrap());
    event.insert("Kind".to_string(), Value::Str(kind.into()));
    event
}

fn titles(findings: &[shellward_hunt::Finding<'_>]) -> Vec<String> {
    findings.iter().map(|f| f.rule.title.clone()).collect()
}

#[test]
fn correlations_wait_for_the_watermark_or_quiet() {
    let set = Arc::new(rules());
    let correlator = Correlator::new(&set);
    let hunt = Hunt::new(Arc::clone(&set), None);
    let mut live = Live::new(&set, &correlator, hunt, None, Duration::from_secs(60));
    let push = |live: &mut Live<'_, '_>, kind: &str, at: i64, record: u64| {
        live.push_unscreened(event(kind, at, record));
    };
    push(&mut live, "a", 0, 1);
    assert_eq!(titles(&live.decide(false)), ["Rule a"]);
    push(&mut live, "b", 30, 2);
    assert_eq!(titles(&live.decide(false)), ["Rule b"], "b is not 60 s behind the watermark yet");
    push(&mut live, "a", 120, 3);
    assert_eq!(titles(&live.decide(false)), ["Rule a", "Both"], "the watermark passed b by 60 s");
    // Behind what already entered the windows: reported alone, counted late.
    push(&mut live, "b", 10, 4);
    assert_eq!(titles(&live.decide(false)), ["Rule b"]);
    assert_eq!(live.late(), 1);
    // Quiet: everything waiting takes its turn.
    push(&mut live, "b", 125, 5);
    assert_eq!(titles(&live.decide(true)), ["Rule b", "Both"]);
    assert_eq!(live.waiting(), 0);
}

#[test]
fn a_future_dated_alert_does_not_make_the_others_late() {
    let set = Arc::new(rules());
    let correlator = Correlator::new(&set);
    let hunt = Hunt::new(Arc::clone(&set), None);
    let mut live = Live::new(&set, &correlator, hunt, None, Duration::from_secs(0));
    let far = 10 * 365 * 86_400;
    live.push_unscreened(event("a", far, 1));
    live.decide(true);
    assert_eq!(live.late(), 1, "dated ten years ahead");
    live.push_unscreened(event("a", 0, 2));
    live.push_unscreened(event("b", 5, 3));
    assert_eq!(titles(&live.decide(true)), ["Rule a", "Rule b", "Both"]);
    assert_eq!(live.late(), 1);
}

/// A live hunt stopped at any point and restored from its state (through its JSON) reports what an
/// uninterrupted one does: open windows, waiting alerts and counters survive.
#[test]
fn a_restored_hunt_goes_on_as_if_never_stopped() {
    let set = Arc::new(rules());
    let correlator = Correlator::new(&set);
    let lateness = Duration::from_secs(60);
    let start = || {
        let hunt = Hunt::new(Arc::clone(&set), Some(shellward_engine::Lineage::default()));
        Live::new(&set, &correlator, hunt, None, lateness)
    };
    let script: [(&str, i64); 8] = [
        ("a", 0),
        ("b", 30),
        ("a", 100),
        ("a", 140),
        ("b", 130),
        ("b", 20),
        ("a", 900),
        ("b", 905),
    ];
    let run = |stop_after: Option<usize>| {
        let mut live = start();
        let mut seen = Vec::new();
        for (i, (kind, at)) in script.iter().enumerate() {
            live.push_unscreened(event(kind, *at, i as u64 + 1));
            seen.extend(live.decide(false).iter().map(|f| (f.rule.title.clone(), f.id())));
            if stop_after == Some(i) {
                let text = serde_json::to_string(&live.state()).unwrap();
                let state = serde_json::from_str(&text).unwrap();
                live = Live::restore(&set, &correlator, true, None, lateness, state).unwrap();
            }
        }
        seen.extend(live.decide(true).iter().map(|f| (f.rule.title.clone(), f.id())));
        (seen, live.late())
    };
    let whole = run(None);
    assert!(whole.0.iter().filter(|(t, _)| t == "Both").count() >= 2, "{whole:?}");
    for stop in 0..script.len() {
        assert_eq!(run(Some(stop)), whole, "stopped after event {stop}");
    }
}

#[test]
fn a_state_taken_with_other_rules_is_refused() {
    let set = Arc::new(rules());
    let correlator = Correlator::new(&set);
    let live =
        Live::new(&set, &correlator, Hunt::new(Arc::clone(&set), None), None, Duration::ZERO);
    let state = live.state();
    let loaded = load_text(
        Origin::Builtin("other".into()),
        "title: Other\nlogsource:\n    product: test\ndetection:\n    sel:\n        Kind: c\n    condition: sel\n".into(),
    );
    let other = Arc::new(RuleSet::compile(&loaded).0);
    let other_correlator = Correlator::new(&other);
    let restored = Live::restore(&other, &other_correlator, false, None, Duration::ZERO, state);
    assert!(matches!(restored, Err(shellward_hunt::RestoreError::OtherRules)));
}
