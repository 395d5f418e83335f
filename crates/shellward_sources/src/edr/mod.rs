//! EDR telemetry: Microsoft Defender for Endpoint advanced hunting rows ([`defender`]) and
//! CrowdStrike Falcon Data Replicator events ([`falcon`]).
//!
//! Both are JSON records (Defender also CSV) with their own column names. Each builder keeps every
//! source field and adds the Sigma taxonomy fields from the mapping table `mappings/edr.toml`
//! (data, not code), so a rule written for Sysmon reads an EDR event unchanged: Defender's
//! `FolderPath` becomes `Image` or `TargetFilename`, `InitiatingProcessFolderPath` becomes
//! `ParentImage` or `Image`, registry hives take Sysmon's short form, Falcon's NT device paths get a
//! drive.

pub(crate) mod defender;
pub(crate) mod falcon;
pub(crate) mod tables;

use crate::mapping::compute;
use shellward_event::{Event, FieldName, Value};
use tables::Entry;

/// Adds the taxonomy fields of `entry` to `event` and sets its category.
fn apply(entry: &Entry, event: &mut Event) {
    event.logsource.category = entry.category;
    let added: Vec<(FieldName, Value)> = entry
        .fields
        .iter()
        .filter_map(|(name, spec)| compute(spec, event).map(|v| (FieldName::Borrowed(name), v)))
        .collect();
    for (name, value) in added {
        event.insert(name, value);
    }
}
