//! Microsoft Defender for Endpoint advanced hunting rows: DeviceProcessEvents, DeviceFileEvents,
//! DeviceRegistryEvents, DeviceNetworkEvents, DeviceImageLoadEvents, DeviceEvents.
//!
//! Three renderings of one row:
//! - the Streaming API (Event Hubs, Storage): `{"category": "AdvancedHunting-<Table>",
//!   "properties": {<row>}, "time": .., "tenantId": ..}`, one per line or inside a
//!   `{"records": [..]}` message (the envelope is opened by [`crate::json`]);
//! - portal and API exports, and Sentinel / Log Analytics: the row's columns at the top level
//!   (Sentinel adds `Type`, the table name, and `TimeGenerated`);
//! - the same as CSV, one header line of column names ([`crate::csv_rows`]).
//!
//! When the table is not named (portal exports), the row's `ActionType` picks it. The event time is
//! `Timestamp` (or `TimeGenerated`), never the Streaming API's receipt `time`; the host is
//! `DeviceName`. The product is `windows`, or `linux` when the process path is a POSIX one
//! (Defender for Endpoint on Linux writes the same tables).

use super::tables::Tables;
use crate::json::convert;
use crate::json::doc::Members;
use crate::windows::parse_time;
use serde_json::{Map, Value as Json};
use shellward_event::{Event, Value};

/// The Streaming API's prefix of a table name in `category`.
const STREAMING_PREFIX: &str = "AdvancedHunting-";

/// Whether a JSON object is a Defender row in any of its renderings.
pub(crate) fn is_row(doc: &impl Members) -> bool {
    if let Some(Json::String(category)) = doc.member("category")
        && category.starts_with(STREAMING_PREFIX)
        && doc.member("properties").is_some_and(Json::is_object)
    {
        return true;
    }
    doc.has("ActionType")
        && (doc.has("DeviceId") || doc.has("DeviceName"))
        && (doc.has("Timestamp") || doc.has("TimeGenerated"))
}

/// Fills `event` from a Defender row in JSON.
pub(crate) fn build(event: &mut Event, mut doc: Map<String, Json>) {
    let mut table = None;
    if let Some(Json::String(category)) = doc.get("category")
        && let Some(name) = category.strip_prefix(STREAMING_PREFIX)
    {
        table = Some(name.to_owned());
        if let Some(Json::Object(row)) = doc.remove("properties") {
            convert::flatten_into(event, "", row);
        }
    }
    convert::flatten_into(event, "", doc);
    finish(event, table.as_deref());
}

/// Derives log source, host, time and taxonomy fields of a row whose columns are in `event`.
pub(crate) fn finish(event: &mut Event, table: Option<&str>) {
    let tables = Tables::get();
    let table = table.map(str::to_owned).or_else(|| event.get_str("Type").map(str::to_owned));
    let action = event.get_str("ActionType").map(str::to_owned);
    if let Some(entry) = tables.defender(table.as_deref(), action.as_deref()) {
        super::apply(entry, event);
    }
    // Defender writes many IPv4 peers as IPv4-mapped IPv6 (`::ffff:203.0.113.7`): Sigma's fields
    // get the IPv4 form every other source gives, so `startswith: '10.'` and CIDR tests read both.
    for field in ["DestinationIp", "SourceIp"] {
        if let Some(v4) = event.get_str(field).and_then(ipv4_mapped) {
            event.insert(field, Value::Str(v4));
        }
    }
    let posix = ["FolderPath", "InitiatingProcessFolderPath"]
        .iter()
        .find_map(|f| event.get_str(f).filter(|p| !p.is_empty()))
        .is_some_and(|p| p.starts_with('/'));
    event.logsource.product = Some(if posix { "linux" } else { "windows" });
    event.host = event.get_str("DeviceName").map(str::to_owned);
    event.time = ["Timestamp", "TimeGenerated"]
        .iter()
        .find_map(|f| event.get_str(f).and_then(|t| parse_time(t).or_else(|| portal_time(t))));
}

/// The IPv4 address of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, any case).
fn ipv4_mapped(text: &str) -> Option<String> {
    let text = text.trim();
    let v4 = text.get(..7).filter(|p| p.eq_ignore_ascii_case("::ffff:")).map(|_| &text[7..])?;
    v4.parse::<std::net::Ipv4Addr>().ok().map(|a| a.to_string())
}

