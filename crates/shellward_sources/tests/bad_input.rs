//! Hostile and broken input: every case is reported with its file and location, the valid records
//! around it still come out, and nothing panics or hangs.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Collected, fixture, read_bytes};
use shellward_sources::{DecodeError, Location, Severity};

const CHUNK: usize = 65536;
const HEADER: usize = 4096;

fn mssql() -> Vec<u8> {
    std::fs::read(fixture("mssql_15457_xp_cmdshell_enabled.evtx")).unwrap()
}
fn exchange() -> Vec<u8> {
    std::fs::read(fixture("exchange_6_install_transportagent_failed.evtx")).unwrap()
}

/// A three-chunk log: the mssql file's header and chunk, then the exchange chunk, then the mssql
/// chunk again (2 + 4 + 2 records).
fn three_chunks() -> Vec<u8> {
    let (a, b) = (mssql(), exchange());
    let mut out = a.clone();
    out.extend_from_slice(&b[HEADER..HEADER + CHUNK]);
    out.extend_from_slice(&a[HEADER..HEADER + CHUNK]);
    out
}

fn errors(got: &Collected) -> Vec<&shellward_sources::Problem> {
    got.problems.iter().filter(|p| p.severity == Severity::Error).collect()
}

#[test]
fn intact_three_chunk_log() {
    let got = read_bytes(&three_chunks(), "ok.evtx");
    assert_eq!(got.events.len(), 8);
    assert!(got.problems.is_empty(), "{:?}", got.problem_texts());
}

#[test]
fn corrupted_evtx_chunk() {
    let mut bytes = three_chunks();
    let chunk1 = HEADER + CHUNK;
    bytes[chunk1..chunk1 + 8].copy_from_slice(b"garbage!");
    let got = read_bytes(&bytes, "chunk.evtx");
    assert_eq!(got.events.len(), 4, "the two intact chunks");
    let errors = errors(&got);
    assert_eq!(errors.len(), 1, "{:?}", got.problem_texts());
    assert_eq!(errors[0].location, Some(Location::Chunk(1)));
    assert!(errors[0].to_string().starts_with("chunk.evtx: chunk 1: "));
}

#[test]
fn corrupted_evtx_record() {
    let mut bytes = three_chunks();
    // The second record of the exchange chunk (records start at chunk offset 512; a record header
    // is magic, size, id, time): overwrite the start of its body, keep its header.
    let first = HEADER + CHUNK + 512;
    let size = u32::from_le_bytes(bytes[first + 4..first + 8].try_into().unwrap()) as usize;
    let body = first + size + 24;
    bytes[body..body + 8].fill(0xEE);
    let got = read_bytes(&bytes, "record.evtx");
    let errors = errors(&got);
    assert_eq!(errors.len(), 1, "{:?}", got.problem_texts());
    assert!(matches!(errors[0].location, Some(Location::Record(_))), "{}", errors[0]);
    assert_eq!(got.events.len(), 7, "every other record");
}

#[test]
fn invalid_utf16_in_evtx_string() {
    let mut bytes = three_chunks();
    // "xp_cmdshell" in UTF-16LE, in the first chunk's records: make its first unit a lone surrogate.
    let needle: Vec<u8> = "xp_cmdshell".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let at = memchr::memmem::find(&bytes[HEADER..HEADER + CHUNK], &needle).unwrap() + HEADER;
    bytes[at..at + 2].copy_from_slice(&0xD800u16.to_le_bytes());
    let got = read_bytes(&bytes, "utf16.evtx");
    // The evtx crate replaces the bad unit with U+FFFD; the record is kept and the loss reported.
    assert_eq!(got.events.len(), 8);
    assert_eq!(got.problems.len(), 1, "{:?}", got.problem_texts());
    let problem = &got.problems[0];
    assert_eq!(problem.severity, Severity::Warning);
    assert_eq!(problem.location, Some(Location::Record(1)));
    assert!(problem.to_string().contains("invalid UTF-16 in Data"), "{problem}");
}

#[test]
fn truncated_evtx() {
    let bytes = three_chunks();
    let got = read_bytes(&bytes[..HEADER + CHUNK + CHUNK / 2], "cut.evtx");
    assert_eq!(got.events.len(), 2, "the complete first chunk");
    let errors = errors(&got);
    assert_eq!(errors.len(), 1, "{:?}", got.problem_texts());
    assert_eq!(errors[0].location, Some(Location::Chunk(1)));
    assert!(errors[0].to_string().contains("truncated"), "{}", errors[0]);
}

