//! CSV: one row per alert with the summary the table shows, the ATT&CK techniques and tactics,
//! the key fields and where the event came from; RFC 4180 quoting, control characters escaped as
//! the table escapes them, formulas defused.

use super::details;
use super::{AlertWriter, Out, Summary};
use crate::report::escape;
use shellward_engine::RuleInfo;
use shellward_event::Event;
use shellward_hunt::Finding;
use std::io::{self, Write};

/// Columns: (header, how to read it).
const COLUMNS: &[(&str, Column)] = &[
    ("time", Column::Time),
    ("host", Column::Host),
    ("level", Column::Level),
    ("rule_id", Column::RuleId),
    ("rule_title", Column::RuleTitle),
    ("detection_type", Column::DetectionType),
    ("attack_techniques", Column::Techniques),
    ("attack_tactics", Column::Tactics),
    ("summary", Column::Summary),
    ("user", Column::Field("User")),
    ("image", Column::Field("Image")),
    ("command_line", Column::Field("CommandLine")),
    ("parent_image", Column::Field("ParentImage")),
    ("parent_command_line", Column::Field("ParentCommandLine")),
    ("target_filename", Column::Field("TargetFilename")),
    ("registry_key", Column::Field("TargetObject")),
    ("registry_value", Column::Field("Details")),
    ("destination_ip", Column::Field("DestinationIp")),
    ("destination_port", Column::Field("DestinationPort")),
    ("log", Column::Log),
    ("event_id", Column::Field("EventID")),
    ("source_format", Column::SourceFormat),
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
    Techniques,
    Tactics,
    Summary,
    Field(&'static str),
    Log,
    SourceFormat,
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

    fn row(&mut self, event: &Event, rule: &RuleInfo, summary: &str) -> io::Result<()> {
        if !self.header {
            self.header = true;
            let names: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
            writeln!(self.out, "{}", names.join(","))?;
        }
        let (techniques, tactics) = shellward_hunt::attack_tags(&rule.tags);
        let field =
            |name: &str| event.get(name).filter(|v| !v.is_null()).map(|v| v.as_text().into_owned());
        let mut cells = Vec::with_capacity(COLUMNS.len());
        for (_, column) in COLUMNS {
            let text = match column {
                Column::Time => details::time(event.time),
                Column::Host => event.host.clone().unwrap_or_default(),
                Column::Level => rule.level.name().to_string(),
                Column::RuleId => rule.id.clone().unwrap_or_default(),
                Column::RuleTitle => rule.title.clone(),
                Column::DetectionType => rule.detection_type.clone().unwrap_or_default(),
                Column::Techniques => techniques.join(";"),
                Column::Tactics => tactics.join(";"),
                Column::Summary => details::one_line(summary),
                Column::Field(name) => field(name).unwrap_or_default(),
                Column::Log => details::log(event),
                Column::SourceFormat => event.provenance.format.name().to_owned(),
                Column::SourcePath => event.provenance.path.to_string(),
                Column::SourceRecord => event.provenance.record.to_string(),
            };
            // Control characters as the table shows them (`\u{1b}`), so that a cell cannot move a
            // terminal's cursor or hide text when the file is printed.
            cells.push(quote(&escape(&text)));
        }
        writeln!(self.out, "{}", cells.join(","))
    }
}

impl AlertWriter for CsvWriter {
    fn finding(&mut self, finding: &Finding<'_>) -> io::Result<()> {
        self.row(&finding.event, finding.rule, &details::finding_details(finding))
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
