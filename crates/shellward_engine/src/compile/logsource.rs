//! Which events a rule's `logsource` meets.
//!
//! Every part the rule names must be present on the event and equal (ignoring ASCII case); parts
//! the rule leaves out match anything. Events carry the Sigma taxonomy already (the decoders' mapping
//! tables put Sysmon 1 and Security 4688 in `process_creation`, Sysmon 12/13/14 in `registry_add` /
//! `registry_delete` / `registry_set` / `registry_rename`, ...); the one alias resolved here is
//! `registry_event`, which Sigma uses for all four registry categories.

use shellward_event::LogSource;

/// A rule's logsource, lowercased.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RuleLogSource {
    /// `product`, e.g. `windows`.
    pub product: Option<String>,
    /// `category`, e.g. `process_creation`.
    pub category: Option<String>,
    /// `service`, e.g. `security`.
    pub service: Option<String>,
}

const REGISTRY_CATEGORIES: [&str; 5] =
    ["registry_event", "registry_add", "registry_delete", "registry_set", "registry_rename"];

impl RuleLogSource {
    /// From the parser's logsource.
    pub fn new(logsource: &rsigma_parser::LogSource) -> RuleLogSource {
        let lower = |s: &Option<String>| s.as_ref().map(|s| s.to_ascii_lowercase());
        RuleLogSource {
            product: lower(&logsource.product),
            category: lower(&logsource.category),
            service: lower(&logsource.service),
        }
    }

    /// Whether an event from `event` meets this rule.
    pub fn matches(&self, event: &LogSource) -> bool {
        part(self.product.as_deref(), event.product)
            && part(self.service.as_deref(), event.service)
            && match (self.category.as_deref(), event.category) {
                (None, _) => true,
                (Some("registry_event"), Some(have)) => {
                    REGISTRY_CATEGORIES.iter().any(|c| have.eq_ignore_ascii_case(c))
                }
                (Some(want), have) => part(Some(want), have),
            }
    }

    /// Whether this (a filter's logsource) is contained in `rule`: every part it names, the rule
    /// names too, with the same value.
    pub(crate) fn within(&self, rule: &RuleLogSource) -> bool {
        let within = |f: &Option<String>, r: &Option<String>| f.is_none() || f == r;
        within(&self.product, &rule.product)
            && within(&self.category, &rule.category)
            && within(&self.service, &rule.service)
    }
}

impl std::fmt::Display for RuleLogSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<&str> = [&self.product, &self.category, &self.service]
            .into_iter()
            .map(|p| p.as_deref().unwrap_or("*"))
            .collect();
        write!(f, "{}", parts.join("/"))
    }
}

fn part(want: Option<&str>, have: Option<&str>) -> bool {
    want.is_none_or(|w| have.is_some_and(|h| h.eq_ignore_ascii_case(w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(product: Option<&str>, category: Option<&str>, service: Option<&str>) -> RuleLogSource {
        RuleLogSource {
            product: product.map(str::to_string),
            category: category.map(str::to_string),
            service: service.map(str::to_string),
        }
    }

    #[test]
    fn parts_the_rule_names_must_match() {
        let sysmon_1 = LogSource {
            product: Some("windows"),
            category: Some("process_creation"),
            service: Some("sysmon"),
        };
        let security_4624 =
            LogSource { product: Some("windows"), category: None, service: Some("security") };
        assert!(rule(Some("windows"), Some("process_creation"), None).matches(&sysmon_1));
        assert!(rule(Some("windows"), None, Some("sysmon")).matches(&sysmon_1));
        assert!(!rule(Some("windows"), Some("process_creation"), None).matches(&security_4624));
        assert!(rule(Some("windows"), None, Some("security")).matches(&security_4624));
        assert!(!rule(Some("linux"), None, None).matches(&sysmon_1));
        let set = LogSource {
            product: Some("windows"),
            category: Some("registry_set"),
            service: Some("sysmon"),
        };
        assert!(rule(Some("windows"), Some("registry_event"), None).matches(&set));
        assert!(!rule(Some("windows"), Some("registry_add"), None).matches(&set));
    }
}
