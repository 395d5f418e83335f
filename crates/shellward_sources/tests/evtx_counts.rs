//! Every EVTX file of the shared corpora gives exactly as many records, and as many errors, as
//! `evtx_dump` of the evtx crate (counts recorded once in `fixtures/evtx_dump_counts.tsv` by
//! `scripts/evtx-dump-counts`), including the deliberately broken samples.

#![allow(clippy::unwrap_used)]

mod common;

#[test]
fn record_and_error_counts_match_evtx_dump() {
    let Some(data) = shellward_testdata::shared("data") else { return };
    let table = std::fs::read_to_string(common::fixture("evtx_dump_counts.tsv")).unwrap();
    let mut files = 0;
    let mut broken = 0;
    for line in table.lines() {
        let mut cols = line.split('\t');
        let (path, ok, bad) = (cols.next().unwrap(), cols.next().unwrap(), cols.next().unwrap());
        let (ok, bad): (usize, usize) = (ok.parse().unwrap(), bad.parse().unwrap());
        let got = common::read_named(&data.join(path), path, 2);
        assert_eq!(got.events.len(), ok, "records of {path}");
        assert_eq!(got.problems.len(), bad, "errors of {path}: {:?}", got.problem_texts());
        for problem in &got.problems {
            assert!(problem.location.is_some(), "{problem} has no location");
        }
        files += 1;
        broken += usize::from(bad > 0);
    }
    assert!(files >= 280, "{files} files");
    assert_eq!(broken, 2, "the two deliberately broken samples");
}

#[test]
fn otrf_zip_is_read_without_unpacking() {
    let Some(dir) = shellward_testdata::shared("data/otrf") else { return };
    let zip = dir.join("metasploit_logonpasswords_lsass_memory_dump.zip");
    let got = common::read_named(&zip, "otrf.zip", 2);
    assert_eq!(got.events.len(), 53_698);
    assert!(got.problems.is_empty(), "{:?}", got.problem_texts());
    let sysmon_1 = got
        .events
        .iter()
        .filter(|e| {
            e.logsource.category == Some("process_creation")
                && e.logsource.service == Some("sysmon")
        })
        .count();
    assert_eq!(sysmon_1, 269);
    let first = &got.events[0];
    assert_eq!(first.host.as_deref(), Some("MKT01.pandalab.com"));
    assert_eq!(
        &*first.provenance.path,
        "otrf.zip!metasploit_logonpasswords_lsass_memory_dump.json"
    );
}
