//! The normalized event: what every shellward decoder produces and every rule reads.
//!
//! # Design
//!
//! shellward reads a dozen telemetry formats (EVTX, evtx_dump JSON, Winlogbeat, Splunk XML, flattened
//! JSON exports, and more to come). Each decoder turns one source record into one [`Event`], and from
//! there on nothing downstream knows which format the record came from, except through
//! [`Provenance`], which is kept so that every alert can point back at its file and record.
//!
//! An event has three parts:
//!
//! - a [`LogSource`] in the Sigma taxonomy (`product` / `category` / `service`), so a rule written for
//!   `windows` / `process_creation` meets Sysmon event 1 and Security event 4688 alike;
//! - an ordered list of fields, named after the Sigma taxonomy (`Image`, `CommandLine`,
//!   `TargetFilename`, ...) where the source has an equivalent, *and* under the source's own names, so a
//!   rule may name either;
//! - the host, the event time in UTC, and the provenance (source path, record number or line, format).
//!
//! Fields are a small vector rather than a map: a Windows record has ten to forty fields, a linear scan
//! over them is as fast as hashing, and the order of the source is kept for display. Values own their
//! text because decoders move the strings out of the parsed record instead of copying them.
//!
//! This crate is deliberately tiny: it depends on `jiff` for timestamps and `serde` so that events can
//! be printed, and nothing else, so the matcher that reads events stays free of decoder dependencies.

mod event;
mod logsource;
mod provenance;
mod raw_form;
mod stored;
mod value;

pub use event::{Event, FieldName};
pub use jiff::Timestamp;
pub use logsource::LogSource;
pub use provenance::{Format, Provenance};
pub use raw_form::{RawForm, RawText, ReadJson};
pub use stored::StoredEvent;
pub use value::Value;
