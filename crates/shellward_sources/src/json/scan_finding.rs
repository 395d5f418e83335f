//! A finding of `shellward scan`, read back as telemetry: the JSON line of the alert contract
//! whose `source.format` is `file`. The hunt joins what a scan found on disk with what the logs
//! show (the request that reached a web shell, the shell its server started).
//!
//! The event is Sigma category `file_scan` with the fields the scan gave the finding's event
//! (`TargetFilename`, `Hashes`, `YaraRule`, `ComponentName`, ...), plus:
//!
//! | field | from |
//! |---|---|
//! | `ScanRuleId`, `ScanRuleTitle`, `ScanLevel` | `rule.id`, `rule.title`, `rule.level` |
//! | `ScanAlertId` | `id` |
//! | `ScanFileName` | the last component of `file.path`, lower-cased: the key a correlation joins on with a request's `RequestFileName` |
//!
//! Its time is the finding's (the file's modification time), its host the scanning host.

use super::convert;
use super::doc::{Doc, Members};
use serde_json::Value as Json;
use shellward_event::{Event, Value};

/// Whether an object is a scan finding.
pub(crate) fn is_finding(doc: &Doc) -> bool {
    doc.member("source").and_then(|s| s.get("format")).and_then(Json::as_str) == Some("file")
        && doc.member("rule").is_some_and(Json::is_object)
}

/// Builds the event of a scan finding.
pub(crate) fn build(event: &mut Event, mut doc: Doc) {
    event.logsource.category = Some("file_scan");
    if let Some(Json::Object(fields)) = doc.remove("event") {
        for (name, json) in fields {
            event.push(shellward_event::FieldName::Owned(name), convert::value(json));
        }
    }
    let text = |json: Option<&Json>| json.and_then(Json::as_str).map(str::to_owned);
    if let Some(rule) = doc.member("rule") {
        for (field, key) in
            [("ScanRuleId", "id"), ("ScanRuleTitle", "title"), ("ScanLevel", "level")]
        {
            if let Some(value) = text(rule.get(key)) {
                event.insert(field, Value::Str(value));
            }
        }
    }
    if let Some(id) = text(doc.member("id")) {
        event.insert("ScanAlertId", Value::Str(id));
    }
    let path = doc.member("file").and_then(|f| f.get("path")).and_then(Json::as_str);
    if let Some(path) = path {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        event.insert("ScanFileName", Value::Str(name.to_lowercase()));
        if event.get_str("TargetFilename").is_none() {
            event.insert("TargetFilename", Value::Str(path.to_owned()));
        }
    }
    event.host = text(doc.member("host"));
    event.time = text(doc.member("time")).as_deref().and_then(crate::windows::parse_time);
}
