//! Windows event logs, whatever their rendering.
//!
//! Binary EVTX, evtx_dump JSON, XML (Event Viewer, wevtutil, Splunk `XmlWinEventLog`), Winlogbeat
//! and flattened JSON all describe the same record: a `<System>` block and an `<EventData>` (or
//! `<UserData>`) block. Each rendering's builder puts the system values into the event under one set of
//! names (`EventID`, `Channel`, `Provider_Name`, `Computer`, `EventRecordID`, `TimeCreated`, ...; an
//! attribute `A` of element `E` becomes `E_A`) and the event data under its own names, then
//! [`finish`] derives the rest from the mapping table (`mappings/windows.toml`): log source, host,
//! time and taxonomy fields. So a rule sees the same event whether the record came from an `.evtx`
//! file or a SIEM export.

pub(crate) mod ecs;
mod finish;
pub(crate) mod tables;

pub(crate) use finish::{finish, parse_time};

use crate::Screen;
use shellward_event::LogSource;

/// Whether `screen` wants a Windows record of `channel` and `event_id` (as [`finish`] will read
/// them), asked before the record is built: every log source [`finish`] could give it is offered,
/// whichever categories the table's conditions (provider, event data values) would pick.
pub(crate) fn wanted(screen: &dyn Screen, channel: &str, event_id: i64) -> bool {
    let tables = tables::Tables::get();
    let mut logsource = LogSource {
        product: Some(tables.product(channel)),
        category: None,
        service: tables.service(channel),
    };
    if screen.wants(&logsource) {
        return true;
    }
    tables.rules(channel, event_id).iter().filter_map(|rule| rule.category).any(|category| {
        logsource.category = Some(category);
        screen.wants(&logsource)
    })
}

/// The field name of attribute `attr` of `<System>` element `element`: `Element_Attr`, except the
/// conventional `Qualifiers` (of `EventID`) and `TimeCreated` (its `SystemTime`).
pub(crate) fn system_attribute_name(element: &str, attr: &str) -> String {
    match (element, attr) {
        ("EventID", "Qualifiers") => "Qualifiers".to_owned(),
        ("TimeCreated", "SystemTime") => "TimeCreated".to_owned(),
        _ => format!("{element}_{attr}"),
    }
}