#[test]
fn malformed_json_line() {
    let text = b"{\"Channel\":\"Security\",\"EventID\":4688,\"NewProcessName\":\"C:\\\\a.exe\"}\n{\"Channel\": oops}\n{\"Channel\":\"Security\",\"EventID\":4624}\n";
    let got = read_bytes(text, "lines.json");
    assert_eq!(got.events.len(), 2);
    assert_eq!(got.events[0].get_str("Image"), Some("C:\\a.exe"));
    let errors = errors(&got);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].location, Some(Location::Line(2)));
    assert!(matches!(errors[0].error, DecodeError::Json(_)));
}

#[test]
fn garbage_line_in_an_esxi_log() {
    let text = b"2025-07-01T14:29:11.508Z shell[1]: [root]: ls\nnot a log line\n\n2025-07-01T14:29:12Z shell[1]: [root]: \xffid\n";
    let got = read_bytes(text, "shell.log");
    assert_eq!(got.events.len(), 2);
    assert_eq!(got.events[1].get_str("CommandLine"), Some("\u{FFFD}id"));
    assert_eq!(got.events[1].provenance.record, 4);
    let errors = errors(&got);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].location, Some(Location::Line(2)));
    assert!(matches!(errors[0].error, DecodeError::Garbage(_)));
}

#[test]
fn garbage_in_an_audit_log() {
    let text = b"type=SYSCALL msg=audit(1.0:1): syscall=59 success=yes pid=2 ppid=1 exe=\"/bin/sh\"\nnot an audit line\ntype=EXECVE msg=audit(1.0:1): argc=1 a0=ZZ\ntype=PATH msg=audit(2.0:2): name=\"\xff\" nametype=CREATE\n";
    let got = read_bytes(text, "audit.log");
    let errors = errors(&got);
    assert_eq!(errors.len(), 1, "{:?}", got.problem_texts());
    assert_eq!(errors[0].location, Some(Location::Line(2)));
    let process = got.events.iter().find(|e| e.logsource.category == Some("process_creation"));
    // `ZZ` is neither quoted nor hex: kept as it is.
    assert_eq!(process.and_then(|e| e.get_str("CommandLine")), Some("ZZ"));
    let file = got.events.iter().find(|e| e.logsource.category == Some("file_event"));
    assert_eq!(file.and_then(|e| e.get_str("TargetFilename")), Some("\u{FFFD}"));
}

#[test]
fn broken_rows_in_a_defender_csv_export() {
    let text = b"Timestamp,DeviceName,ActionType,FileName,ProcessCommandLine\n\
        2026-11-02T09:15:41Z,web01,ProcessCreated,cmd.exe,whoami\n\
        2026-11-02T09:15:42Z,web01,ProcessCreated\n\
        2026-11-02T09:15:43Z,web01,ProcessCreated,cmd.exe,\"never closed\n";
    let got = read_bytes(text, "export.csv");
    assert_eq!(got.events.len(), 1);
    let errors = errors(&got);
    assert_eq!(errors.len(), 2, "{:?}", got.problem_texts());
    assert_eq!(errors[0].location, Some(Location::Line(3)));
    assert!(matches!(errors[1].error, DecodeError::Truncated));
}

#[test]
fn envelope_with_a_broken_record() {
    let text = br#"{"records":[{"category":"AdvancedHunting-DeviceProcessEvents","properties":{"Timestamp":"2026-11-02T09:15:41Z","DeviceName":"w","ActionType":"ProcessCreated"}},7]}"#;
    let got = read_bytes(text, "message.json");
    assert_eq!(got.events.len(), 1);
    assert_eq!(got.events[0].logsource.category, Some("process_creation"));
    assert_eq!(errors(&got).len(), 1);
}

#[test]
fn invalid_utf8_in_json_line() {
    let got = read_bytes(b"{\"a\":\"\xff\xfe\"}\n{\"b\":1}\n", "bad-utf8.json");
    assert_eq!(got.events.len(), 1);
    assert_eq!(errors(&got)[0].location, Some(Location::Line(1)));
}

