//! OCSF: one Detection Finding (class 2004) per alert, as JSON lines
//! ([`shellward_hunt::ocsf_finding`]).

use super::details;
use super::{AlertWriter, Out, Summary};
use shellward_hunt::{Finding, ocsf_finding};
use std::io::{self, Write};

/// Writes alerts as OCSF Detection Findings.
pub(crate) struct OcsfWriter {
    out: Out,
}

impl OcsfWriter {
    pub(crate) fn new(out: Out) -> Self {
        OcsfWriter { out }
    }

    fn write(&mut self, finding: &serde_json::Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, finding)?;
        self.out.write_all(b"\n")
    }
}

impl AlertWriter for OcsfWriter {
    fn finding(&mut self, finding: &Finding<'_>) -> io::Result<()> {
        let (event, rule) = (&finding.event, finding.rule);
        let message = match &finding.correlated {
            Some(correlated) => correlated.line(),
            None => details::one_line(&details::details(event, rule)),
        };
        let correlation = finding.correlated.as_ref().map(|c| &c.json);
        self.write(&ocsf_finding(event, rule, &message, correlation))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}
