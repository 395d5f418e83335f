//! The fast evaluator ([`RuleSet::matching`]: prefilter, folded values, log source plans) against
//! the reference evaluator ([`RuleSet::matching_reference`]: every rule, every item, directly), on
//! every rule the project has (all of SigmaHQ and the built-in pack) and every corpus the tests
//! use: the SigmaHQ regression events, the reference examples, evtx-to-mitre, evtx-samples, the
//! OTRF dataset, the pack's scenarios and the samples. They must name the same rules for every
//! event.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use shellward_engine::{RuleSet, Scratch};
use shellward_event::{Event, Value};
use shellward_sigma::load_paths;

#[test]
fn fast_and_reference_evaluators_agree_everywhere() {
    let Some(corpora) = shellward_testdata::corpora() else { return };
    let shellward_testdata::Corpora { sigmahq, examples, mitre, samples, otrf } = corpora;
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

/// Rules on `windows/process_creation`, one per title and `detection:` body, as one YAML text.
fn process_rules(rules: &[(&str, &str)]) -> String {
    let rule = |(title, detection): &(&str, &str)| {
        format!(
            "title: {title}\nlogsource:\n  product: windows\n  category: process_creation\n\
             detection:\n{detection}\n"
        )
    };
    rules.iter().map(rule).collect::<Vec<_>>().join("---\n")
}

/// An event of `windows/process_creation` with these text fields.
fn process_event(fields: &[(&str, &str)]) -> Event {
    let fields: Vec<_> =
        fields.iter().map(|(name, text)| (*name, Value::Str(text.to_string()))).collect();
    common::process_event(&fields)
}

/// The titles of the rules that `RuleSet::matching` gives for the event, checked against the
/// reference evaluator.
fn fired(set: &RuleSet, event: &Event) -> Vec<String> {
    let (mut scratch, mut fast, mut reference) = (Scratch::default(), Vec::new(), Vec::new());
    set.matching(event, &mut scratch, &mut fast);
    set.matching_reference(event, &mut scratch, &mut reference);
    assert_eq!(fast, reference, "{event:?}");
    fast.iter().map(|&i| set.rules()[i].info.title.clone()).collect()
}

/// The prefilter's searches, where they could lose a rule: texts that overlap or nest inside one
/// another in one value (one search visits each start of an occurrence and reports the longest
/// text there), and keyword texts searched over all of an event's values joined (found in the
/// first, a middle or the last value; a text across two values is only a candidate, which the
/// exact evaluation rejects).
#[test]
fn prefilter_finds_nested_and_overlapping_texts_and_keywords_in_any_value() {
    let set = common::ruleset(&process_rules(&[
        ("ab", "  sel:\n    CommandLine|contains: 'ab'\n  condition: sel"),
        ("abc", "  sel:\n    CommandLine|contains: 'abc'\n  condition: sel"),
        ("bcd", "  sel:\n    CommandLine|contains: 'bcd'\n  condition: sel"),
        ("cd end", "  sel:\n    CommandLine|endswith: 'cd'\n  condition: sel"),
        ("needle", "  keywords:\n    - 'needle'\n  condition: keywords"),
        ("needles", "  keywords:\n    - 'needles'\n  condition: keywords"),
        ("foobar", "  keywords:\n    - 'foobar'\n  condition: keywords"),
    ]));
    let fired = |fields: &[(&str, &str)]| fired(&set, &process_event(fields));
    assert_eq!(fired(&[("CommandLine", "xABCDx")]), ["ab", "abc", "bcd"]);
    assert_eq!(fired(&[("CommandLine", "xabcd")]), ["ab", "abc", "bcd", "cd end"]);
    assert_eq!(fired(&[("CommandLine", "ab ab")]), ["ab"]);
    assert_eq!(fired(&[("CommandLine", "a"), ("Image", "bcd")]), Vec::<String>::new());
    assert_eq!(fired(&[("CommandLine", "x"), ("Image", "NEEDLES")]), ["needle", "needles"]);
    assert_eq!(fired(&[("Image", "needle"), ("CommandLine", "x"), ("User", "y")]), ["needle"]);
    assert_eq!(
        fired(&[("Image", "a"), ("CommandLine", "needles"), ("User", "y")]),
        ["needle", "needles"]
    );
    assert_eq!(fired(&[("A", "foo"), ("B", "bar")]), Vec::<String>::new());
    assert_eq!(fired(&[("A", "foo"), ("B", "a foobar")]), ["foobar"]);
}

/// Rules compile apart, each numbering its fields from zero, and then join the set's numbering:
/// a `fieldref` target must be renumbered with the item's own field, or it reads another field.
#[test]
fn rules_compiled_apart_read_their_own_fields() {
    let set = common::ruleset(&process_rules(&[
        ("first", "  sel:\n    A: x\n    B: y\n  condition: sel"),
        ("second", "  sel:\n    ParentImage|fieldref: Image\n  condition: sel"),
    ]));
    let event =
        process_event(&[("A", "x"), ("B", "other"), ("ParentImage", "p.exe"), ("Image", "P.EXE")]);
    assert_eq!(fired(&set, &event), ["second"]);
}

/// After lineage adds or replaces fields of an event, `rematch` brings the marks to what matching
/// the event anew gives: rules that read such a field gain or lose their match, the others keep
/// theirs.
#[test]
fn rematch_after_added_fields_agrees_with_matching_anew() {
    let set = common::ruleset(&process_rules(&[
        ("below iis", "  sel:\n    ParentCommandLine|contains: 'w3wp'\n  condition: sel"),
        ("no parent line", "  sel:\n    ParentCommandLine: null\n  condition: sel"),
        (
            "not below cmd",
            "  sel:\n    Image|endswith: cmd.exe\n  filter:\n    ParentImage|endswith: \
             '\\cmd.exe'\n  condition: sel and not filter",
        ),
        ("cmd", "  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel"),
        ("below explorer", "  sel:\n    ParentImage|endswith: '\\explorer.exe'\n  condition: sel"),
    ]));
    let mut event = process_event(&[("Image", "C:\\x\\cmd.exe")]);
    let mut scratch = Scratch::default();
    let titles = |marks: &[u32]| -> Vec<String> {
        marks.iter().map(|&i| set.rules()[i as usize].info.title.clone()).collect()
    };
    let matching = |event: &Event, scratch: &mut Scratch| {
        let mut out = Vec::new();
        set.matching(event, scratch, &mut out);
        out.into_iter().map(|i| i as u32).collect::<Vec<_>>()
    };
    let mut marks = matching(&event, &mut scratch);
    assert_eq!(titles(&marks), ["no parent line", "not below cmd", "cmd"]);
    for (name, value) in [
        ("ParentImage", "C:\\Windows\\System32\\cmd.exe"),
        ("ParentCommandLine", "cmd /c from w3wp"),
    ] {
        event.push(name.to_string(), Value::Str(value.into()));
    }
    set.rematch(&event, ["ParentImage", "ParentCommandLine"], &mut scratch, &mut marks);
    assert_eq!(titles(&marks), ["below iis", "cmd"]);
    assert_eq!(marks, matching(&event, &mut scratch));
    // A value replaced (lineage gives a Falcon parent known by file name only its full path): a
    // rule whose text is gone is no longer even a candidate, and loses its match.
    event.insert("ParentCommandLine", Value::Str("explorer.exe".into()));
    set.rematch(&event, ["ParentCommandLine"], &mut scratch, &mut marks);
    assert_eq!(titles(&marks), ["cmd"]);
    assert_eq!(marks, matching(&event, &mut scratch));
}