#[test]
fn invalid_utf16_text_file() {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in
        "{\"a\":\"x\"}\n{\"b\":\"".encode_utf16().chain([0xDC00]).chain("\"}\n".encode_utf16())
    {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let got = read_bytes(&bytes, "utf16.json");
    assert_eq!(got.events.len(), 2, "both records, the bad unit replaced");
    let errors = errors(&got);
    assert_eq!(errors.len(), 1);
    assert!(matches!(errors[0].error, DecodeError::Utf16 { units: 1, .. }), "{}", errors[0]);
}

#[test]
fn truncated_json() {
    let got = read_bytes(b"{\"a\":1}\n{\"b\":{\"c\":", "cut.json");
    assert_eq!(got.events.len(), 1);
    let errors = errors(&got);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].location, Some(Location::Line(2)));
    assert!(matches!(errors[0].error, DecodeError::Truncated));
}

#[test]
fn truncated_xml() {
    let event = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1</EventID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>h</Computer></System><EventData><Data Name='Image'>C:\\a.exe</Data></EventData></Event>";
    let text = format!("{event}\n{}", &event[..80]);
    let got = read_bytes(text.as_bytes(), "cut.xml");
    assert_eq!(got.events.len(), 1);
    assert_eq!(got.events[0].logsource.category, Some("process_creation"));
    assert!(matches!(errors(&got)[0].error, DecodeError::Truncated));
}

#[test]
fn xml_event_cut_before_the_next_one_costs_only_itself() {
    let event = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1</EventID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>h</Computer></System><EventData><Data Name='Image'>C:\\a.exe</Data></EventData></Event>";
    let text = format!("{event}\n{}\n{event}\n{}\n{event}\n", &event[..120], &event[..30]);
    let got = read_bytes(text.as_bytes(), "cut.xml");
    assert_eq!(got.events.len(), 3, "{:?}", got.problem_texts());
    let errors = errors(&got);
    assert_eq!(errors.len(), 2, "{:?}", got.problem_texts());
    assert_eq!(errors[0].location, Some(Location::Line(2)));
    assert_eq!(errors[1].location, Some(Location::Line(4)));
    assert!(matches!(errors[0].error, DecodeError::CutShort(_)));
}

#[test]
fn a_csv_row_cut_inside_quotes_costs_only_itself() {
    let header = "Timestamp,DeviceName,ActionType,FileName,FolderPath,InitiatingProcessFileName";
    let row = |n: u32| {
        format!(
            "2026-11-02T09:15:4{n}Z,web01,FileCreated,s{n}.aspx,\"C:\\inetpub\\wwwroot\",w3wp.exe"
        )
    };
    let text = format!(
        "{header}\n{}\n2026-11-02T09:15:45Z,web01,FileCreated,\"cut.aspx\n{}\n{}\n",
        row(1),
        row(2),
        row(3)
    );
    let got = read_bytes(text.as_bytes(), "export.csv");
    let names: Vec<_> = got.events.iter().map(|e| e.get_str("FileName").unwrap_or("?")).collect();
    assert_eq!(names, ["s1.aspx", "s2.aspx", "s3.aspx"], "{:?}", got.problem_texts());
    let errors = errors(&got);
    assert_eq!(errors.len(), 1, "{:?}", got.problem_texts());
    assert_eq!(errors[0].location, Some(Location::Line(3)));
    assert!(matches!(errors[0].error, DecodeError::CutShort(_)));
}

#[test]
fn random_bytes() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let random: Vec<u8> = (0..100_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let got = read_bytes(&random, "random.bin");
    assert!(got.events.is_empty());
    assert!(matches!(errors(&got)[0].error, DecodeError::UnknownFormat));
    // Behind an EVTX magic the parser sees garbage chunks: reported, no panic.
    let mut evtx = b"ElfFile\0".to_vec();
    evtx.extend_from_slice(&random);
    let got = read_bytes(&evtx, "random.evtx");
    assert!(got.events.is_empty());
    assert!(!errors(&got).is_empty());
}

/// Deterministic byte flips all over a real log: whatever happens, it is reported, never a panic.
#[test]
fn mutated_evtx_never_panics() {
    let original = three_chunks();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..40 {
        let mut bytes = original.clone();
        for _ in 0..16 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
        }
        let got = read_bytes(&bytes, "mutated.evtx");
        assert!(got.events.len() <= 8);
    }
}

#[test]
fn empty_file() {
    let got = read_bytes(b"", "empty.evtx");
    assert!(got.events.is_empty());
    assert_eq!(got.problems.len(), 1);
    assert_eq!(got.problems[0].severity, Severity::Warning);
    assert!(matches!(got.problems[0].error, DecodeError::Empty));
}
