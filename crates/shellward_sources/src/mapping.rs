//! Field specs of the mapping tables (`mappings/*.toml`): how a Sigma taxonomy field is computed from
//! a source's own fields. Shared by every table so that a spec means the same thing everywhere.
//!
//! A spec is one of:
//!
//! | TOML | value |
//! |---|---|
//! | `"Src"` | field `Src` copied |
//! | `{ hex = "Src" }`, `{ int = "Src" }` | `Src` read as a (hex or decimal) number |
//! | `{ template = "{A}\\{B}" }` | text built from fields (left out if any is missing, empty or `-`) |
//! | `{ data = N }` | the Nth (0-based) unnamed `<Data>` element |
//! | `{ integrity = "Src" }` | a mandatory-label SID turned into Low/Medium/High/System |
//! | `{ path = ["Folder", "Name"] }` | a folder and a file name joined, unless the folder already ends with the name (Defender's `FolderPath` sometimes holds the whole path) |
//! | `{ registry = ["Key", "Value"] }` | a registry key with its hive in the Sysmon form (`HKEY_LOCAL_MACHINE` to `HKLM`), and the value name appended when there is one |
//! | `{ nt_path = "Src" }` | an NT device path with its volume as a drive: `\Device\HarddiskVolume3\x` to `C:\x` |
//! | `{ map = "Src", values = { A = "a" } }` | `Src`'s value looked up (ignoring case); left out when not listed |
//! | `{ first = ["A", "B"] }` | the first of the fields that is present |

use shellward_event::{Event, Value};

/// How a taxonomy field is computed from the source fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSpec {
    /// Copy a field.
    Copy(String),
    /// A field read as a hex or decimal number.
    Int(String),
    /// Text built from other fields.
    Template(Vec<TemplatePart>),
    /// The Nth unnamed `<Data>` element.
    Data(usize),
    /// A mandatory-label SID turned into an integrity level name.
    Integrity(String),
    /// A folder and a file name.
    Path {
        /// The folder's field.
        folder: String,
        /// The file name's field.
        name: String,
    },
    /// A registry key (and value name) with the hive in the Sysmon form.
    Registry {
        /// The key's field.
        key: String,
        /// The value name's field.
        value: String,
    },
    /// An NT device path with a drive letter.
    NtPath(String),
    /// A value translated by a table.
    Map {
        /// The field read.
        from: String,
        /// (source value, taxonomy value), in table order.
        values: Vec<(String, String)>,
    },
    /// The first present field.
    First(Vec<String>),
}

/// A piece of a template: literal text or a field reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// The value of a source field.
    Field(String),
}

/// A name from a mapping table, kept for the life of the process: the tables are loaded once, and
/// events then hold their log source names as `&'static str` without allocating.
pub(crate) fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Parses a spec written in a mapping table.
pub(crate) fn parse_spec(spec: toml::Value) -> Result<FieldSpec, String> {
    let mut table = match spec {
        toml::Value::String(s) => return Ok(FieldSpec::Copy(s)),
        toml::Value::Table(t) => t,
        other => return Err(format!("bad field spec {other:?}")),
    };
    if let Some(toml::Value::String(from)) = table.remove("map") {
        let Some(toml::Value::Table(values)) = table.remove("values") else {
            return Err(format!("map = {from:?} needs a `values` table"));
        };
        let values = values
            .into_iter()
            .map(|(k, v)| match v {
                toml::Value::String(v) => Ok((k, v)),
                other => Err(format!("map value {other:?} is not text")),
            })
            .collect::<Result<_, _>>()?;
        return match table.is_empty() {
            true => Ok(FieldSpec::Map { from, values }),
            false => Err(format!("unexpected keys beside map = {from:?}")),
        };
    }
    if table.len() != 1 {
        return Err(format!("bad field spec {table:?}"));
    }
    let Some((kind, value)) = table.into_iter().next() else {
        return Err("empty field spec".into());
    };
    let pair = |value: &toml::Value| match value.as_array().map(Vec::as_slice) {
        Some([toml::Value::String(a), toml::Value::String(b)]) => Ok((a.clone(), b.clone())),
        _ => Err(format!("{kind} takes two field names, not {value:?}")),
    };
    match (kind.as_str(), value) {
        ("hex" | "int", toml::Value::String(s)) => Ok(FieldSpec::Int(s)),
        ("integrity", toml::Value::String(s)) => Ok(FieldSpec::Integrity(s)),
        ("nt_path", toml::Value::String(s)) => Ok(FieldSpec::NtPath(s)),
        ("template", toml::Value::String(s)) => Ok(FieldSpec::Template(parse_template(&s)?)),
        ("data", toml::Value::Integer(n)) if n >= 0 => {
            Ok(FieldSpec::Data(usize::try_from(n).map_err(|e| e.to_string())?))
        }
        ("first", toml::Value::Array(names)) => names
            .into_iter()
            .map(|n| {
                n.as_str().map(str::to_owned).ok_or(format!("first = [..] takes names, not {n:?}"))
            })
            .collect::<Result<_, _>>()
            .map(FieldSpec::First),
        ("path", value) => pair(&value).map(|(folder, name)| FieldSpec::Path { folder, name }),
        ("registry", value) => pair(&value).map(|(key, value)| FieldSpec::Registry { key, value }),
        (kind, value) => Err(format!("bad field spec {kind} = {value:?}")),
    }
}

