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
/// them), asked before the record is built: every log source [`finish`] could give it is offered
/// ([`logsources`]).
pub(crate) fn wanted(screen: &dyn Screen, channel: &str, event_id: i64) -> bool {
    logsources(channel, event_id).any(|logsource| screen.wants(&logsource))
}

/// Every log source [`finish`] could give a record of `channel` and `event_id`: the channel's,
/// then one per category the table may pick for the event ID, whichever of its conditions
/// (provider, event data values) hold. The table's rules are looked up only if the first is not
/// enough.
pub(crate) fn logsources(channel: &str, event_id: i64) -> impl Iterator<Item = LogSource> + '_ {
    let tables = tables::Tables::get();
    let base = LogSource {
        product: Some(tables.product(channel)),
        category: None,
        service: tables.service(channel),
    };
    let categories = std::iter::once(()).flat_map(move |()| {
        tables.rules(channel, event_id).iter().filter_map(|rule| rule.category)
    });
    std::iter::once(base)
        .chain(categories.map(move |category| LogSource { category: Some(category), ..base }))
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
