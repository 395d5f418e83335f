//! A scan finding: an event for the file (or link) and the rule that fired, the alert contract's
//! shape, so `hunt`'s writers, levels and exit statuses serve `scan` unchanged.

use crate::walk::FileEntry;
use shellward_engine::RuleInfo;
use shellward_event::{Event, Format, LogSource, Provenance, Timestamp, Value};
use std::sync::Arc;

/// One thing a scan reports.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The file, as an event (`TargetFilename`, `Hashes`, size, times, owner, what matched).
    pub event: Arc<Event>,
    /// The rule.
    pub rule: Arc<RuleInfo>,
}

/// The event of a scanned file: provenance names it (format `file`), its time is its modification
/// time, its host the scanning host; `sha256` when it was read.
pub fn file_event(file: &FileEntry, host: Option<&str>, sha256: Option<&str>) -> Event {
    let path = file.path.display().to_string();
    let mut event =
        Event::new(Provenance { path: path.as_str().into(), record: 0, format: Format::File });
    event.logsource = LogSource { product: None, category: Some("file_scan"), service: None };
    event.host = host.map(str::to_owned);
    event.time = file.modified_ns.and_then(time);
    event.insert("TargetFilename", Value::Str(path));
    event.insert("FileSize", Value::Int(i64::try_from(file.size).unwrap_or(i64::MAX)));
    if let Some(sha256) = sha256 {
        event.insert("Hashes", Value::Str(format!("SHA256={sha256}")));
        event.insert("sha256", Value::Str(sha256.to_owned()));
    }
    if let Some(changed) = file.changed_ns.and_then(time) {
        event.insert("ChangeTime", Value::Str(changed.to_string()));
    }
    if let Some(owner) = file.owner {
        event.insert("OwnerUid", Value::Int(i64::from(owner)));
    }
    event
}

/// A time in nanoseconds since the epoch.
pub(crate) fn time(nanoseconds: i64) -> Option<Timestamp> {
    Timestamp::from_nanosecond(i128::from(nanoseconds)).ok()
}
