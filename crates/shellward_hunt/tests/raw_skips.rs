//! Records skipped unread ([`RuleScreen::with_raw_skips`]) change nothing but the work done: a
//! hunt with and without the skips gives the same alerts, with the same events (lineage's fields
//! included), on every corpus with every rule set; and random records, built to hide the rules'
//! texts behind JSON escapes, case, characters that fold to ASCII and record boundaries, are never
//! skipped where a rule matches them.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use proptest::prelude::*;
use shellward_engine::{Lineage, RuleSet};
use shellward_event::Event;
use shellward_hunt::{Hunt, RuleScreen, Window};
use shellward_sigma::{Origin, load_paths, load_text};
use shellward_sources::{Marks, Problem, ReadOptions, Screen, Sink, read_all, read_bytes};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A hunt's sink: screened events into the hunt, problems counted.
struct Hunting {
    hunt: Hunt,
    problems: Vec<String>,
    /// Records read: events given on, and events dropped or skipped unread.
    records: u64,
}

impl Sink for Hunting {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        self.records += 1;
        self.hunt.push_unscreened(event);
        ControlFlow::Continue(())
    }

    fn screened(&mut self, event: Event, rules: Marks) -> ControlFlow<()> {
        self.records += 1;
        self.hunt.push(event, rules);
        ControlFlow::Continue(())
    }

    fn problem(&mut self, problem: Problem) {
        self.problems.push(problem.to_string());
    }

    fn dropped(&mut self, count: u64) {
        self.records += count;
    }
}

/// One alert as compared: file, record, rule, and the event's fields as the hunt saw them.
type Seen = (String, u64, usize, String);

/// What a hunt over `input` (files, or one named text) gave: alerts, problems and records skipped.
struct Outcome {
    alerts: Vec<Seen>,
    problems: Vec<String>,
    skipped: u64,
    records: u64,
}

enum Input<'a> {
    Paths(&'a [PathBuf]),
    Text(&'a str, &'a [u8]),
}

/// The records a route has before its search is built, in most tests: the search then tests every
/// record (and has no sampled texts to choose its atoms by).
const SEARCH_AT_ONCE: u64 = 1;

fn hunt(set: &Arc<RuleSet>, input: &Input<'_>, lineage: bool, skips: bool) -> Outcome {
    hunt_searching_after(set, input, lineage, skips, SEARCH_AT_ONCE)
}

fn hunt_searching_after(
    set: &Arc<RuleSet>,
    input: &Input<'_>,
    lineage: bool,
    skips: bool,
    search_after: u64,
) -> Outcome {
    let screen = Arc::new(
        RuleScreen::new(Arc::clone(set), Window::default(), lineage)
            .with_raw_skips(skips)
            .with_raw_search_after(search_after),
    );
    let options = ReadOptions {
        screen: Some(Arc::clone(&screen) as Arc<dyn Screen>),
        ..ReadOptions::with_threads(2)
    };
    let mut sink = Hunting {
        hunt: Hunt::new(Arc::clone(set), lineage.then(Lineage::default)),
        problems: Vec::new(),
        records: 0,
    };
    match input {
        Input::Paths(paths) => {
            let (files, problems) = shellward_sources::expand(paths);
            assert!(problems.is_empty(), "{problems:?}");
            let _ = read_all(&files, &options, &mut sink);
        }
        Input::Text(name, bytes) => {
            let _ = read_bytes(name, bytes, &options, &mut sink);
        }
    }
    let alerts = sink
        .hunt
        .finish()
        .map(|(event, rule)| {
            let fields: Vec<String> = event.fields().map(|(n, v)| format!("{n}={v:?}")).collect();
            (event.provenance.path.to_string(), event.provenance.record, rule, fields.join(" "))
        })
        .collect();
    let skipped = screen.skip_report().iter().map(|route| route.skipped).sum();
    Outcome { alerts, problems: sink.problems, skipped, records: sink.records }
}

/// A rule set compiled from one YAML text, which must compile without a diagnostic.
fn compiled(text: String) -> Arc<RuleSet> {
    let (set, diagnostics) = RuleSet::compile(&load_text(Origin::Builtin("t.yml".into()), text));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    Arc::new(set)
}

