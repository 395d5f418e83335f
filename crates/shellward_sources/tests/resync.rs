//! Property: garbage lines inserted anywhere in a valid JSON-lines file or access log cost only
//! themselves. Every valid line still comes out, in order, and each garbage line is reported
//! once, at its own line.

#![allow(clippy::unwrap_used)]

mod common;

use common::read_bytes;
use proptest::prelude::*;
use shellward_sources::{Location, Severity};

/// A garbage line: a first byte no record and no top-level JSON separator starts with, then any
/// bytes but a line break.
fn garbage() -> impl Strategy<Value = Vec<u8>> {
    let first = prop_oneof![
        proptest::sample::select(b"abcxyzQ0189#!@%^&*()_=+-;:'\"\\|/?~`".to_vec()),
        (0u8..=8),
        (0x80u8..=0xEE),
        (0xF0u8..=0xFF),
    ];
    let rest = proptest::collection::vec(
        any::<u8>().prop_filter("no line break", |b| *b != b'\n'),
        0..120,
    );
    (first, rest).prop_map(|(first, mut rest)| {
        rest.insert(0, first);
        rest
    })
}

/// Lines of a file: `valid` records with `garbage` lines put in at the given places (at most as
/// many garbage lines as valid ones, so the file is still recognized for what it is).
fn interleave(valid: &[Vec<u8>], garbage: &[(usize, Vec<u8>)]) -> (Vec<u8>, Vec<u64>) {
    let mut lines: Vec<(bool, &[u8])> = valid.iter().map(|v| (true, v.as_slice())).collect();
    for (at, line) in garbage {
        let at = at % (lines.len() + 1);
        lines.insert(at, (false, line.as_slice()));
    }
    let mut bytes = Vec::new();
    let mut garbage_lines = Vec::new();
    for (number, (is_valid, line)) in lines.iter().enumerate() {
        if !is_valid {
            garbage_lines.push(number as u64 + 1);
        }
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
    }
    (bytes, garbage_lines)
}

fn check(
    bytes: &[u8],
    name: &str,
    valid: usize,
    garbage_lines: &[u64],
    key: &str,
    expect: impl Fn(usize) -> String,
) {
    let got = read_bytes(bytes, name);
    let values: Vec<String> =
        got.events.iter().map(|e| e.get_str(key).unwrap_or("?").to_owned()).collect();
    let expected: Vec<String> = (0..valid).map(expect).collect();
    assert_eq!(values, expected, "{:?}", got.problem_texts());
    let errors: Vec<u64> = got
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| match p.location {
            Some(Location::Line(n)) => n,
            other => panic!("problem without a line: {other:?} {p}"),
        })
        .collect();
    assert_eq!(errors, garbage_lines, "{:?}", got.problem_texts());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn json_lines_keep_every_valid_record(
        images in proptest::collection::vec("[ -~]{0,40}", 1..25),
        garbage in proptest::collection::vec((any::<usize>(), garbage()), 0..25),
    ) {
        let valid: Vec<Vec<u8>> = images
            .iter()
            .enumerate()
            .map(|(i, image)| {
                serde_json::to_vec(&serde_json::json!({
                    "Channel": "Microsoft-Windows-Sysmon/Operational",
                    "EventID": 1,
                    "Image": image,
                    "n": i.to_string(),
                }))
                .unwrap()
            })
            .collect();
        let garbage = &garbage[..garbage.len().min(valid.len())];
        let (bytes, garbage_lines) = interleave(&valid, garbage);
        check(&bytes, "lines.jsonl", valid.len(), &garbage_lines, "n", |i| i.to_string());
    }

    #[test]
    fn access_logs_keep_every_valid_line(
        count in 1usize..30,
        garbage in proptest::collection::vec((any::<usize>(), garbage()), 0..30),
    ) {
        let valid: Vec<Vec<u8>> = (0..count)
            .map(|i| format!("203.0.113.7 - - [26/Dec/2016:16:16:29 +0200] \"GET /p{i}.php?c=id HTTP/1.1\" 200 12 \"-\" \"curl/8\"").into_bytes())
            .collect();
        let garbage = &garbage[..garbage.len().min(valid.len())];
        let (bytes, garbage_lines) = interleave(&valid, garbage);
        check(&bytes, "access.log", count, &garbage_lines, "cs-uri-stem", |i| format!("/p{i}.php"));
    }
}
