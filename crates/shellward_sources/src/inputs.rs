//! What the user named on the command line, expanded to files.

use crate::problem::{DecodeError, Problem};
use std::path::PathBuf;
use std::sync::Arc;

/// One file to read.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Where the bytes come from.
    pub source: Source,
    /// The name used in provenance and messages.
    pub name: Arc<str>,
    /// Whether the user named it (an unknown format is then an error) or it was found inside a
    /// directory (an unknown format is then only noted: logs sit beside READMEs).
    pub explicit: bool,
    /// Its size in bytes, when known (0 for standard input).
    pub size: u64,
}

/// Where an input's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

/// Expands paths: `-` is standard input, directories are walked recursively (in name order, so
/// output is deterministic), files are taken as they are. Paths that cannot be read are reported.
pub fn expand(paths: &[PathBuf]) -> (Vec<InputFile>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(InputFile {
                source: Source::Stdin,
                name: "-".into(),
                explicit: true,
                size: 0,
            });
            continue;
        }
        let name: Arc<str> = path.display().to_string().into();
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let walker = walkdir::WalkDir::new(path).follow_links(true).sort_by_file_name();
                for entry in walker {
                    match entry {
                        Ok(e) if e.file_type().is_file() => {
                            let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                            files.push(InputFile {
                                name: e.path().display().to_string().into(),
                                source: Source::Path(e.into_path()),
                                explicit: false,
                                size,
                            });
                        }
                        Ok(_) => {}
                        Err(e) => {
                            let at: Arc<str> = e.path().map_or_else(
                                || Arc::clone(&name),
                                |p| p.display().to_string().into(),
                            );
                            let io = e
                                .into_io_error()
                                .unwrap_or_else(|| std::io::Error::other("walk failed"));
                            problems.push(Problem::error(&at, None, DecodeError::Io(io)));
                        }
                    }
                }
            }
            Ok(meta) => files.push(InputFile {
                source: Source::Path(path.clone()),
                name,
                explicit: true,
                size: meta.len(),
            }),
            Err(e) => problems.push(Problem::error(&name, None, DecodeError::Io(e))),
        }
    }
    (files, problems)
}