/// The same alerts and problems with and without the skips; returns how many were skipped.
fn same_with_and_without(set: &Arc<RuleSet>, input: &Input<'_>, lineage: bool) -> (usize, u64) {
    same_searching_after(set, input, lineage, SEARCH_AT_ONCE)
}

/// [`same_with_and_without`], the searches built after `search_after` records of their route.
fn same_searching_after(
    set: &Arc<RuleSet>,
    input: &Input<'_>,
    lineage: bool,
    search_after: u64,
) -> (usize, u64) {
    let with = hunt_searching_after(set, input, lineage, true, search_after);
    let without = hunt_searching_after(set, input, lineage, false, search_after);
    assert_eq!(without.skipped, 0);
    assert_eq!(with.problems, without.problems);
    // Every record is counted once, read or skipped (an EVTX chunk skipped whole included).
    assert_eq!(with.records, without.records);
    if with.alerts != without.alerts {
        let only = |a: &[Seen], b: &[Seen]| {
            a.iter().filter(|x| !b.contains(x)).take(5).cloned().collect::<Vec<_>>()
        };
        panic!(
            "{} alerts with the skips, {} without; only with: {:#?}; only without: {:#?}",
            with.alerts.len(),
            without.alerts.len(),
            only(&with.alerts, &without.alerts),
            only(&without.alerts, &with.alerts)
        );
    }
    (with.alerts.len(), with.skipped)
}

#[test]
fn every_corpus_every_rule_set_same_alerts_with_and_without_skips() {
    let Some(corpora) = shellward_testdata::corpora() else { return };
    let shellward_testdata::Corpora { sigmahq, examples, mitre, samples, otrf } = corpora;
    let root = shellward_testdata::repo_root();
    let corpora = [
        vec![sigmahq.join("regression_data"), examples, root.join("samples")],
        vec![mitre],
        vec![samples],
        vec![otrf],
    ];
    let pack = Arc::new(RuleSet::compile(&load_paths(&[root.join("rules")])).0);
    let all = Arc::new(
        RuleSet::compile(&load_paths(&[
            sigmahq.join("rules"),
            sigmahq.join("rules-emerging-threats"),
            sigmahq.join("rules-threat-hunting"),
            root.join("rules"),
        ]))
        .0,
    );
    let (mut alerts, mut skipped) = (0, 0);
    // A search built at once tests every record; one built after the default 32 records chose its
    // atoms by their texts.
    let default = shellward_hunt::RECORDS_BEFORE_SEARCH;
    let runs = [(&pack, true, 1), (&pack, false, default), (&all, true, 1), (&all, true, default)];
    for corpus in &corpora {
        for (set, lineage, after) in runs {
            let (a, s) = same_searching_after(set, &Input::Paths(corpus), lineage, after);
            eprintln!(
                "{:?} ({} rules, lineage {lineage}, search after {after}): {a} alerts, {s} skipped",
                corpus,
                set.len()
            );
            alerts += a;
            skipped += s;
        }
    }
    // The comparison is worth something only where there were alerts and skips.
    assert!(alerts > 3000 && skipped > 100_000, "{alerts} alerts, {skipped} skipped");
}

/// Rules whose texts the records hide: a field test, a keyword and a test of `Message` (of
/// process creations only, so that the search passes over the `Message` of file events), an
/// exact value, and a non-ASCII text.
const RULES: &str = r#"title: Tool on disk
name: tool
logsource:
    product: windows
    category: file_event
detection:
    sel:
        TargetFilename|contains: '\Temp\kit\'
    condition: sel
level: high
---
title: Keyword anywhere
name: keyword
logsource:
    product: windows
    category: process_creation
detection:
    keywords:
        - 'mimikatz'
    condition: keywords
level: high
---
title: In the message
name: message
logsource:
    product: windows
    category: process_creation
detection:
    sel:
        Message|contains: 'Svc-web'
    condition: sel
level: high
---
title: Exact user
name: exact
logsource:
    product: windows
    category: file_event
detection:
    sel:
        User: 'Corp\Svc-web'
    condition: sel
