//! Where an event came from.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The input format a record was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Format {
    /// Binary Windows event log (`.evtx`).
    Evtx,
    /// A Windows event rendered to JSON by the `evtx` crate (`evtx_dump -o json|jsonl`).
    EvtxJson,
    /// A Windows event rendered to XML: Event Viewer, `wevtutil`, `evtx_dump -o xml`, or Splunk's
    /// `XmlWinEventLog` (one event per line).
    EvtxXml,
    /// Winlogbeat or Elastic Agent JSON, raw (`winlog.*`) or after the ECS ingest pipeline.
    Winlogbeat,
    /// Flattened Windows events (one JSON object per event with `Channel`, `EventID` and the event
    /// data at the top level), as in the OTRF Security-Datasets and many SIEM exports.
    FlatJson,
    /// JSON of no known shape: its fields are flattened with dotted names and it has no log source.
    Json,
    /// VMware ESXi logs (`shell.log`, `hostd.log`, `esxupdate.log`, ...), raw or forwarded by syslog.
    EsxiLog,
    /// IIS W3C extended logs (`u_exYYMMDD.log`), columns named by `#Fields:` directives.
    W3cLog,
    /// Web server access logs in the common or combined format (Apache, nginx, Tomcat).
    AccessLog,
    /// Microsoft Defender for Endpoint advanced hunting rows (Streaming API, portal or API export,
    /// Sentinel), as JSON or CSV.
    Defender,
    /// CrowdStrike Falcon Data Replicator events (JSON lines).
    FalconFdr,
    /// Linux audit logs (`audit.log` raw or enriched, `ausearch -i`, AUOMS syslog).
    Auditd,
    /// A file on disk examined by `shellward scan` (its content, or a server's configuration).
    File,
}

impl Format {
    /// The name used on the command line (`--input-format`) and in output.
    pub fn name(self) -> &'static str {
        match self {
            Format::Evtx => "evtx",
            Format::EvtxJson => "evtx-json",
            Format::EvtxXml => "evtx-xml",
            Format::Winlogbeat => "winlogbeat",
            Format::FlatJson => "flat-json",
            Format::Json => "json",
            Format::EsxiLog => "esxi-log",
            Format::W3cLog => "w3c-log",
            Format::AccessLog => "access-log",
            Format::Defender => "defender",
            Format::FalconFdr => "falcon-fdr",
            Format::Auditd => "auditd",
            Format::File => "file",
        }
    }
}

/// Where an event came from: enough to find the record again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// The file (`-` for standard input; `archive.zip!member` inside an archive).
    pub path: Arc<str>,
    /// The EVTX `EventRecordID` for binary event logs; the 1-based line where the record starts for
    /// text formats.
    pub record: u64,
    /// The format it was decoded from.
    pub format: Format,
}
