//! Derives log source, host, time and taxonomy fields of a Windows event from the mapping table.

use super::tables::{EventRule, FieldSpec, Tables, TemplatePart};
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

/// Computes one taxonomy field; `None` when the source lacks what it needs.
pub(crate) fn compute(spec: &FieldSpec, event: &Event) -> Option<Value> {
    match spec {
        FieldSpec::Copy(from) => event.get(from).cloned(),
        FieldSpec::Hex(from) => event.get(from).and_then(Value::as_i64).map(Value::Int),
        FieldSpec::Template(parts) => template(parts, event).map(Value::Str),
        FieldSpec::Data(index) => match event.get("Data")? {
            Value::List(items) => items.get(*index).cloned(),
            single if *index == 0 => Some(single.clone()),
            _ => None,
        },
        FieldSpec::Integrity(from) => {
            integrity_level(&event.get(from)?.as_text()).map(|l| Value::Str(l.to_owned()))
        }
    }
}

/// Fills a template; `None` if a referenced field is missing, empty or `-`.
pub(crate) fn template(parts: &[TemplatePart], event: &Event) -> Option<String> {
    let mut out = String::new();
    for part in parts {
        match part {
            TemplatePart::Text(t) => out.push_str(t),
            TemplatePart::Field(f) => {
                let value = event.get(f)?.as_text();
                if value.is_empty() || value == "-" {
                    return None;
                }
                out.push_str(&value);
            }
        }
    }
    Some(out)
}

/// The integrity level of a mandatory label, as a SID (`S-1-16-12288`) or as resolved by Splunk
/// (`Mandatory Label\High Mandatory Level`).
fn integrity_level(label: &str) -> Option<&'static str> {
    const LEVELS: [(&str, &str, &str); 6] = [
        ("S-1-16-0", "untrusted", "Untrusted"),
        ("S-1-16-4096", "low", "Low"),
        ("S-1-16-8192", "medium mandatory", "Medium"),
        ("S-1-16-8448", "medium plus", "MediumPlus"),
        ("S-1-16-12288", "high", "High"),
        ("S-1-16-16384", "system", "System"),
    ];
    let lower = label.to_ascii_lowercase();
    LEVELS.iter().find_map(|(sid, word, level)| {
        (label.eq_ignore_ascii_case(sid) || lower.contains(&format!("\\{word}"))).then_some(*level)
    })
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

    #[test]
    fn integrity() {
        assert_eq!(integrity_level("S-1-16-12288"), Some("High"));
        assert_eq!(integrity_level("Mandatory Label\\System Mandatory Level"), Some("System"));
        assert_eq!(integrity_level("Mandatory Label\\Medium Mandatory Level"), Some("Medium"));
        assert_eq!(integrity_level("S-1-5-18"), None);
    }
}