level: high
---
title: Umlaut
name: umlaut
logsource:
    product: windows
    category: file_event
detection:
    sel:
        TargetFilename|contains: 'Überwachung'
    condition: sel
level: high
"#;

/// A value as JSON text, disguised one way: as is, in random case, with some characters
/// `\uXXXX`-escaped (or `/` as `\/`), or with `k` and `i` as the characters that fold to them.
fn disguised(text: &str) -> impl Strategy<Value = String> + use<> {
    let chars: Vec<char> = text.chars().collect();
    (0u8..4, proptest::collection::vec(any::<bool>(), chars.len())).prop_map(move |(way, picks)| {
        let mut out = String::new();
        for (&c, pick) in chars.iter().zip(picks) {
            match (c, way, pick) {
                ('\\', _, _) => out.push_str("\\\\"),
                ('"', _, _) => out.push_str("\\\""),
                (c, 1, true) => out.extend(c.to_uppercase()),
                ('/', 2, true) => out.push_str("\\/"),
                (c, 2, true) => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                ('k' | 'K', 3, _) => out.push('\u{212A}'),
                ('i' | 'I', 3, true) => out.push('\u{130}'),
                (c, _, _) => out.push(c),
            }
        }
        out
    })
}

/// Noise around one of the rules' texts (or a near miss).
fn rule_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("C:\\Temp\\kit\\x.exe".to_owned()),
        Just("C:\\Temp\\ki t\\x.exe".to_owned()),
        Just("run mimikatz now".to_owned()),
        Just("mimi katz".to_owned()),
        Just("Corp\\Svc-web".to_owned()),
        Just("Corp\\Svc-web ".to_owned()),
        Just("say \"Corp\\Svc-web\" & <go>".to_owned()),
        Just("D:\\ÜBERWACHUNG\\log".to_owned()),
        Just("D:\\uberwachung".to_owned()),
        Just("a/b".to_owned()),
        "[a-z ]{0,12}",
    ]
}

/// Values: a rule's text in noise, disguised as JSON text.
fn value() -> impl Strategy<Value = String> {
    rule_text().prop_flat_map(|text| disguised(&text))
}

