//! One test per modifier and condition form, with the edge cases of SIGMA.md §6.

#![allow(clippy::unwrap_used)]

mod common;

use shellward_engine::Scratch;
use shellward_event::{Event, Value};
use shellward_sigma::{Origin, load_text};

/// An event of `windows/process_creation` with the given fields.
fn event(fields: &[(&str, Value)]) -> Event {
    common::process_event(fields)
}

fn s(text: &str) -> Value {
    Value::Str(text.to_string())
}

/// Whether a rule with this `detection:` body fires on the event. The three evaluations (the rule
/// alone by field name, the rule set's reference evaluator by field id, and the fast evaluator)
/// must agree.
fn fires(detection: &str, fields: &[(&str, Value)]) -> bool {
    let yaml = format!(
        "title: t\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n{detection}"
    );
    let set = common::ruleset(&yaml);
    let event = event(fields);
    let by_name = set.rules()[0].matches(&event);
    let (mut scratch, mut reference, mut fast) = (Scratch::default(), Vec::new(), Vec::new());
    set.matching_reference(&event, &mut scratch, &mut reference);
    set.matching(&event, &mut scratch, &mut fast);
    assert_eq!(reference, fast, "fast and reference evaluators differ on {detection}");
    assert_eq!(by_name, !fast.is_empty(), "by name and by id differ on {detection}");
    by_name
}

/// The one diagnostic compiling this detection gives.
fn load_error(detection: &str) -> String {
    let yaml =
        format!("title: broken rule\nlogsource:\n  product: windows\ndetection:\n{detection}");
    let loaded = load_text(Origin::Builtin("b.yml".into()), yaml);
    let (_, diagnostics) = shellward_engine::RuleSet::compile(&loaded);
    let all: Vec<String> =
        loaded.diagnostics.iter().chain(&diagnostics).map(ToString::to_string).collect();
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].clone()
}

#[test]
fn plain_values_are_whole_and_case_insensitive() {
    let d = "  sel:\n    Image: 'C:\\Windows\\System32\\cmd.exe'\n  condition: sel\n";
    assert!(fires(d, &[("Image", s(r"c:\windows\system32\CMD.EXE"))]));
    assert!(!fires(d, &[("Image", s(r"c:\windows\system32\cmd.exe2"))]));
    assert!(!fires(d, &[("Other", s(r"c:\windows\system32\cmd.exe"))]), "absent field is false");
    let cased = "  sel:\n    Image|cased: 'CMD.exe'\n  condition: sel\n";
    assert!(fires(cased, &[("Image", s("CMD.exe"))]));
    assert!(!fires(cased, &[("Image", s("cmd.exe"))]));
    let unicode = "  sel:\n    User: 'ÉLODIE'\n  condition: sel\n";
    assert!(fires(unicode, &[("User", s("élodie"))]));
}

