//! JSON lines: one alert object per line, exactly the contract.

use super::{AlertWriter, Out, Summary};
use shellward_hunt::{Finding, alert_json, correlation_alert_json};
use std::io::{self, Write};

/// Writes alerts as JSON lines.
pub(crate) struct JsonlWriter {
    out: Out,
}

impl JsonlWriter {
    pub(crate) fn new(out: Out) -> Self {
        JsonlWriter { out }
    }
}

impl AlertWriter for JsonlWriter {
    fn finding(&mut self, finding: &Finding<'_>) -> io::Result<()> {
        let mut alert = match &finding.correlated {
            Some(correlated) => {
                correlation_alert_json(&finding.event, finding.rule, correlated.json.clone())
            }
            None => alert_json(&finding.event, finding.rule),
        };
        if let (Some(repeats), Some(object)) = (&finding.repeats, alert.as_object_mut()) {
            let time = |t: Option<shellward_event::Timestamp>| t.map(shellward_hunt::rfc3339);
            object.insert(
                "suppressed".into(),
                serde_json::json!({
                    "count": repeats.count,
                    "first": time(repeats.first),
                    "last": time(repeats.last),
                }),
            );
        }
        serde_json::to_writer(&mut self.out, &alert)?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}