/// A record of one of the Windows shapes, with `value`s in its fields (one inside an object in an
/// array, which the decoder re-serializes), and one in a top-level `Message` (first or last),
/// which the search passes over where no rule of the route reads it.
fn record() -> impl Strategy<Value = String> {
    let message = (value(), any::<bool>());
    (0u8..4, value(), value(), message, prop_oneof![Just(11), Just(1), Just(4663)]).prop_map(
        |(shape, file, user, (message, first), id)| {
            let record = match shape {
                0 => format!(
                    r#""Channel":"Microsoft-Windows-Sysmon/Operational","EventID":{id},"TargetFilename":"{file}","User":"{user}""#
                ),
                1 => format!(
                    r#""Event":{{"System":{{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":{id}}},"EventData":{{"TargetFilename":"{file}","User":"{user}"}}}}"#
                ),
                2 => format!(
                    r#""Channel":"Microsoft-Windows-Sysmon/Operational","EventID":{id},"List":[1, {{"x": "{file}"}}],"User":"{user}""#
                ),
                _ => format!(
                    r#""winlog":{{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":"{id}","event_data":{{"TargetFilename":"{file}","User":"{user}"}}}}"#
                ),
            };
            let key = if shape == 3 { "message" } else { "Message" };
            if first {
                format!(r#"{{"{key}":"{message}",{record}}}"#)
            } else {
                format!(r#"{{{record},"{key}":"{message}"}}"#)
            }
        },
    )
}

/// Over all the cases: alerts and skips (the property means something only if both happened).
static ALERTS: AtomicU64 = AtomicU64::new(0);
static SKIPPED: AtomicU64 = AtomicU64::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn disguised_texts_are_never_skipped_where_a_rule_matches(
        records in proptest::collection::vec(record(), 1..40),
        utf16 in any::<bool>(),
    ) {
        let set = compiled(RULES.into());
        let text = records.join("\n");
        let bytes: Vec<u8> = if utf16 {
            [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect()
        } else {
            text.into_bytes()
        };
        for lineage in [false, true] {
            let (alerts, skipped) = same_with_and_without(&set, &Input::Text("t.json", &bytes), lineage);
            ALERTS.fetch_add(alerts as u64, Ordering::Relaxed);
            SKIPPED.fetch_add(skipped, Ordering::Relaxed);
        }
    }
}

#[test]
fn the_property_saw_alerts_and_skips() {
    disguised_texts_are_never_skipped_where_a_rule_matches();
    let (alerts, skipped) = (ALERTS.load(Ordering::Relaxed), SKIPPED.load(Ordering::Relaxed));
    assert!(alerts > 100 && skipped > 100, "{alerts} alerts, {skipped} skipped");
}

#[test]
fn a_broken_record_is_reported_not_skipped() {
    let set = compiled(RULES.into());
    let file_event = r#""Channel":"Microsoft-Windows-Sysmon/Operational","EventID":11"#;
    let text = format!(
        "{{{file_event},\"X\":tru}}\n{{{file_event}}}\n\
         {{\"Channel\":\"Security\",\"EventID\":4624,\"X\":\"cut sho\n\
         {{\"Channel\":\"Security\",\"EventID\":4624,\"X\":tru}}\n"
    );
    let with = hunt(&set, &Input::Text("t.json", text.as_bytes()), true, true);
    // A record of a route that rules read (a file event) is read to its end: broken, it is
    // decoded and reported. A record cut short is reported whatever its route. The valid file
    // event holds no rule's text and is skipped.
    assert_eq!(with.problems.len(), 2, "{:?}", with.problems);
    assert!(with.problems.iter().all(|p| p.contains("t.json")), "{:?}", with.problems);
    // A record of a route no rule reads is not read past its route where the rest cannot
    // change it: the damage there is not seen (as with an EVTX chunk skipped whole), and it
    // is skipped.
    assert_eq!(with.skipped, 2);
    let all = hunt(&set, &Input::Text("t.json", text.as_bytes()), true, false);
    assert_eq!(all.problems.len(), 3, "{:?}", all.problems);
}

/// A rule that needs both a text most records of its route hold and one few hold.
const COMMON_AND_RARE: &str = r#"title: Access to svchost
logsource:
    product: windows
    category: process_access
detection:
    sel:
        TargetImage|endswith: '\svchost.exe'
        GrantedAccess: '0x143a'
    condition: sel
level: high
"#;

#[test]
fn the_search_takes_the_atom_its_route_holds_least() {
    let set = compiled(COMMON_AND_RARE.into());
    let record = |access: &str| {
        format!(
            "{{\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"EventID\":10,\
             \"TargetImage\":\"C:\\\\Windows\\\\System32\\\\svchost.exe\",\
             \"GrantedAccess\":\"{access}\"}}\n"
        )
    };
    let mut text: String = (0..400).map(|_| record("0x1400")).collect();
    text.push_str(&record("0x143A"));
    let input = Input::Text("access.json", text.as_bytes());
    let after = shellward_hunt::RECORDS_BEFORE_SEARCH;
    // The search looks for the longer text, `\svchost.exe`, and keeps every one of the first 256
    // records it tests; remade from the texts of the first 32, it looks for `"0x143a"` and skips
    // the rest.
    let tested_before_remade = 256;
    for after in [1, after] {
        let (alerts, skipped) = same_searching_after(&set, &input, false, after);
        assert_eq!((alerts, skipped), (1, 400 - (after - 1) - tested_before_remade));
    }
}

/// Web rules whose texts the lines hide: behind IIS's `+` for a space, the `?` that joins a URI,
/// the escapes of a quoted value, a number's leading zeros, case and characters that fold to
/// ASCII.
const WEB_RULES: &str = r#"title: Command in the query
logsource:
    category: webserver
detection:
    sel:
        cs-uri-query|contains: 'cmd=who'
    condition: sel
level: high
---
title: Agent with a space
logsource:
    category: webserver
detection:
    sel:
        cs-user-agent|contains: 'evil bot'
        cs-method: 'PUT'
    condition: sel
level: high
---
title: Keyword anywhere
logsource:
    category: webserver
detection:
    keywords:
        - '.jspx'
    condition: keywords
level: high
---
title: Size
logsource:
    category: webserver
detection:
    sel:
        sc-bytes: 9
    condition: sel
level: high
---
title: Joined URI
logsource:
    category: webserver
detection:
    sel:
        cs-uri|contains: 'shell.aspx\?run'
        cs-uri-stem|endswith: '.aspx'
    condition: sel
level: high
---
title: Quoted agent
logsource:
    category: webserver
detection:
    sel:
        cs-user-agent|contains: 'a"b\c'
    condition: sel
level: high
"#;

/// A web value: one of the rules' texts (or a near miss) in some noise, in random case or with
/// `k` and `i` as the characters that fold to them.
fn web_value() -> impl Strategy<Value = String> {
    let texts = prop_oneof![
        Just("cmd=whoami".to_owned()),
        Just("cmd=who ami".to_owned()),
        Just("cmd=wh".to_owned()),
        Just("evil bot/1.0".to_owned()),
        Just("evilbot".to_owned()),
        Just("/a/x.jspx".to_owned()),
        Just("/a/x.jsp x".to_owned()),
        Just("/shell.aspx".to_owned()),
        Just("run=1".to_owned()),
        Just("ua a\"b\\c".to_owned()),
        Just("a\"bc".to_owned()),
        Just("kit".to_owned()),
        "[a-z/.=]{0,10}",
    ];
    (texts, 0u8..3, proptest::collection::vec(any::<bool>(), 16)).prop_map(|(text, way, picks)| {
        text.chars()
            .zip(picks.into_iter().cycle())
            .map(|(c, pick)| match (c, way, pick) {
                (c, 1, true) => c.to_ascii_uppercase(),
                ('k', 2, _) => '\u{212A}',
                ('i', 2, true) => '\u{130}',
                (c, _, _) => c,
            })
            .collect()
    })
}

/// A size as a log may write it.
fn web_bytes() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("-09"), Just("-9"), Just("9"), Just("009"), Just("-"), Just("12")]
}

