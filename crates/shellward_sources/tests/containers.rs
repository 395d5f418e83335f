//! gzip, zip, JSON arrays, evtx_dump's `Record N` layout, and directory walking.

#![allow(clippy::unwrap_used)]

mod common;

use common::{fixture, read_bytes};
use std::io::Write;

#[test]
fn gzip_is_read_transparently() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(fixture("mssql_15457_xp_cmdshell_enabled.evtx")).unwrap()).unwrap();
    let got = read_bytes(&gz.finish().unwrap(), "log.evtx.gz");
    assert_eq!(got.events.len(), 2);
    assert!(got.problems.is_empty());
    assert_eq!(got.events[0].get_str("ConfigOption"), Some("xp_cmdshell"));
}

#[test]
fn zip_members_are_read_each_on_its_own() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("a/exchange.evtx", options).unwrap();
    zip.write_all(
        &std::fs::read(fixture("exchange_6_install_transportagent_failed.evtx")).unwrap(),
    )
    .unwrap();
    zip.start_file("b/events.jsonl", options).unwrap();
    zip.write_all(b"{\"Channel\":\"Security\",\"EventID\":4688}\n").unwrap();
    zip.start_file("c/README", options).unwrap();
    zip.write_all(b"not telemetry").unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let got = read_bytes(&bytes, "bundle.zip");
    assert_eq!(got.events.len(), 5);
    assert_eq!(&*got.events[0].provenance.path, "bundle.zip!a/exchange.evtx");
    assert_eq!(&*got.events[4].provenance.path, "bundle.zip!b/events.jsonl");
    // The README is only noted, as in a directory.
    assert_eq!(got.problems.len(), 1);
    assert_eq!(got.problems[0].severity, shellward_sources::Severity::Note);
}

#[test]
fn json_array_pretty_and_evtx_dump_layouts() {
    let array = b"[\n  {\"Channel\": \"Security\", \"EventID\": 4688},\n  {\"Channel\": \"System\", \"EventID\": 7045}\n]\n";
    let got = read_bytes(array, "array.json");
    assert_eq!(got.events.len(), 2);
    assert_eq!(got.events[1].provenance.record, 3, "line of the second record");
    let dump = b"Record 1\n{\n  \"Event\": {\n    \"System\": {\"EventID\": 7045, \"Channel\": \"System\", \"Computer\": \"DC1\"},\n    \"EventData\": {\"ServiceName\": \"x\"}\n  }\n}\nRecord 2\n{\n  \"Event\": {\"System\": {\"EventID\": 1, \"Channel\": \"System\"}}\n}\n";
    let got = read_bytes(dump, "dump.json");
    assert_eq!(got.events.len(), 2, "{:?}", got.problem_texts());
    assert_eq!(got.events[0].host.as_deref(), Some("DC1"));
    assert_eq!(got.events[0].logsource.service, Some("system"));
}

#[test]
fn directories_are_walked_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::copy(
        fixture("exchange_6_install_transportagent_failed.evtx"),
        dir.path().join("sub/b.evtx"),
    )
    .unwrap();
    std::fs::copy(fixture("mssql_15457_xp_cmdshell_enabled.evtx"), dir.path().join("a.evtx"))
        .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let (files, problems) = shellward_sources::expand(&[dir.path().to_owned()]);
    assert!(problems.is_empty());
    let names: Vec<_> =
        files.iter().map(|f| f.name.rsplit('/').next().unwrap().to_owned()).collect();
    assert_eq!(names, ["a.evtx", "notes.txt", "b.evtx"]);
    let mut got = common::Collected::default();
    let _ =
        shellward_sources::read_all(&files, &shellward_sources::ReadOptions::default(), &mut got);
    assert_eq!(got.events.len(), 6);
    assert!(got.events[0].provenance.path.ends_with("a.evtx"));
    assert!(got.events[5].provenance.path.ends_with("b.evtx"));
}

/// A sink that keeps each event's file and record, counts the files done, and stops after `stop`
/// events.
#[derive(Default)]
struct Ordered {
    seen: Vec<(String, u64)>,
    done: usize,
    stop: Option<usize>,
}

impl shellward_sources::Sink for Ordered {
    fn event(&mut self, event: shellward_event::Event) -> std::ops::ControlFlow<()> {
        self.seen.push((event.provenance.path.to_string(), event.provenance.record));
        match self.stop {
            Some(stop) if self.seen.len() >= stop => std::ops::ControlFlow::Break(()),
            _ => std::ops::ControlFlow::Continue(()),
        }
    }
    fn problem(&mut self, problem: shellward_sources::Problem) {
        panic!("unexpected problem: {problem}");
    }
    fn file_done(&mut self, _: u64) {
        self.done += 1;
    }
}

#[test]
fn many_small_files_and_a_large_one_come_out_in_input_order_and_a_stop_stops() {
    // Files claim sizes that make several batches of small files (each replayed while the next
    // is decoded) with a large file between them, which is read on its own.
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for n in 0..23 {
        let path = dir.path().join(format!("f{n:02}.jsonl"));
        let lines: String = (0..(n % 4 + 1))
            .map(|i| format!("{{\"Channel\":\"Security\",\"EventID\":{},\"n\":{n}}}\n", 4600 + i))
            .collect();
        std::fs::write(&path, lines).unwrap();
        let size = if n == 11 { 9 << 20 } else { 5 << 20 };
        files.push(shellward_sources::InputFile {
            source: shellward_sources::Source::Path(path),
            name: format!("f{n:02}.jsonl").into(),
            explicit: true,
            size,
        });
    }
    let expected: Vec<(String, u64)> = (0..23)
        .flat_map(|n| (1..=n % 4 + 1).map(move |line| (format!("f{n:02}.jsonl"), line as u64)))
        .collect();
    for threads in [1, 2, 4] {
        let options = shellward_sources::ReadOptions::with_threads(threads);
        let mut all = Ordered::default();
        let flow = shellward_sources::read_all(&files, &options, &mut all);
        assert!(flow.is_continue());
        assert_eq!(all.seen, expected, "threads {threads}");
        assert_eq!(all.done, files.len());
        // A stop in the middle of a batch: nothing more is delivered.
        let mut stopped = Ordered { stop: Some(30), ..Ordered::default() };
        let flow = shellward_sources::read_all(&files, &options, &mut stopped);
        assert!(flow.is_break());
        assert_eq!(stopped.seen, expected[..30], "threads {threads}");
    }
}
