//! Helpers shared by the integration tests.

#![allow(dead_code, clippy::unwrap_used)]

use shellward_sources::{InputFile, ReadOptions, Source};
use std::path::{Path, PathBuf};

pub(crate) use shellward_sources::Collected;

/// Reads one file, naming it `name` in provenance and problems.
pub(crate) fn read_named(path: &Path, name: &str, threads: usize) -> Collected {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let file = InputFile {
        source: Source::Path(path.to_owned()),
        name: name.into(),
        explicit: true,
        size,
    };
    let mut out = Collected::default();
    let _ = shellward_sources::read_input(&file, &ReadOptions::with_threads(threads), &mut out);
    out
}

/// Reads bytes written to a temporary file.
pub(crate) fn read_bytes(bytes: &[u8], name: &str) -> Collected {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input");
    std::fs::write(&path, bytes).unwrap();
    read_named(&path, name, 2)
}

/// The repository's own fixtures.
pub(crate) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}