/// A value as a W3C column: spaces as `+`, none empty.
fn w3c_column(text: &str) -> String {
    if text.is_empty() { "-".to_owned() } else { text.replace(' ', "+") }
}

/// A value as a quoted value of an access log: `\"` and `\\` escaped.
fn clf_quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A web log line of either format (`w3c`), sometimes broken (a column too many, no time).
fn web_line(w3c: bool) -> impl Strategy<Value = String> {
    let method = prop_oneof![Just("GET"), Just("POST"), Just("PUT")];
    (method, web_value(), web_value(), web_bytes(), web_value(), 0u8..8).prop_map(
        move |(method, stem, query, bytes, agent, shape)| {
            let broken = shape == 0;
            if w3c {
                let extra = if broken { " x" } else { "" };
                format!(
                    "2024-01-01 00:00:00 {method} /{} {} {bytes} {}{extra}",
                    w3c_column(&stem),
                    w3c_column(&query),
                    w3c_column(&agent)
                )
            } else {
                let time = if broken { "" } else { "[10/Oct/2000:13:55:36 -0700] " };
                format!(
                    "1.2.3.4 - - {time}\"{method} /{}?{} HTTP/1.1\" 200 {bytes} \"-\" \"{}\"",
                    clf_quoted(&stem).replace(' ', "_"),
                    clf_quoted(&query).replace(' ', "_"),
                    clf_quoted(&agent)
                )
            }
        },
    )
}

static WEB_ALERTS: AtomicU64 = AtomicU64::new(0);
static WEB_SKIPPED: AtomicU64 = AtomicU64::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn web_lines_are_never_skipped_where_a_rule_matches(
        w3c in any::<bool>(),
        lines in proptest::collection::vec(web_line(true), 1..40),
        access in proptest::collection::vec(web_line(false), 1..40),
    ) {
        let set = compiled(WEB_RULES.into());
        let (name, text) = if w3c {
            let header = "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time cs-method cs-uri-stem cs-uri-query sc-bytes cs(User-Agent)\n";
            ("u_ex240101.log", format!("{header}{}\n", lines.join("\n")))
        } else {
            ("access.log", format!("{}\n", access.join("\n")))
        };
        let (alerts, skipped) =
            same_with_and_without(&set, &Input::Text(name, text.as_bytes()), false);
        WEB_ALERTS.fetch_add(alerts as u64, Ordering::Relaxed);
        WEB_SKIPPED.fetch_add(skipped, Ordering::Relaxed);
    }
}