/// The time as Sentinel and the Defender portal write it in CSV exports: `11/9/2022, 5:59:52.626 PM`
/// (UTC).
fn portal_time(text: &str) -> Option<jiff::Timestamp> {
    let time = jiff::fmt::strtime::parse("%m/%d/%Y, %I:%M:%S%.f %p", text.trim()).ok()?;
    time.to_datetime().ok()?.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shellward_event::{Format, Provenance};

    fn row(json: &str) -> Event {
        let doc: Map<String, Json> = serde_json::from_str(json).unwrap();
        assert!(is_row(&doc));
        let mut event =
            Event::new(Provenance { path: "t".into(), record: 1, format: Format::Json });
        build(&mut event, doc);
        event
    }

    #[test]
    fn process_row_without_a_table_name() {
        let event =
            row(r#"{"Timestamp":"2026-11-02T09:15:41.532Z","DeviceId":"d","DeviceName":"web01",
            "ActionType":"ProcessCreated","FileName":"cmd.exe","FolderPath":"C:\\Windows\\System32",
            "ProcessCommandLine":"cmd.exe /c whoami","InitiatingProcessFileName":"w3wp.exe",
            "InitiatingProcessFolderPath":"c:\\windows\\system32\\inetsrv\\w3wp.exe",
            "AccountDomain":"iis apppool","AccountName":"defaultapppool"}"#);
        assert_eq!(event.logsource.category, Some("process_creation"));
        assert_eq!(event.logsource.product, Some("windows"));
        assert_eq!(event.get_str("Image"), Some("C:\\Windows\\System32\\cmd.exe"));
        assert_eq!(event.get_str("ParentImage"), Some("c:\\windows\\system32\\inetsrv\\w3wp.exe"));
        assert_eq!(event.get_str("User"), Some("iis apppool\\defaultapppool"));
        assert_eq!(event.host.as_deref(), Some("web01"));
        assert_eq!(event.time.unwrap().to_string(), "2026-11-02T09:15:41.532Z");
    }

    #[test]
    fn streaming_registry_row() {
        let event = row(
            r#"{"category":"AdvancedHunting-DeviceRegistryEvents","time":"2022-11-09T19:23:21Z",
            "properties":{"Timestamp":"2022-11-09T19:17:43.5752234Z","DeviceName":"m","ActionType":"RegistryValueSet",
            "RegistryKey":"HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters",
            "RegistryValueName":"ServiceDll","RegistryValueData":"C:\\evil.dll"}}"#,
        );
        assert_eq!(event.logsource.category, Some("registry_set"));
        assert_eq!(
            event.get_str("TargetObject"),
            Some("HKLM\\SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\ServiceDll")
        );
        assert_eq!(event.get_str("EventType"), Some("SetValue"));
        assert_eq!(event.get_str("Details"), Some("C:\\evil.dll"));
        // The event time, not the export's receipt time.
        assert_eq!(event.time.unwrap().to_string(), "2022-11-09T19:17:43.5752234Z");
    }

    #[test]
    fn ipv4_mapped_peers_read_as_ipv4() {
        for remote in ["203.0.113.7", "::ffff:203.0.113.7", "::FFFF:203.0.113.7"] {
            let event = row(&format!(
                r#"{{"Timestamp": "2026-11-02T09:15:41Z", "DeviceName": "web01", "ActionType": "ConnectionSuccess", "RemoteIP": "{remote}", "RemotePort": 4444, "InitiatingProcessFolderPath": "c:\\windows\\system32\\cmd.exe", "Type": "DeviceNetworkEvents"}}"#
            ));
            assert_eq!(event.get_str("DestinationIp"), Some("203.0.113.7"), "{remote}");
        }
        assert_eq!(ipv4_mapped("::ffff:2001:db8::1"), None);
        assert_eq!(ipv4_mapped("2001:db8::1"), None);
    }

    #[test]
    fn portal_times() {
        assert_eq!(
            portal_time("11/9/2022, 5:59:52.626 PM").unwrap().to_string(),
            "2022-11-09T17:59:52.626Z"
        );
        assert_eq!(
            portal_time("11/9/2022, 5:59:52 AM").unwrap().to_string(),
            "2022-11-09T05:59:52Z"
        );
        assert!(portal_time("yesterday").is_none());
    }

    #[test]
    fn linux_rows_are_linux() {
        let event = row(
            r#"{"Timestamp":"2026-11-02T09:15:41Z","DeviceName":"web02","ActionType":"ProcessCreated",
            "FileName":"sh","FolderPath":"/usr/bin/sh","InitiatingProcessFolderPath":"/usr/sbin/apache2"}"#,
        );
        assert_eq!(event.logsource.product, Some("linux"));
        assert_eq!(event.get_str("Image"), Some("/usr/bin/sh"));
    }
}
