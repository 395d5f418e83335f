//! serde_json values to event values, moving strings instead of copying them.

use shellward_event::{Event, FieldName, Value};

/// Converts a JSON value. Objects nested inside arrays become their JSON text (they are rare in
/// telemetry and have no field name of their own).
pub(crate) fn value(json: serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None if n.is_u64() => Value::Str(n.to_string()),
            None => n.as_f64().map_or(Value::Null, Value::Float),
        },
        serde_json::Value::String(s) => Value::Str(s),
        serde_json::Value::Array(items) => Value::List(items.into_iter().map(value).collect()),
        serde_json::Value::Object(map) => Value::Str(serde_json::Value::Object(map).to_string()),
    }
}

/// Pushes the members of an object as fields, nested objects flattened to dotted names
/// (`process.parent.executable`).
pub(crate) fn flatten_into(
    event: &mut Event,
    prefix: &str,
    members: impl IntoIterator<Item = (String, serde_json::Value)>,
) {
    for (key, json) in members {
        let name = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
        match json {
            serde_json::Value::Object(inner) => flatten_into(event, &name, inner),
            other => event.push(FieldName::Owned(name), value(other)),
        }
    }
}
