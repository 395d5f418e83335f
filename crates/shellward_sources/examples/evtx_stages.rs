//! Where the time of decoding EVTX goes, stage by stage, for the raw-bytes prefilter's design
//! (issue 26): (1) the evtx crate's chunk parse and record content build, with a scan of each
//! record's raw bytes for a UTF-16LE text (what a prefilter would add); (2) the same plus the JSON
//! rendering; (3) plus the JSON parse into a value (what the decode floor does). Run in release:
//! `cargo run --release -p shellward_sources --example evtx_stages -- DIR...`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use evtx::{EvtxParser, ParserSettings};
use std::path::PathBuf;
use std::time::Instant;

/// How far each record is taken.
#[derive(Clone, Copy)]
enum Stage {
    Content,
    Json,
    Parse,
}

fn files(paths: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry.path().extension().is_some_and(|e| e.eq_ignore_ascii_case("evtx")) {
                out.push(entry.path().to_path_buf());
            }
        }
    }
    out
}

fn run(files: &[PathBuf], stage: Stage) -> (u64, u64) {
    let needle: Vec<u8> = "powershell".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let finder = memchr::memmem::Finder::new(&needle).into_owned();
    let (mut records, mut hits) = (0, 0);
    for file in files {
        let Ok(parser) = EvtxParser::from_path(file) else { continue };
        let mut parser = parser.with_configuration(ParserSettings::default().num_threads(2));
        let finder = finder.clone();
        let results = parser.serialized_records(move |record| {
            let record = record?;
            let start = record.binxml_offset as usize;
            let raw = &record.chunk.data[start..start + record.binxml_size as usize];
            let hit = finder.find(raw).is_some();
            match stage {
                Stage::Content => Ok(hit),
                Stage::Json => {
                    let json = record.into_json_bytes()?;
                    Ok(!json.data.is_empty() && hit)
                }
                Stage::Parse => {
                    let bytes = record.into_json_bytes()?.data;
                    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                    Ok(hit && value.is_object())
                }
            }
        });
        for result in results {
            records += 1;
            hits += u64::from(result.unwrap_or(false));
        }
    }
    (records, hits)
}

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let files = files(&paths);
    for (name, stage) in [
        ("content build + raw scan", Stage::Content),
        ("+ JSON rendering", Stage::Json),
        ("+ JSON parse (the floor's work)", Stage::Parse),
    ] {
        let mut best = f64::MAX;
        let mut counts = (0, 0);
        for _ in 0..5 {
            let start = Instant::now();
            counts = run(&files, stage);
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!("{name:<34} {best:7.3} s  ({} records, {} with the text)", counts.0, counts.1);
    }
}
