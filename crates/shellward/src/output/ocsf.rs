//! OCSF: one Detection Finding (class 2004) per alert, as JSON lines
//! ([`shellward_hunt::ocsf_finding`]).

use super::details;
use super::{AlertWriter, Out, Summary};
use shellward_engine::RuleInfo;
use shellward_event::Event;
use shellward_hunt::{Correlated, ocsf_finding};
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
    fn alert(&mut self, event: &Event, rule: &RuleInfo) -> io::Result<()> {
        let message = details::one_line(&details::details(event, rule));
        self.write(&ocsf_finding(event, rule, &message, None))
    }

    fn correlation(
        &mut self,
        event: &Event,
        rule: &RuleInfo,
        correlated: &Correlated,
    ) -> io::Result<()> {
        let finding = ocsf_finding(event, rule, &correlated.line(), Some(&correlated.json));
        self.write(&finding)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}