/// Parses `{A}\{B}` into parts.
pub(crate) fn parse_template(text: &str) -> Result<Vec<TemplatePart>, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(TemplatePart::Text(rest[..open].to_owned()));
        }
        let close = rest[open..].find('}').ok_or_else(|| format!("unclosed {{ in {text:?}"))?;
        parts.push(TemplatePart::Field(rest[open + 1..open + close].to_owned()));
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Text(rest.to_owned()));
    }
    Ok(parts)
}

impl FieldSpec {
    /// Whether the field's value is one source field's value as the record holds it (so that any
    /// text it contains is in the record's text too).
    pub fn verbatim(&self) -> bool {
        matches!(self, FieldSpec::Copy(_) | FieldSpec::Data(_) | FieldSpec::First(_))
    }
}

/// Computes one taxonomy field; `None` when the source lacks what it needs.
pub(crate) fn compute(spec: &FieldSpec, event: &Event) -> Option<Value> {
    let text = |name: &str| present(event, name);
    match spec {
        FieldSpec::Copy(from) => event.get(from).filter(|v| !v.is_null()).cloned(),
        FieldSpec::Int(from) => event.get(from).and_then(Value::as_i64).map(Value::Int),
        FieldSpec::Template(parts) => template(parts, event).map(Value::Str),
        FieldSpec::Data(index) => match event.get("Data")? {
            Value::List(items) => items.get(*index).cloned(),
            single if *index == 0 => Some(single.clone()),
            _ => None,
        },
        FieldSpec::Integrity(from) => {
            integrity_level(&event.get(from)?.as_text()).map(|l| Value::Str(l.to_owned()))
        }
        FieldSpec::Path { folder, name } => {
            Some(Value::Str(join_path(text(folder)?, text(name).unwrap_or(""))))
        }
        FieldSpec::Registry { key, value } => {
            let mut path = sysmon_hive(text(key)?);
            if let Some(name) = text(value) {
                path.push('\\');
                path.push_str(name);
            }
            Some(Value::Str(path))
        }
        FieldSpec::First(names) => names
            .iter()
            .find_map(|n| event.get(n).filter(|v| !v.is_null() && !v.as_text().is_empty()))
            .cloned(),
        FieldSpec::NtPath(from) => Some(Value::Str(drive_path(text(from)?))),
        FieldSpec::Map { from, values } => {
            let have = event.get(from)?.as_text();
            values
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&have))
                .map(|(_, v)| Value::Str(v.clone()))
        }
    }
}

/// A field's text, unless it is missing, empty or `-`.
fn present<'e>(event: &'e Event, name: &str) -> Option<&'e str> {
    event.get_str(name).filter(|s| !s.is_empty() && *s != "-")
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

/// `folder` and `name` joined with the folder's separator, unless `folder` already ends with
/// `name` (Defender's `FolderPath` holds the whole path in streamed records).
pub(crate) fn join_path(folder: &str, name: &str) -> String {
    let ends_with_name = folder.len() > name.len()
        && folder.is_char_boundary(folder.len() - name.len())
        && folder[folder.len() - name.len()..].eq_ignore_ascii_case(name)
        && matches!(folder.as_bytes()[folder.len() - name.len() - 1], b'\\' | b'/');
    if name.is_empty() || ends_with_name {
        return folder.to_owned();
    }
    let sep = if folder.contains('\\') || !folder.contains('/') { '\\' } else { '/' };
    let mut path = folder.trim_end_matches(sep).to_owned();
    path.push(sep);
    path.push_str(name);
    path
}

/// A registry path with its hive as Sysmon writes it (`HKLM`, `HKU`, `HKCR`), whatever form the
/// source used (`HKEY_LOCAL_MACHINE`, `\REGISTRY\MACHINE`, `HKEY_CURRENT_USER` ...).
pub(crate) fn sysmon_hive(path: &str) -> String {
    const HIVES: [(&str, &str); 9] = [
        ("HKEY_LOCAL_MACHINE", "HKLM"),
        ("HKEY_USERS", "HKU"),
        ("HKEY_CURRENT_USER", "HKCU"),
        ("HKEY_CLASSES_ROOT", "HKCR"),
        ("HKEY_CURRENT_CONFIG", "HKLM\\SYSTEM\\CurrentControlSet\\Hardware Profiles\\Current"),
        ("\\REGISTRY\\MACHINE", "HKLM"),
        ("\\REGISTRY\\USER", "HKU"),
        ("REGISTRY\\MACHINE", "HKLM"),
        ("REGISTRY\\USER", "HKU"),
    ];
    for (long, short) in HIVES {
        let head = path.get(..long.len());
        let boundary = matches!(path.as_bytes().get(long.len()), None | Some(b'\\'));
        if boundary && head.is_some_and(|h| h.eq_ignore_ascii_case(long)) {
            return format!("{short}{}", &path[long.len()..]);
        }
    }
    path.to_owned()
}

