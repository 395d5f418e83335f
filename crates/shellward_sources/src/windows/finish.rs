//! Derives log source, host, time and taxonomy fields of a Windows event from the mapping table.

use super::tables::{EventRule, Tables};
use crate::mapping::compute;
use shellward_event::{Event, FieldName, Timestamp, Value};

/// Completes a Windows event whose builder has filled in the system and event data fields.
pub(crate) fn finish(event: &mut Event) {
    let tables = Tables::get();
    // Sigma names event data fields with spaces ("Source Name", Defender) without them.
    event.rename_fields(|name| name.contains(' ').then(|| name.replace(' ', "")));
    event.logsource.product = Some("windows");
    event.host = event.get_str("Computer").map(str::to_owned);
    event.time = event
        .get_str("UtcTime")
        .and_then(parse_time)
        .or_else(|| event.get_str("TimeCreated").and_then(parse_time));
    if let Some(Value::List(items)) = event.get("Data") {
        let text = items.iter().map(|v| v.as_text()).collect::<Vec<_>>().join("\n");
        event.insert("DataText", Value::Str(text));
    }
    let Some(channel) = event.get_str("Channel").map(str::to_owned) else { return };
    event.logsource.service = tables.service(&channel);
    event.logsource.product = Some(tables.product(&channel));
    let Some(event_id) = event.get("EventID").and_then(Value::as_i64) else { return };
    let mut added: Vec<(FieldName, Value)> = Vec::new();
    for rule in tables.rules(&channel, event_id) {
        if !applies(rule, event) {
            continue;
        }
        if event.logsource.category.is_none() {
            event.logsource.category = rule.category;
        }
        for (name, spec) in &rule.fields {
            if let Some(value) = compute(spec, event) {
                added.push((FieldName::Borrowed(name), value));
            }
        }
        if rule.key_values {
            added.extend(key_values(event));
        }
    }
    for (name, value) in added {
        event.insert(name, value);
    }
}

fn applies(rule: &EventRule, event: &Event) -> bool {
    if let Some(prefix) = &rule.provider_prefix {
        let provider = event.get_str("Provider_Name").unwrap_or("");
        if !provider.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix)) {
            return false;
        }
    }
    match &rule.when {
        Some((field, values)) => event
            .get(field)
            .is_some_and(|v| values.iter().any(|w| v.as_text().eq_ignore_ascii_case(w))),
        None => true,
    }
}

/// Splits the single `Data` text into `key:value` lines (MSSQL audit records).
fn key_values(event: &Event) -> Vec<(FieldName, Value)> {
    let text = match event.get("Data") {
        Some(Value::Str(s)) => s.as_str(),
        Some(Value::List(items)) if items.len() == 1 => items[0].as_str().unwrap_or(""),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let key = key.trim();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        if event.get(key).is_none() {
            out.push((FieldName::Owned(key.to_owned()), Value::Str(value.trim().to_owned())));
        }
    }
    out
}

/// Parses the timestamps Windows renderings use: RFC 3339 (`2019-05-24T01:33:53.1124866Z`) and
/// Sysmon's `UtcTime` (`2019-05-24 01:33:53.112`, UTC without a zone).
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t);
    }
    let civil: jiff::civil::DateTime = text.replacen(' ', "T", 1).parse().ok()?;
    civil.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(
            parse_time("2019-05-24 01:33:53.112").unwrap().to_string(),
            "2019-05-24T01:33:53.112Z"
        );
        assert_eq!(
            parse_time("2019-05-24T01:33:53.1124866Z").unwrap().to_string(),
            "2019-05-24T01:33:53.1124866Z"
        );
        assert!(parse_time("yesterday").is_none());
    }
}
