//! CSV: one row per alert with the key fields, RFC 4180 quoting.

use super::{AlertWriter, Out, Summary};
use shellward_engine::RuleInfo;
use shellward_event::Event;
use shellward_hunt::rfc3339;
use std::io::{self, Write};

/// Columns: (header, how to read it).
const COLUMNS: &[(&str, Column)] = &[
    ("time", Column::Time),
    ("host", Column::Host),
    ("level", Column::Level),
    ("rule_id", Column::RuleId),
    ("rule_title", Column::RuleTitle),
    ("detection_type", Column::DetectionType),
    ("user", Column::Field("User")),
    ("image", Column::Field("Image")),
    ("command_line", Column::Field("CommandLine")),
    ("parent_image", Column::Field("ParentImage")),
    ("parent_command_line", Column::Field("ParentCommandLine")),
    ("target_filename", Column::Field("TargetFilename")),
    ("target_object", Column::Field("TargetObject")),
    ("details", Column::Field("Details")),
    ("destination_ip", Column::Field("DestinationIp")),
    ("destination_port", Column::Field("DestinationPort")),
    ("event_id", Column::Field("EventID")),
    ("source_path", Column::SourcePath),
    ("source_record", Column::SourceRecord),
];

#[derive(Debug, Clone, Copy)]
enum Column {
    Time,
    Host,
    Level,
    RuleId,
    RuleTitle,
    DetectionType,
    Field(&'static str),
    SourcePath,
    SourceRecord,
}

/// Writes alerts as CSV.
pub(crate) struct CsvWriter {
    out: Out,
    header: bool,
}

impl CsvWriter {
    pub(crate) fn new(out: Out) -> Self {
        CsvWriter { out, header: false }
    }
}

impl AlertWriter for CsvWriter {
    fn alert(&mut self, event: &Event, rule: &RuleInfo) -> io::Result<()> {
        if !self.header {
            self.header = true;
            let names: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
            writeln!(self.out, "{}", names.join(","))?;
        }
        let mut cells = Vec::with_capacity(COLUMNS.len());
        for (_, column) in COLUMNS {
            let text = match column {
                Column::Time => event.time.map(rfc3339).unwrap_or_default(),
                Column::Host => event.host.clone().unwrap_or_default(),
                Column::Level => rule.level.name().to_string(),
                Column::RuleId => rule.id.clone().unwrap_or_default(),
                Column::RuleTitle => rule.title.clone(),
                Column::DetectionType => rule.detection_type.clone().unwrap_or_default(),
                Column::Field(name) => {
                    event.get(name).map(|v| v.as_text().into_owned()).unwrap_or_default()
                }
                Column::SourcePath => event.provenance.path.to_string(),
                Column::SourceRecord => event.provenance.record.to_string(),
            };
            cells.push(quote(&text));
        }
        writeln!(self.out, "{}", cells.join(","))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}

/// Quotes a cell when it holds a comma, quote or line break (RFC 4180), and defuses one that a
/// spreadsheet would take for a formula.
fn quote(text: &str) -> String {
    let text = defuse(text);
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.into_owned()
    }
}

/// A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
/// Excel, LibreOffice and Google Sheets, and the cells come from the telemetry an attacker writes
/// (a command line of `=cmd|' /c calc'!A1` runs when the CSV is opened): such a cell gets a
/// leading `'`, which the spreadsheet shows as text (OWASP's advice for CSV injection). Numbers
/// (`-1`) are left as they are.
fn defuse(text: &str) -> std::borrow::Cow<'_, str> {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && text.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::quote("a"), "a");
        assert_eq!(super::quote("a,b"), "\"a,b\"");
        assert_eq!(super::quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::quote("a\nb"), "\"a\nb\"");
    }

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        assert_eq!(super::quote("=cmd|' /c calc'!A1"), "'=cmd|' /c calc'!A1");
        assert_eq!(super::quote("+1+cmd"), "'+1+cmd");
        assert_eq!(super::quote("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(super::quote("-ForceV1"), "'-ForceV1");
        assert_eq!(super::quote("\t=1"), "'\t=1");
        assert_eq!(
            super::quote("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(super::quote("-1"), "-1");
        assert_eq!(super::quote("+4.5"), "+4.5");
        assert_eq!(super::quote("C:\\a=b"), "C:\\a=b");
    }
}
