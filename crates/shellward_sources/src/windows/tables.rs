//! The Windows and ECS mapping tables (`mappings/*.toml`), parsed once per process.

use crate::mapping::{FieldSpec, TemplatePart, leak, parse_spec, parse_template};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

const WINDOWS_TOML: &str = include_str!("../../mappings/windows.toml");
const ECS_TOML: &str = include_str!("../../mappings/ecs.toml");

/// One `[[event]]` entry.
#[derive(Debug)]
pub(crate) struct EventRule {
    pub(crate) provider_prefix: Option<String>,
    pub(crate) when: Option<(String, Vec<String>)>,
    pub(crate) category: Option<&'static str>,
    pub(crate) fields: Vec<(&'static str, FieldSpec)>,
    pub(crate) key_values: bool,
}

/// The parsed tables.
#[derive(Debug)]
pub(crate) struct Tables {
    /// Lower-cased channel name to Sigma service.
    services: HashMap<String, &'static str>,
    /// Lower-cased channel name to Sigma product, for channels that are not Windows' own.
    products: HashMap<String, &'static str>,
    /// (lower-cased channel, event id) to the rules for it, in file order.
    events: HashMap<(String, i64), Vec<EventRule>>,
    /// ECS field to taxonomy field.
    pub(crate) ecs_fields: Vec<(String, &'static str)>,
    /// Taxonomy fields built from ECS fields.
    pub(crate) ecs_templates: Vec<(&'static str, Vec<TemplatePart>)>,
}

impl Tables {
    /// The tables embedded in the binary.
    pub(crate) fn get() -> &'static Tables {
        static TABLES: OnceLock<Tables> = OnceLock::new();
        TABLES.get_or_init(|| match Tables::parse(WINDOWS_TOML, ECS_TOML) {
            Ok(tables) => tables,
            // The embedded tables are checked by a unit test, so this cannot happen in a build
            // that passed its tests.
            Err(e) => panic!("embedded mapping table is invalid: {e}"),
        })
    }

    /// The Sigma service of a channel.
    pub(crate) fn service(&self, channel: &str) -> Option<&'static str> {
        self.services
            .get(channel)
            .or_else(|| self.services.get(&channel.to_ascii_lowercase()))
            .copied()
    }

    /// The Sigma product of a channel: `windows` unless the table says otherwise (Sysmon for Linux
    /// writes the same event schema under `Linux-Sysmon/Operational`).
    pub(crate) fn product(&self, channel: &str) -> &'static str {
        self.products.get(&channel.to_ascii_lowercase()).copied().unwrap_or("windows")
    }

    /// The rules for an event of `channel` with `event_id`.
    pub(crate) fn rules(&self, channel: &str, event_id: i64) -> &[EventRule] {
        let key = (channel.to_ascii_lowercase(), event_id);
        self.events.get(&key).map_or(&[], Vec::as_slice)
    }

    fn parse(windows: &str, ecs: &str) -> Result<Tables, String> {
        let windows: WindowsFile = toml::from_str(windows).map_err(|e| e.to_string())?;
        let ecs: EcsFile = toml::from_str(ecs).map_err(|e| e.to_string())?;
        let mut services = HashMap::new();
        let mut products = HashMap::new();
        for c in windows.channel {
            services.insert(c.name.to_ascii_lowercase(), leak(c.service));
            if let Some(product) = c.product {
                products.insert(c.name.to_ascii_lowercase(), leak(product));
            }
        }
        let mut events: HashMap<(String, i64), Vec<EventRule>> = HashMap::new();
        for e in windows.event {
            let when = match (e.when_field, e.when_values) {
                (Some(f), Some(v)) => Some((f, v)),
                (None, None) => None,
                _ => return Err("when_field and when_values go together".into()),
            };
            let mut fields = Vec::new();
            for (name, spec) in e.fields {
                fields.push((leak(name), parse_spec(spec)?));
            }
            let category = e.category.map(leak);
            for id in e.ids {
                let rule = EventRule {
                    provider_prefix: e.provider.clone(),
                    when: when.clone(),
                    category,
                    fields: fields.clone(),
                    key_values: e.key_values,
                };
                events.entry((e.channel.to_ascii_lowercase(), id)).or_default().push(rule);
            }
        }
        let ecs_fields = ecs.fields.into_iter().map(|(from, to)| (from, leak(to))).collect();
        let ecs_templates = ecs
            .templates
            .into_iter()
            .map(|(name, t)| Ok((leak(name), parse_template(&t)?)))
            .collect::<Result<_, String>>()?;
        Ok(Tables { services, products, events, ecs_fields, ecs_templates })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowsFile {
    channel: Vec<ChannelEntry>,
    event: Vec<EventEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelEntry {
    name: String,
    service: String,
    product: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventEntry {
    channel: String,
    provider: Option<String>,
    ids: Vec<i64>,
    when_field: Option<String>,
    when_values: Option<Vec<String>>,
    category: Option<String>,
    #[serde(default)]
    fields: toml::map::Map<String, toml::Value>,
    #[serde(default)]
    key_values: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EcsFile {
    fields: BTreeMap<String, String>,
    #[serde(default)]
    templates: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tables_parse() {
        let tables = Tables::parse(WINDOWS_TOML, ECS_TOML).unwrap();
        assert_eq!(tables.service("Microsoft-Windows-Sysmon/Operational"), Some("sysmon"));
        assert_eq!(tables.service("security"), Some("security"));
        let rules = tables.rules("Security", 4688);
        assert_eq!(rules[0].category, Some("process_creation"));
        assert!(
            rules[0]
                .fields
                .iter()
                .any(|(n, s)| *n == "Image" && *s == FieldSpec::Copy("NewProcessName".into()))
        );
        assert_eq!(tables.rules("microsoft-windows-sysmon/operational", 12).len(), 2);
    }
}
