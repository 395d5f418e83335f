//! Decoders: telemetry files in, normalized [`shellward_event::Event`]s out.
//!
//! # Data flow
//!
//! ```text
//! paths ─► inputs::expand ─► reader (per file: gzip/zip opened, content sniffed)
//!            ├─ EVTX ─────────► evtx_file ─┐  (chunks no rule reads left out, then the evtx crate)
//!            ├─ JSON ─► json::framer ──────┼─► one builder per record shape ─► windows::finish ─► Sink
//!            ├─ XML ──► xml::Framer ───────┘  (records decoded in parallel batches)
//!            ├─ CSV ──► csv_rows (header + rows) ─► edr::defender ──────────────────────┐
//!            ├─ audit ► auditd::Grouper (records of one event) ─► auditd ──────────────┤
//!            └─ lines ─► lines::LineFramer ─► esxi | web::w3c | web::clf ─────────────┴─► Sink
//! ```
//!
//! - **Sniffing, not extensions.** Each file is recognized by its first bytes (EVTX magic, gzip, zip,
//!   UTF-16 byte order marks, then `{`/`[` for JSON, `<` for XML, and the first line's layout for line logs), because collected telemetry is
//!   named anything. `--input-format` ([`ReadOptions::format`]) overrides it.
//! - **One normalizer per source family.** Every rendering of a Windows event (binary, JSON, XML,
//!   Winlogbeat, flattened) is built into the same raw field names and then completed by
//!   `windows` from a mapping table (`mappings/windows.toml`, data not code): Sigma log source,
//!   taxonomy field names (Security 4688 `NewProcessName` is also `Image`), host and time.
//! - **Bad input is reported, never fatal.** Every decoder hands a [`Problem`] (file, and record,
//!   chunk or line) to the [`Sink`] and goes on with the next record; framers bound what they keep
//!   (a record larger than the limit is skipped), so no input makes memory grow without bound.
//! - **Screened where decoded.** A caller may pass a [`Screen`] ([`ReadOptions::screen`]): it runs on
//!   the decoding thread right after each event is built, and an event it rejects is dropped there
//!   (the sink only counts it), so the events no rule matches never cross threads or queue in memory.
//! - **Skipped unread.** A Windows record's route (channel and event ID) is read in a light pass
//!   before it is built ([`RawRoute`]); the screen may then skip it without parsing or building it
//!   ([`Screen::may_skip`], [`Screen::skips_raw`]): a hunt does when no rule reads the route, or when
//!   the record's JSON text (EVTX records: the evtx crate's rendering) holds none of the texts the
//!   route's rules need. Invalid JSON is never skipped: it is decoded and reported. An EVTX
//!   record's route is read from its binary XML ([`Screen::skips_route`]): a chunk whose every
//!   record the screen skips that way is never given to the evtx crate (`evtx_extent`), and the
//!   records of the others are built in one pass over the crate's JSON (`json::evtx_stream`).
//! - **Parallel, in order.** Small files are decoded several at a time, large files by chunks or
//!   batches of records, and the sink receives everything in input order, so output is deterministic.

mod auditd;
mod collect;
mod csv_rows;
mod edr;
mod esxi;
mod evtx_extent;
mod evtx_file;
mod evtx_route;
mod evtx_search;
mod follow;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod in_order;
mod inputs;
mod json;
mod lines;
mod mapping;
mod problem;
mod raw;
mod reader;
mod screen;
mod sniff;
mod text;
mod utf16;
mod web;
mod window;
mod windows;
mod xml;

pub use collect::{Collected, collect};

/// The product field mappings (`mappings/edr.toml`) as the decoders apply them, for the
/// renderers, which write the same fields as queries: one table, read by both.
pub mod mappings {
    pub use crate::edr::tables::{Entry, Tables};
    pub use crate::mapping::{FieldSpec, TemplatePart};
}
pub use follow::{Follower, FollowerState, Polled, Tail};
pub use inputs::{InputFile, Source, expand};
pub use problem::{DecodeError, Location, Problem, Severity};
pub use raw::RawRoute;
pub use reader::{ReadOptions, Sink, read_all, read_bytes, read_input};
pub use screen::{Marks, Screen};
pub use shellward_event::Format;

/// Every format a user may name (`--input-format`), in the order help lists them.
pub const FORMATS: [Format; 12] = [
    Format::Evtx,
    Format::EvtxJson,
    Format::EvtxXml,
    Format::Winlogbeat,
    Format::FlatJson,
    Format::Json,
    Format::EsxiLog,
    Format::W3cLog,
    Format::AccessLog,
    Format::Defender,
    Format::FalconFdr,
    Format::Auditd,
];

/// The format of [`FORMATS`] with this name.
pub fn format_by_name(name: &str) -> Option<Format> {
    FORMATS.into_iter().find(|f| f.name() == name)
}
