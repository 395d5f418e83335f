//! What can go wrong reading telemetry, and how it is reported.
//!
//! Decoders never stop at a bad record: they hand a [`Problem`] to the [`crate::Sink`] and go on. A
//! problem names the file and, where the format has one, the record, line or chunk, so the user can
//! find the bytes that were refused.

use std::fmt;
use std::sync::Arc;

/// Where in a file a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// An EVTX record, by `EventRecordID`.
    Record(u64),
    /// An EVTX chunk, by its number in the file (0-based).
    Chunk(u64),
    /// An EVTX record that could not even be identified: its chunk, if known, and byte offset in it.
    ChunkOffset {
        /// The chunk number, if the parser knew it.
        chunk: Option<u64>,
        /// The record's offset inside its chunk.
        offset: u64,
    },
    /// A 1-based line of a text file (where the record starts).
    Line(u64),
    /// A byte offset in the file.
    Offset(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Record(id) => write!(f, "record {id}"),
            Location::Chunk(n) => write!(f, "chunk {n}"),
            Location::ChunkOffset { chunk: Some(c), offset } => {
                write!(f, "chunk {c} offset {offset:#x}")
            }
            Location::ChunkOffset { chunk: None, offset } => write!(f, "chunk offset {offset:#x}"),
            Location::Line(n) => write!(f, "line {n}"),
            Location::Offset(n) => write!(f, "byte offset {n}"),
        }
    }
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Not a problem with the data: a file found while walking a directory that no decoder reads
    /// (a README beside the logs). Shown only when asked for.
    Note,
    /// Worth saying, but nothing was lost (an empty file).
    Warning,
    /// Some input could not be read; the run's exit code says so.
    Error,
}

/// Why a file, or part of it, could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The file could not be opened or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The EVTX parser refused a file, chunk or record; the text is its chain of causes.
    #[error("{0}")]
    Evtx(String),
    /// A record is not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A record is not valid XML, or not a Windows event.
    #[error("invalid XML event: {0}")]
    Xml(String),
    /// Text that is not valid UTF-16 where UTF-16 was announced by a byte order mark.
    #[error(
        "invalid UTF-16: {units} code unit(s) replaced with U+FFFD, the first at byte offset {first_offset}"
    )]
    Utf16 {
        /// How many code units were bad.
        units: u64,
        /// Where the first one was.
        first_offset: u64,
    },
    /// Bytes between records that belong to no record.
    #[error("not a record: {0}")]
    Garbage(String),
    /// A record larger than the decoder accepts (a guard against unbounded memory).
    #[error("record larger than {limit} bytes; skipped")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A record that stops before its end, with the reason the decoder knows (the records after
    /// it are read).
    #[error("record cut short ({0}); reading resumes at the next record")]
    CutShort(&'static str),
    /// The file ends inside a record.
    #[error("file ends inside a record (truncated)")]
    Truncated,
    /// No decoder recognizes the content.
    #[error(
        "unknown format (not EVTX, JSON, XML event log, Defender CSV, audit log, ESXi log or web access log)"
    )]
    UnknownFormat,
    /// `--input-format evtx` named a file that is not one.
    #[error("not an EVTX file (no ElfFile header): {0}")]
    NotEvtx(&'static str),
    /// A file read as some format that gave no event (and no error).
    #[error("read as {0}, but no events in it")]
    NoEvents(&'static str),
    /// The file has no bytes.
    #[error("empty file")]
    Empty,
    /// A zip archive that cannot be read.
    #[error("archive: {0}")]
    Archive(String),
    /// A file a watch followed before its restart that no followed path holds any more.
    #[error(
        "followed before the restart, but no followed path holds it now: what it gained since \
         the checkpoint is not read"
    )]
    GoneSinceCheckpoint,
}

/// One thing that went wrong, with where it went wrong.
#[derive(Debug)]
pub struct Problem {
    /// The file (as in [`shellward_event::Provenance::path`]).
    pub path: Arc<str>,
    /// Where in the file, if the format can say.
    pub location: Option<Location>,
    /// How bad it is.
    pub severity: Severity,
    /// What went wrong.
    pub error: DecodeError,
}

impl Problem {
    /// An error at a location of a file.
    pub fn error(path: &Arc<str>, location: Option<Location>, error: DecodeError) -> Self {
        Problem { path: Arc::clone(path), location, severity: Severity::Error, error }
    }

    /// A warning about a file.
    pub fn warning(path: &Arc<str>, error: DecodeError) -> Self {
        Problem { path: Arc::clone(path), location: None, severity: Severity::Warning, error }
    }

    /// A note about a file (see [`Severity::Note`]).
    pub fn note(path: &Arc<str>, error: DecodeError) -> Self {
        Problem { path: Arc::clone(path), location: None, severity: Severity::Note, error }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(location) = self.location {
            write!(f, ": {location}")?;
        }
        write!(f, ": {}", self.error)
    }
}