/// An NT device path with the volume as a drive: `\Device\HarddiskVolume3\Windows\x.exe` to
/// `C:\Windows\x.exe`. Which letter a volume has is not in the event; every volume is written as
/// `C:`, so a rule's `C:\...` path matches on whatever volume the file is (as pySigma's Falcon
/// pipeline renders `C:` as `\Device\HarddiskVolume?`). The device path stays in its own field.
pub(crate) fn drive_path(path: &str) -> String {
    const VOLUME: &str = "\\Device\\HarddiskVolume";
    if path.get(..VOLUME.len()).is_some_and(|h| h.eq_ignore_ascii_case(VOLUME)) {
        let rest = &path[VOLUME.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && matches!(rest.as_bytes().get(digits), None | Some(b'\\')) {
            return format!("C:{}", &rest[digits..]);
        }
    }
    path.to_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(
            parse_template("{A}\\{B}").unwrap(),
            vec![
                TemplatePart::Field("A".into()),
                TemplatePart::Text("\\".into()),
                TemplatePart::Field("B".into())
            ]
        );
        assert!(parse_template("{A").is_err());
    }

    #[test]
    fn integrity() {
        assert_eq!(integrity_level("S-1-16-12288"), Some("High"));
        assert_eq!(integrity_level("Mandatory Label\\System Mandatory Level"), Some("System"));
        assert_eq!(integrity_level("Mandatory Label\\Medium Mandatory Level"), Some("Medium"));
        assert_eq!(integrity_level("S-1-5-18"), None);
    }

    #[test]
    fn paths() {
        assert_eq!(join_path("C:\\Windows\\System32", "cmd.exe"), "C:\\Windows\\System32\\cmd.exe");
        assert_eq!(
            join_path("C:\\Windows\\System32\\", "cmd.exe"),
            "C:\\Windows\\System32\\cmd.exe"
        );
        assert_eq!(
            join_path("c:\\windows\\system32\\CMD.EXE", "cmd.exe"),
            "c:\\windows\\system32\\CMD.EXE"
        );
        assert_eq!(join_path("/usr/bin", "bash"), "/usr/bin/bash");
        assert_eq!(join_path("/usr/bin/bash", "bash"), "/usr/bin/bash");
        // A folder named like the file is still a folder.
        assert_eq!(join_path("C:\\tools\\xcmd.exe", "cmd.exe"), "C:\\tools\\xcmd.exe\\cmd.exe");
        assert_eq!(join_path("C:\\x", ""), "C:\\x");
    }

    #[test]
    fn hives() {
        assert_eq!(sysmon_hive("HKEY_LOCAL_MACHINE\\SYSTEM\\x"), "HKLM\\SYSTEM\\x");
        assert_eq!(sysmon_hive("hkey_users\\S-1-5-18"), "HKU\\S-1-5-18");
        assert_eq!(sysmon_hive("\\REGISTRY\\MACHINE\\SOFTWARE"), "HKLM\\SOFTWARE");
        assert_eq!(sysmon_hive("HKLM\\x"), "HKLM\\x");
        assert_eq!(sysmon_hive("HKEY_LOCAL_MACHINEX\\y"), "HKEY_LOCAL_MACHINEX\\y");
    }

    #[test]
    fn drives() {
        assert_eq!(drive_path("\\Device\\HarddiskVolume3\\inetpub\\x.aspx"), "C:\\inetpub\\x.aspx");
        assert_eq!(drive_path("\\Device\\HarddiskVolumeX\\y"), "\\Device\\HarddiskVolumeX\\y");
        assert_eq!(drive_path("/usr/bin/bash"), "/usr/bin/bash");
    }

    #[test]
    fn specs() {
        let parse =
            |text: &str| parse_spec(toml::from_str::<toml::Table>(text).unwrap()["f"].clone());
        assert_eq!(parse("f = \"A\"").unwrap(), FieldSpec::Copy("A".into()));
        assert_eq!(
            parse("f = { path = [\"A\", \"B\"] }").unwrap(),
            FieldSpec::Path { folder: "A".into(), name: "B".into() }
        );
        assert!(parse("f = { path = \"A\" }").is_err());
        assert_eq!(
            parse("f = { map = \"A\", values = { x = \"y\" } }").unwrap(),
            FieldSpec::Map { from: "A".into(), values: vec![("x".into(), "y".into())] }
        );
        assert!(parse("f = { map = \"A\" }").is_err());
        assert!(parse("f = { nope = \"A\" }").is_err());
    }
}
