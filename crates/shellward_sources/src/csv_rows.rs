//! CSV exports of Defender advanced hunting results (the portal's "Export", Sentinel's "Export to
//! CSV").
//!
//! The first line names the columns (Sentinel writes `TimeGenerated [UTC]`: the bracketed suffix is
//! dropped); each record after it is a row. A quoted value may hold line breaks (command lines do),
//! so the framer joins lines until the quotes balance ([`Record::push_line`]); each row is then
//! parsed by the `csv` crate and built by [`crate::edr::defender`]. Empty values are absent fields.

use crate::edr::defender;
use crate::lines::Columns;
use crate::problem::DecodeError;
use shellward_event::{Event, FieldName, Format, Provenance, Value};
use std::sync::Arc;

/// Whether a first line is the header of a Defender export.
pub(crate) fn sniff(line: &str) -> bool {
    let Some(Columns(names)) = header(line.as_bytes()) else { return false };
    let has = |name: &str| names.iter().any(|n| n == name);
    has("ActionType")
        && (has("DeviceName") || has("DeviceId"))
        && (has("Timestamp") || has("TimeGenerated"))
}

/// The column names of a header line.
pub(crate) fn header(line: &[u8]) -> Option<Columns> {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let record = parse(line).ok()?;
    let names: Vec<String> = record
        .iter()
        .map(|name| {
            let name = name.trim();
            match name.find(" [") {
                Some(i) if name.ends_with(']') => name[..i].to_owned(),
                _ => name.to_owned(),
            }
        })
        .collect();
    (names.len() > 1 && names.iter().all(|n| !n.is_empty())).then_some(Columns(names))
}

/// A CSV record being framed, line by line.
#[derive(Debug, Default)]
pub(crate) struct Record {
    bytes: Vec<u8>,
    quotes: usize,
}

impl Record {
    /// Adds a line; `true` once the record is complete (its quotes balance).
    pub(crate) fn push_line(&mut self, line: &[u8]) -> bool {
        if !self.bytes.is_empty() {
            self.bytes.push(b'\n');
        }
        self.bytes.extend_from_slice(line);
        self.quotes += memchr::memchr_iter(b'"', line).count();
        self.quotes.is_multiple_of(2)
    }

    /// The record's bytes so far.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        self.quotes = 0;
        std::mem::take(&mut self.bytes)
    }

    /// How many bytes it holds.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// Whether a line is a whole row of a file with `width` columns: its quotes balance and it holds
/// that many values (never for files of fewer than two columns, where any line would be).
pub(crate) fn is_whole_row(line: &[u8], width: usize) -> bool {
    width >= 2
        && memchr::memchr_iter(b'"', line).count().is_multiple_of(2)
        && parse(line).is_ok_and(|record| record.len() == width)
}

/// Decodes one row.
pub(crate) fn decode(
    bytes: &[u8],
    path: &Arc<str>,
    line: u64,
    columns: Option<&Columns>,
) -> Result<Event, DecodeError> {
    let Some(Columns(names)) = columns else {
        return Err(DecodeError::Garbage("a CSV row before the header".into()));
    };
    let record = parse(bytes).map_err(|e| DecodeError::Garbage(format!("CSV: {e}")))?;
    if record.len() != names.len() {
        return Err(DecodeError::Garbage(format!(
            "{} values for {} columns",
            record.len(),
            names.len()
        )));
    }
    let provenance = Provenance { path: Arc::clone(path), record: line, format: Format::Defender };
    let mut event = Event::new(provenance);
    for (name, value) in names.iter().zip(record.iter()) {
        if !value.is_empty() {
            event.push(FieldName::Owned(name.clone()), Value::Str(value.to_owned()));
        }
    }
    defender::finish(&mut event, None);
    Ok(event)
}

/// Parses one CSV record.
fn parse(bytes: &[u8]) -> Result<csv::StringRecord, csv::Error> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut record = csv::StringRecord::new();
    reader.read_record(&mut record)?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert!(sniff("Timestamp,DeviceId,DeviceName,ActionType,FileName"));
        assert!(sniff("\u{feff}TimeGenerated [UTC],DeviceName,ActionType"));
        assert!(!sniff("date,time,host"));
        assert_eq!(
            header(b"TimeGenerated [UTC],A").unwrap(),
            Columns(vec!["TimeGenerated".into(), "A".into()])
        );
    }

    #[test]
    fn records_span_lines_inside_quotes() {
        let mut record = Record::default();
        assert!(!record.push_line(b"2026-11-02T09:15:41Z,web01,\"cmd /c \"\"echo"));
        assert!(record.push_line(b"x\"\"\",ProcessCreated"));
        let bytes = record.take();
        let columns = Columns(vec![
            "Timestamp".into(),
            "DeviceName".into(),
            "ProcessCommandLine".into(),
            "ActionType".into(),
        ]);
        let event = decode(&bytes, &Arc::from("t"), 2, Some(&columns)).unwrap();
        assert_eq!(event.get_str("ProcessCommandLine"), Some("cmd /c \"echo\nx\""));
        assert_eq!(event.get_str("CommandLine"), Some("cmd /c \"echo\nx\""));
        assert_eq!(event.logsource.category, Some("process_creation"));
        assert_eq!(event.host.as_deref(), Some("web01"));
    }

    #[test]
    fn bad_rows_are_errors() {
        let columns = Columns(vec!["A".into(), "B".into()]);
        assert!(decode(b"1,2,3", &Arc::from("t"), 2, Some(&columns)).is_err());
        assert!(decode(b"1,2", &Arc::from("t"), 2, None).is_err());
    }
}
