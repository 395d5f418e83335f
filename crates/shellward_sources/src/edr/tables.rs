//! The EDR mapping table (`mappings/edr.toml`), parsed once per process.

use crate::mapping::{FieldSpec, leak, parse_spec};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const EDR_TOML: &str = include_str!("../../mappings/edr.toml");

/// One `[[defender]]` or `[[falcon]]` entry.
#[derive(Debug)]
pub struct Entry {
    /// The Defender table, or the Falcon event names (`*Suffix` matches by suffix).
    pub names: Vec<String>,
    /// Defender ActionTypes the entry is for (any when empty).
    pub actions: Vec<String>,
    /// The Sigma category of its events.
    pub category: Option<&'static str>,
    /// The taxonomy fields it adds, in table order.
    pub fields: Vec<(&'static str, FieldSpec)>,
}

/// The parsed table.
#[derive(Debug)]
pub struct Tables {
    /// `[[defender]]` entries, in file order.
    pub defender: Vec<Entry>,
    /// `[[falcon]]` entries, in file order.
    pub falcon: Vec<Entry>,
    /// Falcon `event_platform` to Sigma product.
    pub platforms: Vec<(String, &'static str)>,
}

impl Tables {
    /// The table embedded in the binary.
    pub fn get() -> &'static Tables {
        static TABLES: OnceLock<Tables> = OnceLock::new();
        TABLES.get_or_init(|| match Tables::parse(EDR_TOML) {
            Ok(tables) => tables,
            // Checked by a unit test, so this cannot happen in a build that passed its tests.
            Err(e) => panic!("embedded EDR mapping table is invalid: {e}"),
        })
    }

    /// The entry for a Defender row of `table` (if known) with `action`.
    pub(crate) fn defender(&self, table: Option<&str>, action: Option<&str>) -> Option<&Entry> {
        let listed = |e: &Entry| action.is_some_and(|a| e.actions.iter().any(|x| x == a));
        match table {
            Some(table) => self
                .defender
                .iter()
                .filter(|e| e.names[0].eq_ignore_ascii_case(table))
                .find(|e| e.actions.is_empty() || listed(e)),
            None => self.defender.iter().find(|e| listed(e)),
        }
    }

    /// The entry for a Falcon event named `name`.
    pub(crate) fn falcon(&self, name: &str) -> Option<&Entry> {
        self.falcon.iter().find(|e| {
            e.names.iter().any(|n| match n.strip_prefix('*') {
                Some(suffix) => name.ends_with(suffix),
                None => n == name,
            })
        })
    }

    /// The Sigma product of a Falcon `event_platform`.
    pub(crate) fn falcon_product(&self, platform: &str) -> Option<&'static str> {
        self.platforms.iter().find(|(p, _)| p.eq_ignore_ascii_case(platform)).map(|(_, s)| *s)
    }

    fn parse(text: &str) -> Result<Tables, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let entry = |names: Vec<String>, actions: Vec<String>, raw: RawEntry| {
            let mut fields = Vec::new();
            for (name, spec) in raw.fields {
                fields.push((leak(name), parse_spec(spec)?));
            }
            Ok::<_, String>(Entry { names, actions, category: raw.category.map(leak), fields })
        };
        let defender = file
            .defender
            .into_iter()
            .map(|d| {
                let table = d.table.clone().ok_or("a [[defender]] entry needs a table")?;
                entry(vec![table], d.actions.clone(), d)
            })
            .collect::<Result<_, String>>()?;
        let falcon = file
            .falcon
            .into_iter()
            .map(|f| match f.events.clone() {
                Some(events) if !events.is_empty() => entry(events, Vec::new(), f),
                _ => Err("a [[falcon]] entry needs events".into()),
            })
            .collect::<Result<_, String>>()?;
        let platforms = file.falcon_platforms.into_iter().map(|(k, v)| (k, leak(v))).collect();
        Ok(Tables { defender, falcon, platforms })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    defender: Vec<RawEntry>,
    falcon: Vec<RawEntry>,
    falcon_platforms: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    table: Option<String>,
    events: Option<Vec<String>>,
    #[serde(default)]
    actions: Vec<String>,
    category: Option<String>,
    #[serde(default)]
    fields: toml::map::Map<String, toml::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses() {
        let tables = Tables::parse(EDR_TOML).unwrap();
        let process = tables.defender(Some("DeviceProcessEvents"), Some("ProcessCreated")).unwrap();
        assert_eq!(process.category, Some("process_creation"));
        // Without a table, the ActionType picks it.
        let file = tables.defender(None, Some("FileDeleted")).unwrap();
        assert_eq!(file.category, Some("file_delete"));
        assert!(tables.defender(None, Some("SomethingElse")).is_none());
        // DeviceEvents takes any ActionType, and has no category.
        assert_eq!(tables.defender(Some("DeviceEvents"), Some("X")).unwrap().category, None);
        assert_eq!(tables.falcon("PeFileWritten").unwrap().category, Some("file_event"));
        assert_eq!(
            tables.falcon("SyntheticProcessRollup2").unwrap().category,
            Some("process_creation")
        );
        assert!(tables.falcon("EndOfProcess").is_none());
        assert_eq!(tables.falcon_product("Lin"), Some("linux"));
    }
}