#[test]
fn the_web_property_saw_alerts_and_skips() {
    web_lines_are_never_skipped_where_a_rule_matches();
    let (alerts, skipped) =
        (WEB_ALERTS.load(Ordering::Relaxed), WEB_SKIPPED.load(Ordering::Relaxed));
    assert!(alerts > 100 && skipped > 100, "{alerts} alerts, {skipped} skipped");
}

/// Each way a web line hides a rule's text, once, beside lines that are skipped: the same alerts
/// with and without the skips, and every hiding line alerts.
#[test]
fn web_lines_that_hide_a_rule_text_are_decoded() {
    let set = compiled(WEB_RULES.into());
    let w3c = "#Fields: date time cs-method cs-uri-stem cs-uri-query sc-bytes cs(User-Agent)\n\
        2024-01-01 00:00:00 GET /index.html - 12 Mozilla/5.0\n\
        2024-01-01 00:00:01 PUT /up.aspx - 12 Evil+Bot/2\n\
        2024-01-01 00:00:02 GET /shell.aspx run=1 12 curl\n\
        2024-01-01 00:00:03 GET /a.css - 009 curl\n\
        2024-01-01 00:00:04 GET /b.css - 12 curl\n";
    let access = "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 12 \"-\" \"curl\"\n\
        1.2.3.4 - - [10/Oct/2000:13:55:37 -0700] \"GET / HTTP/1.1\" 200 12 \"-\" \"ua a\\\"b\\\\c\"\n\
        1.2.3.4 - - [10/Oct/2000:13:55:38 -0700] \"GET /x.css HTTP/1.1\" 200 12 \"-\" \"curl\"\n";
    for (name, text, hiding) in [("u_ex240101.log", w3c, 3), ("access.log", access, 1)] {
        let with = hunt(&set, &Input::Text(name, text.as_bytes()), false, true);
        let (alerts, skipped) =
            same_with_and_without(&set, &Input::Text(name, text.as_bytes()), false);
        assert!(with.problems.is_empty(), "{:?}", with.problems);
        assert_eq!(alerts, hiding, "{name}");
        assert_eq!(
            skipped,
            text.lines().count() as u64 - 1 - hiding as u64 + u64::from(name == "access.log"),
            "{name}"
        );
    }
}

/// ESXi lines: a rule's text in a shell command, in a keyword anywhere, in another case and
/// behind a syslog header, beside lines that are skipped and a broken line that is reported.
#[test]
fn esxi_lines_holding_a_rule_text_are_decoded_and_broken_ones_reported() {
    const ESXI_RULES: &str = r#"title: Acceptance level lowered
logsource:
    product: esxi
    service: shell
detection:
    sel:
        CommandLine|contains: 'acceptance set'
    condition: sel
level: high
---
title: VIB installed
logsource:
    product: esxi
detection:
    keywords:
        - 'vib install'
    condition: keywords
level: high
"#;
    let set = compiled(ESXI_RULES.into());
    let text = "2025-07-01T14:29:11.508Z shell[1627100]: [root]: esxcli software acceptance set --level CommunitySupported\n\
        2025-07-01T14:29:12.000Z shell[1627100]: [root]: ls /tmp\n\
        2025-07-01T14:29:13.000Z In(166) Hostd[2099425]: [Originator@6876 sub=Vimsvc] esxcli software vib install -d /tmp/x.zip\n\
        Jul  1 14:30:23 192.168.8.233 2025-07-01T14:29:14.508Z esx01.corp shell[1627100]: [root]: esxcli software ACCEPTANCE SET x\n\
        not an ESXi line at all\n\
        2025-07-01T14:29:15.000Z shell[1]: [root]: uptime\n";
    let input = Input::Text("shell.log", text.as_bytes());
    let with = hunt(&set, &input, false, true);
    let (alerts, skipped) = same_with_and_without(&set, &input, false);
    assert_eq!(with.problems.len(), 1, "{:?}", with.problems);
    assert!(with.problems[0].contains("line 5"), "{:?}", with.problems);
    assert_eq!((alerts, skipped), (3, 2));
}

