//! JSON lines: one alert object per line, exactly the contract.

use super::{AlertWriter, Out, Summary};
use shellward_engine::RuleInfo;
use shellward_event::Event;
use shellward_hunt::{Correlated, Finding, alert_json, correlation_alert_json};
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
    fn alert(&mut self, event: &Event, rule: &RuleInfo) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &alert_json(event, rule))?;
        self.out.write_all(b"\n")
    }

    fn correlation(
        &mut self,
        event: &Event,
        rule: &RuleInfo,
        correlated: &Correlated,
    ) -> io::Result<()> {
        let alert = correlation_alert_json(event, rule, correlated.json.clone());
        serde_json::to_writer(&mut self.out, &alert)?;
        self.out.write_all(b"\n")
    }

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