#[test]
fn wildcards_and_escapes() {
    // '\\*' in the rule (YAML single quotes keep backslashes) = one backslash, then a wildcard.
    let d = "  sel:\n    Image: 'C:\\\\*'\n  condition: sel\n";
    assert!(fires(d, &[("Image", s(r"C:\anything"))]));
    assert!(!fires(d, &[("Image", s(r"C:anything"))]));
    // '\*' = a literal star.
    let d = "  sel:\n    CommandLine: 'dir \\*'\n  condition: sel\n";
    assert!(fires(d, &[("CommandLine", s("dir *"))]));
    assert!(!fires(d, &[("CommandLine", s("dir x"))]));
    // '?' = exactly one character; '\?' = a literal question mark.
    let d = "  sel:\n    CommandLine: 'a?c'\n  condition: sel\n";
    assert!(fires(d, &[("CommandLine", s("abc"))]));
    assert!(!fires(d, &[("CommandLine", s("ac"))]));
    let d = "  sel:\n    CommandLine: 'a\\?c'\n  condition: sel\n";
    assert!(fires(d, &[("CommandLine", s("a?c"))]));
    assert!(!fires(d, &[("CommandLine", s("abc"))]));
    // A trailing lone backslash is literal; a backslash before an ordinary character is literal.
    let d = "  sel:\n    TargetObject|endswith: '\\Run\\'\n  condition: sel\n";
    assert!(fires(d, &[("TargetObject", s(r"HKLM\Software\Run\"))]));
    // '\\\\' = two backslashes (UNC paths).
    let d = "  sel:\n    Image|startswith: '\\\\\\\\srv\\'\n  condition: sel\n";
    assert!(fires(d, &[("Image", s(r"\\srv\share\x.exe"))]));
    assert!(!fires(d, &[("Image", s(r"\srv\share\x.exe"))]));
}

#[test]
fn contains_startswith_endswith_and_all() {
    let d = "  sel:\n    CommandLine|contains: 'whoami'\n  condition: sel\n";
    assert!(fires(d, &[("CommandLine", s("cmd /c WHOAMI /all"))]));
    let d = "  sel:\n    Image|startswith: 'C:\\Windows\\'\n  condition: sel\n";
    assert!(fires(d, &[("Image", s(r"c:\windows\x.exe"))]));
    assert!(!fires(d, &[("Image", s(r"d:\c:\windows\x.exe"))]));
    let d = "  sel:\n    Image|endswith:\n      - '\\cmd.exe'\n      - '\\powershell.exe'\n  condition: sel\n";
    assert!(fires(d, &[("Image", s(r"C:\x\powershell.exe"))]), "lists are OR");
    let d =
        "  sel:\n    CommandLine|contains|all:\n      - 'net'\n      - 'user'\n  condition: sel\n";
    assert!(fires(d, &[("CommandLine", s("net user x"))]));
    assert!(!fires(d, &[("CommandLine", s("net group"))]), "|all is AND");
    let d = "  sel:\n    CommandLine|startswith|endswith: 'mid'\n  condition: sel\n";
    assert!(fires(d, &[("CommandLine", s("xxmidxx"))]), "startswith|endswith = contains");
}

#[test]
fn regular_expressions_and_flags() {
    let d = "  sel:\n    CommandLine|re: '-e(nc)?\\s+[A-Za-z0-9+/=]{8,}'\n  condition: sel\n";
    assert!(
        fires(d, &[("CommandLine", s("powershell -enc SQBFAFgAIAAoAE4A"))]),
        "search, not anchored"
    );
    let d = "  sel:\n    CommandLine|re: 'WHOAMI'\n  condition: sel\n";
    assert!(!fires(d, &[("CommandLine", s("whoami"))]), "re is case-sensitive");
    let d = "  sel:\n    CommandLine|re|i: 'WHOAMI'\n  condition: sel\n";
    assert!(fires(d, &[("CommandLine", s("whoami"))]));
    let d = "  sel:\n    ScriptBlockText|re|m: '^Invoke-'\n  condition: sel\n";
    assert!(fires(d, &[("ScriptBlockText", s("x\nInvoke-Thing"))]));
    let d = "  sel:\n    ScriptBlockText|re: '^Invoke-'\n  condition: sel\n";
    assert!(!fires(d, &[("ScriptBlockText", s("x\nInvoke-Thing"))]));
    let d = "  sel:\n    ScriptBlockText|re|s: 'a.b'\n  condition: sel\n";
    assert!(fires(d, &[("ScriptBlockText", s("a\nb"))]));
    let d = "  sel:\n    ScriptBlockText|re: 'a.b'\n  condition: sel\n";
    assert!(!fires(d, &[("ScriptBlockText", s("a\nb"))]));
}

#[test]
fn cidr_networks() {
    let d = "  sel:\n    DestinationIp|cidr:\n      - '10.0.0.0/8'\n      - 'fd00::/8'\n  condition: sel\n";
    assert!(fires(d, &[("DestinationIp", s("10.20.30.40"))]));
    assert!(fires(d, &[("DestinationIp", s("fd12::1"))]));
    assert!(!fires(d, &[("DestinationIp", s("100.0.0.1"))]));
    assert!(!fires(d, &[("DestinationIp", s("not-an-ip"))]));
}

#[test]
fn windash_tries_every_dash() {
    let d = "  sel:\n    CommandLine|windash|contains: ' -encodedcommand '\n  condition: sel\n";
    for dash in ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'] {
        assert!(
            fires(d, &[("CommandLine", s(&format!("powershell {dash}encodedcommand x")))]),
            "{dash}"
        );
    }
    assert!(!fires(d, &[("CommandLine", s("powershell +encodedcommand x"))]));
}

#[test]
fn base64_and_base64offset() {
    let d = "  sel:\n    CommandLine|base64: 'whoami'\n  condition: sel\n";
    assert!(fires(d, &[("CommandLine", s("d2hvYW1p"))]));
    let d = "  sel:\n    CommandLine|base64offset|contains: 'http://'\n  condition: sel\n";
    // The value at each of the three byte offsets inside a longer base64 text.
    for prefix in ["", "a", "ab"] {
        let encoded = base64_encode(format!("{prefix}http://evil.example/x").as_bytes());
        assert!(
            fires(d, &[("CommandLine", s(&format!("powershell -e {encoded}")))]),
            "offset {}",
            prefix.len()
        );
    }
    assert!(!fires(d, &[("CommandLine", s(&base64_encode(b"https://no")))]));
    // wide|base64offset: PowerShell's -EncodedCommand is base64 of UTF-16LE.
    let d = "  sel:\n    CommandLine|wide|base64offset|contains: 'Invoke-Expression'\n  condition: sel\n";
    let utf16: Vec<u8> =
        "IEX; Invoke-Expression $x".encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert!(fires(d, &[("CommandLine", s(&format!("powershell -enc {}", base64_encode(&utf16))))]));
}

#[test]
fn utf16_encodings() {
    let le: String = "ab".encode_utf16().flat_map(u16::to_le_bytes).map(char::from).collect();
    let d = "  sel:\n    Payload|utf16le: 'ab'\n  condition: sel\n";
    assert!(fires(d, &[("Payload", s(&le))]));
    let d = "  sel:\n    Payload|wide|base64: 'ab'\n  condition: sel\n";
    assert!(fires(d, &[("Payload", s(&base64_encode(b"a\0b\0")))]));
    let d = "  sel:\n    Payload|utf16be|base64: 'ab'\n  condition: sel\n";
    assert!(fires(d, &[("Payload", s(&base64_encode(b"\0a\0b")))]));
    let d = "  sel:\n    Payload|utf16|base64: 'ab'\n  condition: sel\n";
    assert!(fires(d, &[("Payload", s(&base64_encode(b"\xff\xfea\0b\0")))]));
}

#[test]
fn null_empty_absent_and_exists() {
    let null = "  sel:\n    ParentImage: null\n  condition: sel\n";
    assert!(fires(null, &[("Image", s("x"))]), "null matches an absent field");
    assert!(fires(null, &[("ParentImage", Value::Null)]), "and a null one");
    assert!(!fires(null, &[("ParentImage", s(""))]), "not an empty string");
    let empty = "  sel:\n    ParentImage: ''\n  condition: sel\n";
    assert!(fires(empty, &[("ParentImage", s(""))]));
    assert!(!fires(empty, &[("ParentImage", Value::Null)]));
    assert!(!fires(empty, &[("Image", s("x"))]));
    let exists = "  sel:\n    ParentImage|exists: true\n  condition: sel\n";
    assert!(fires(exists, &[("ParentImage", Value::Null)]), "a null value is present");
    assert!(!fires(exists, &[("Image", s("x"))]));
    let missing = "  sel:\n    ParentImage|exists: false\n  condition: sel\n";
    assert!(fires(missing, &[("Image", s("x"))]));
    let not_sel = "  sel:\n    ParentImage: x\n  condition: not sel\n";
    assert!(fires(not_sel, &[("Image", s("x"))]), "an item on an absent field is false");
}

#[test]
fn fieldref_and_neq() {
    let d = "  sel:\n    ParentImage|fieldref: Image\n  condition: sel\n";
    assert!(fires(d, &[("Image", s("A.exe")), ("ParentImage", s("a.EXE"))]));
    assert!(!fires(d, &[("Image", s("a.exe")), ("ParentImage", s("b.exe"))]));
    assert!(!fires(d, &[("ParentImage", s("b.exe"))]), "the referenced field must exist");
    let d = "  sel:\n    CommandLine|fieldref|contains: Image\n  condition: sel\n";
    assert!(fires(d, &[("Image", s("calc.exe")), ("CommandLine", s("start CALC.exe now"))]));
    let d = "  sel:\n    User|neq:\n      - SYSTEM\n      - 'LOCAL SERVICE'\n  condition: sel\n";
    assert!(fires(d, &[("User", s("alice"))]));
    assert!(!fires(d, &[("User", s("system"))]));
    assert!(!fires(d, &[("Image", s("x"))]), "neq needs the field");
}

#[test]
fn numeric_comparisons_and_numbers_as_text() {
    let d = "  sel:\n    DestinationPort|gte: 1024\n  condition: sel\n";
    assert!(fires(d, &[("DestinationPort", Value::Int(1024))]));
    assert!(fires(d, &[("DestinationPort", s("8080"))]), "numeric text compares as a number");
    assert!(!fires(d, &[("DestinationPort", s("443"))]));
    assert!(!fires(d, &[("DestinationPort", s("high"))]));
    let d = "  sel:\n    DestinationPort|lt: 1024\n  condition: sel\n";
    assert!(fires(d, &[("DestinationPort", Value::Int(443))]));
    let d = "  sel:\n    Size|gt: 1.5\n  condition: sel\n";
    assert!(fires(d, &[("Size", Value::Float(1.6))]));
    let d = "  sel:\n    Size|lte: 10\n  condition: sel\n";
    assert!(fires(d, &[("Size", Value::Int(10))]));
    // A number in a rule equals the same digits in an event string, and the other way round.
    let d = "  sel:\n    EventID: 4688\n  condition: sel\n";
    assert!(fires(d, &[("EventID", s("4688"))]));
    assert!(fires(d, &[("EventID", Value::Int(4688))]));
    let d = "  sel:\n    EventID: '4688'\n  condition: sel\n";
    assert!(fires(d, &[("EventID", Value::Int(4688))]));
    let d = "  sel:\n    Initiated: true\n  condition: sel\n";
    assert!(fires(d, &[("Initiated", s("true"))]));
    assert!(fires(d, &[("Initiated", Value::Bool(true))]));
}

#[test]
fn list_values_match_any_element() {
    let d = "  sel:\n    Data|contains: 'xp_cmdshell'\n  condition: sel\n";
    assert!(fires(d, &[("Data", Value::List(vec![s("a"), s("EXEC xp_cmdshell 'whoami'")]))]));
}

#[test]
fn keyword_searches() {
    let d = "  keywords:\n    - 'mimikatz'\n    - 'sekurlsa'\n  condition: keywords\n";
    assert!(
        fires(d, &[("CommandLine", s("run MimiKatz.exe"))]),
        "substring, any field, case-insensitive"
    );
    assert!(!fires(d, &[("CommandLine", s("notepad"))]));
    let d =
        "  keywords:\n    '|all':\n      - 'net'\n      - 'localgroup'\n  condition: keywords\n";
    assert!(fires(d, &[("Image", s("net.exe")), ("CommandLine", s("x localgroup admins"))]));
    assert!(!fires(d, &[("CommandLine", s("net user"))]));
}

#[test]
fn condition_forms() {
    let d = "  selection_a:\n    A: 1\n  selection_b:\n    B: 1\n  filter_c:\n    C: 1\n  _hidden:\n    H: 1\n";
    let with = |condition: &str| format!("{d}  condition: {condition}\n");
    let ab = [("A", s("1")), ("B", s("1"))];
    assert!(fires(&with("1 of selection_*"), &[("A", s("1"))]));
    assert!(!fires(&with("all of selection_*"), &[("A", s("1"))]));
    assert!(fires(&with("all of selection_*"), &ab));
    assert!(fires(&with("all of selection_* and not 1 of filter_*"), &ab));
    assert!(!fires(
        &with("all of selection_* and not 1 of filter_*"),
        &[("A", s("1")), ("B", s("1")), ("C", s("1"))]
    ));
    assert!(fires(&with("1 of them"), &[("C", s("1"))]));
    assert!(!fires(&with("1 of them"), &[("H", s("1"))]), "them skips _ identifiers");
    assert!(fires(&with("1 of _*"), &[("H", s("1"))]));
    assert!(!fires(&with("all of them"), &ab), "all of them needs filter_c too");
    assert!(fires(
        &with("selection_a and (selection_b or filter_c) and not _hidden"),
        &[("A", s("1")), ("C", s("1"))]
    ));
    assert!(fires(&with("not (selection_a or selection_b)"), &[("C", s("1"))]));
    assert!(
        fires(&with("selection_a or selection_b and filter_c"), &[("A", s("1"))]),
        "and binds tighter"
    );
    assert!(fires(&with("2 of selection_* "), &ab));
    // A list of conditions: any of them.
    let list = format!("{d}  condition:\n    - selection_a and filter_c\n    - selection_b\n");
    assert!(fires(&list, &[("B", s("1"))]));
    // A list of maps under one identifier: any map.
    let any = "  sel:\n    - A: 1\n      B: 2\n    - C: 3\n  condition: sel\n";
    assert!(fires(any, &[("C", s("3"))]));
    assert!(!fires(any, &[("A", s("1"))]));
}

#[test]
fn filters_apply_to_the_rules_they_name() {
    let yaml = "title: Shell from web server\nid: 11111111-1111-1111-1111-111111111111\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    ParentImage|endswith: '\\w3wp.exe'\n  condition: sel\n---\ntitle: Ignore the health probe\nlogsource:\n  product: windows\n  category: process_creation\nfilter:\n  rules:\n    - 11111111-1111-1111-1111-111111111111\n  selection:\n    CommandLine|contains: 'healthcheck'\n  condition: not selection\n";
    let set = common::ruleset(yaml);
    let rule = &set.rules()[0];
    assert!(rule.matches(&event(&[
        ("ParentImage", s(r"c:\w\w3wp.exe")),
        ("CommandLine", s("cmd /c whoami"))
    ])));
    assert!(!rule.matches(&event(&[
        ("ParentImage", s(r"c:\w\w3wp.exe")),
        ("CommandLine", s("cmd /c healthcheck"))
    ])));
}

#[test]
fn logsource_routes_events() {
    let set = common::ruleset(
        "title: t\nlogsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n    A: 1\n  condition: sel\n",
    );
    assert!(
        !set.rules()[0].matches(&event(&[("A", s("1"))])),
        "a sysmon event is not a security event"
    );
}

#[test]
fn unsupported_constructs_are_load_errors_naming_rule_construct_and_line() {
    let e = load_error("  sel:\n    CommandLine|expand: '%x%'\n  condition: sel\n");
    assert!(e.starts_with("builtin:b.yml:6:"), "{e}");
    assert!(e.contains("rule \"broken rule\"") && e.contains("expand"), "{e}");
    let e = load_error("  sel:\n    UtcTime|hour: 3\n  condition: sel\n");
    assert!(e.contains("time-part modifier 'hour'") && e.contains(":6:"), "{e}");
    let e = load_error("  sel:\n    CommandLine|re: '(?<=a)b'\n  condition: sel\n");
    assert!(e.contains("look-around") && e.contains(":6:"), "{e}");
    let e = load_error("  sel:\n    A: 1\n  condition: sel and 1 of nothing_*\n");
    assert!(e.contains("matches no search identifier") && e.contains(":7:"), "{e}");
    let e = load_error("  sel:\n    A: 1\n  condition: sel and other\n");
    assert!(e.contains("'other' is not a search identifier"), "{e}");
    let e = load_error("  sel:\n    A|cidr: '10.0.0.0/99'\n  condition: sel\n");
    assert!(e.contains("not a network"), "{e}");
    let e = load_error("  sel:\n    A|base64: 'a*'\n  condition: sel\n");
    assert!(e.contains("wildcards cannot be encoded"), "{e}");
    let e = load_error("  sel:\n    A|gt: 'many'\n  condition: sel\n");
    assert!(e.contains("need a number"), "{e}");
    let e = load_error("  sel:\n    A|contains|re: 'x'\n  condition: sel\n");
    assert!(e.contains("cannot be combined"), "{e}");
    let e = load_error("  sel:\n    A|notamodifier: 'x'\n  condition: sel\n");
    assert!(e.contains("notamodifier") && e.contains(":6:"), "{e}");
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn correlation_rules_are_compiled_and_unsupported_ones_reported() {
    let yaml = "title: Shell\nname: shell\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel\n---\ntitle: Many shells\ncorrelation:\n  type: event_count\n  rules:\n    - shell\n  group-by:\n    - Computer\n  timespan: 10m\n  condition:\n    gte: 5\nlevel: high\n---\ntitle: Tumbling\ncorrelation:\n  type: event_count\n  rules:\n    - shell\n  timespan: 10m\n  window: tumbling\n  condition:\n    gte: 5\n";
    let loaded = load_text(Origin::Builtin("c.yml".into()), yaml.into());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    assert_eq!(loaded.correlations.len(), 2);
    let (set, diagnostics) = shellward_engine::RuleSet::compile(&loaded);
    assert_eq!(set.len(), 1, "the base rule runs");
    assert_eq!(set.correlations().len(), 1, "the sliding event_count is evaluated");
    assert_eq!(diagnostics.len(), 1);
    let message = diagnostics[0].to_string();
    assert!(message.starts_with("builtin:c.yml:23: error: rule \"Tumbling\""), "{message}");
    assert!(message.contains("does not evaluate tumbling or session windows"), "{message}");
}
