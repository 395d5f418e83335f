//! CrowdStrike Falcon Data Replicator events: one flat JSON object per line, every value text.
//!
//! The event type is `event_simpleName`, the platform `event_platform` (`Win`, `Lin`, `Mac`: the
//! Sigma product). Time is `ContextTimeStamp` (sensor time, epoch seconds), else `ProcessStartTime`,
//! else `timestamp` (cloud receipt, epoch milliseconds). The host is `ComputerName` where present
//! (few sensor events carry it; FDR's `aidmaster` side file maps `aid` to it), else the sensor id
//! `aid`.
//!
//! Falcon names processes by a sensor-unique id (`TargetProcessId`). A ProcessRollup2 names its
//! parent by that id (`ParentProcessId`) and only its base name (`ParentBaseFileName`); file,
//! registry and network events name their actor (`ContextProcessId`, `ContextBaseFileName`). The
//! decoder writes those base names after a path separator as `ParentImage` and `Image`
//! (`\w3wp.exe`), which is what Sigma's `|endswith: '\w3wp.exe'` needs; the hunt's process table
//! ([`shellward_engine::Lineage`]) replaces them with the full path, and adds the command line,
//! when it has seen that process start.

use super::tables::Tables;
use crate::json::convert;
use crate::json::doc::Members;
use jiff::Timestamp;
use serde_json::{Map, Value as Json};
use shellward_event::Event;

/// Whether a JSON object is a Falcon event.
pub(crate) fn is_event(doc: &impl Members) -> bool {
    doc.member("event_simpleName").is_some_and(Json::is_string)
}

/// Fills `event` from a Falcon event (see the module documentation for its processes).
pub(crate) fn build(event: &mut Event, doc: Map<String, Json>) {
    convert::flatten_into(event, "", doc);
    let tables = Tables::get();
    event.logsource.product =
        event.get_str("event_platform").and_then(|p| tables.falcon_product(p));
    if let Some(name) = event.get_str("event_simpleName")
        && let Some(entry) = tables.falcon(name)
    {
        super::apply(entry, event);
    }
    event.host = ["ComputerName", "aid"].iter().find_map(|f| event.get_str(f)).map(str::to_owned);
    event.time = ["ContextTimeStamp", "ProcessStartTime", "timestamp"]
        .iter()
        .find_map(|f| event.get_str(f).and_then(epoch));
    let (image, base_name) = if event.logsource.category == Some("process_creation") {
        ("ParentImage", "ParentBaseFileName")
    } else {
        ("Image", "ContextBaseFileName")
    };
    if event.get(image).is_none()
        && let Some(name) = event.get_str(base_name).filter(|n| !n.is_empty())
    {
        let separator = if event.logsource.product == Some("windows") { '\\' } else { '/' };
        event.insert(image, shellward_event::Value::Str(format!("{separator}{name}")));
    }
}

/// A Falcon time: epoch seconds with a fraction (`1625677530.308`), epoch milliseconds (13
/// digits), or a Windows FILETIME (100 ns ticks since 1601).
pub(crate) fn epoch(text: &str) -> Option<Timestamp> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let whole: i64 = whole.parse().ok()?;
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    const FILETIME_FLOOR: i64 = 0x0100_0000_0000_0000;
    const FILETIME_TO_UNIX_SECONDS: i64 = 11_644_473_600;
    if whole > FILETIME_FLOOR {
        let seconds = whole / 10_000_000 - FILETIME_TO_UNIX_SECONDS;
        let nanos = (whole % 10_000_000) * 100;
        return Timestamp::new(seconds, i32::try_from(nanos).ok()?).ok();
    }
    if whole > 100_000_000_000 {
        return Timestamp::from_millisecond(whole).ok();
    }
    let digits = &fraction[..fraction.len().min(9)];
    let nanos = if digits.is_empty() {
        0
    } else {
        digits.parse::<i32>().ok()? * 10i32.pow(9 - u32::try_from(digits.len()).ok()?)
    };
    Timestamp::new(whole, nanos).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shellward_event::{Format, Provenance};

    fn event(json: &str) -> Event {
        let doc: Map<String, Json> = serde_json::from_str(json).unwrap();
        assert!(is_event(&doc));
        let mut event =
            Event::new(Provenance { path: "t".into(), record: 1, format: Format::Json });
        build(&mut event, doc);
        event
    }

    #[test]
    fn times() {
        assert_eq!(epoch("1625677530.308").unwrap().to_string(), "2021-07-07T17:05:30.308Z");
        assert_eq!(epoch("1625677535482").unwrap().to_string(), "2021-07-07T17:05:35.482Z");
        assert_eq!(epoch("1625677530").unwrap().to_string(), "2021-07-07T17:05:30Z");
        assert_eq!(epoch("132700000000000000").unwrap().to_string(), "2021-07-05T23:06:40Z");
        assert!(epoch("").is_none());
        assert!(epoch("12.x").is_none());
    }

    #[test]
    fn processes_named_by_their_base_names() {
        let w3wp = event(
            r#"{"event_simpleName":"ProcessRollup2","event_platform":"Win","aid":"a","TargetProcessId":"1",
            "ImageFileName":"\\Device\\HarddiskVolume2\\Windows\\System32\\inetsrv\\w3wp.exe",
            "CommandLine":"w3wp.exe -ap DefaultAppPool","ParentBaseFileName":"svchost.exe","ContextTimeStamp":"1700000000.5"}"#,
        );
        assert_eq!(w3wp.get_str("Image"), Some("C:\\Windows\\System32\\inetsrv\\w3wp.exe"));
        assert_eq!(w3wp.get_str("ParentImage"), Some("\\svchost.exe"));
        assert_eq!(w3wp.logsource.category, Some("process_creation"));
        assert_eq!(w3wp.logsource.product, Some("windows"));
        assert_eq!(w3wp.host.as_deref(), Some("a"));
        let file = event(
            r#"{"event_simpleName":"NewScriptWritten","event_platform":"Lin","aid":"a","ContextProcessId":"2",
            "ContextBaseFileName":"php-fpm","TargetFileName":"/var/www/html/x.php"}"#,
        );
        assert_eq!(file.logsource.category, Some("file_event"));
        assert_eq!(file.get_str("Image"), Some("/php-fpm"));
    }
}