/// A value as XML text, disguised one way: as is, in random case, with some characters as
/// character references, in CDATA sections, or followed by comments, or with `k` and `i` as the
/// characters that fold to them.
fn xml_disguised(text: &str) -> impl Strategy<Value = String> + use<> {
    let chars: Vec<char> = text.chars().collect();
    (0u8..6, proptest::collection::vec(any::<bool>(), chars.len())).prop_map(move |(way, picks)| {
        let mut out = String::new();
        for (&c, pick) in chars.iter().zip(picks) {
            match (c, way, pick) {
                ('<', _, _) => out.push_str("&lt;"),
                ('&', _, _) => out.push_str("&amp;"),
                (c, 1, true) => out.extend(c.to_uppercase()),
                (c, 2, true) => out.push_str(&format!("&#x{:x};", u32::from(c))),
                (c, 3, true) => out.push_str(&format!("<![CDATA[{c}]]>")),
                (c, 4, true) => out.push_str(&format!("{c}<!-- x -->")),
                ('k' | 'K', 5, _) => out.push('\u{212A}'),
                ('i' | 'I', 5, true) => out.push('\u{130}'),
                (c, _, _) => out.push(c),
            }
        }
        out
    })
}

/// An XML value: a rule's text in noise, disguised as XML text.
fn xml_value() -> impl Strategy<Value = String> {
    rule_text().prop_flat_map(|text| xml_disguised(&text))
}

/// A Windows event as XML, with `value`s in its data, a provider name that may hold a line
/// break (read as a space), and sometimes cut short after `<System>`.
fn xml_record() -> impl Strategy<Value = String> {
    let provider = prop_oneof![Just("Microsoft-Windows-Sysmon"), Just("Sysmon\nWatch")];
    (xml_value(), xml_value(), prop_oneof![Just(11), Just(1), Just(4663)], provider, 0u8..10)
        .prop_map(|(file, user, id, provider, shape)| {
            let data = if shape == 0 {
                format!("<Data Name='TargetFilename'>{file}</Wrong>")
            } else {
                format!("<Data Name='TargetFilename'>{file}</Data><Data Name='User'>{user}</Data>")
            };
            format!(
                "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='{provider}'/><EventID>{id}</EventID><Channel>Microsoft-Windows-Sysmon/Operational</Channel></System><EventData>{data}</EventData></Event>"
            )
        })
}

/// A rule on the provider's name, which a line break in its attribute hides.
const PROVIDER_RULE: &str = r#"
---
title: Provider
logsource:
    product: windows
    category: file_event
detection:
    sel:
        Provider_Name|contains: 'Sysmon Watch'
    condition: sel
level: high
"#;

static XML_ALERTS: AtomicU64 = AtomicU64::new(0);
static XML_SKIPPED: AtomicU64 = AtomicU64::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn xml_events_are_never_skipped_where_a_rule_matches(
        records in proptest::collection::vec(xml_record(), 1..30),
    ) {
        let set = compiled(format!("{RULES}{PROVIDER_RULE}"));
        let text = format!("<Events>\n{}\n</Events>\n", records.join("\n"));
        for lineage in [false, true] {
            let (alerts, skipped) =
                same_with_and_without(&set, &Input::Text("t.xml", text.as_bytes()), lineage);
            XML_ALERTS.fetch_add(alerts as u64, Ordering::Relaxed);
            XML_SKIPPED.fetch_add(skipped, Ordering::Relaxed);
        }
    }
}

#[test]
fn the_xml_property_saw_alerts_and_skips() {
    xml_events_are_never_skipped_where_a_rule_matches();
    let (alerts, skipped) =
        (XML_ALERTS.load(Ordering::Relaxed), XML_SKIPPED.load(Ordering::Relaxed));
    assert!(alerts > 100 && skipped > 100, "{alerts} alerts, {skipped} skipped");
}
