//! What the rule and renderer fuzz targets share: loading a fuzzed rule file and rendering every
//! rule it yields.

use shellward_engine::{CompiledRule, RuleSet};
use shellward_render::Target;
use shellward_sigma::{Loaded, Origin, load_text};

/// Loads and compiles a rule file; `None` when the bytes are not UTF-8.
pub fn compile(data: &[u8]) -> Option<(Loaded, RuleSet)> {
    let text = std::str::from_utf8(data).ok()?;
    let loaded = load_text(Origin::Builtin("fuzz.yml".into()), text.to_owned());
    for diagnostic in &loaded.diagnostics {
        let _ = diagnostic.to_string();
    }
    let (set, diagnostics) = RuleSet::compile(&loaded);
    for diagnostic in &diagnostics {
        let _ = diagnostic.to_string();
    }
    Some((loaded, set))
}

/// Renders every rule of a fuzzed rule file to `target`: each alone, all combined, and (for SPL)
/// each correlation over its members.
pub fn render(data: &[u8], target: Target) {
    let Some((loaded, set)) = compile(data) else { return };
    let text = std::str::from_utf8(data).unwrap_or_default();
    let rules: Vec<&CompiledRule> = set.rules().iter().collect();
    for rule in &rules {
        let _ = shellward_render::render(rule, target, text);
    }
    if matches!(target, Target::Kql | Target::Spl | Target::Cql) && !rules.is_empty() {
        let options = shellward_render::combine::Options::default();
        let _ = shellward_render::combine::combine(&rules, target, &options);
        let options = shellward_render::combine::Options { lookback: Some("24h".into()) };
        let _ = shellward_render::combine::combine(&rules, target, &options);
    }
    if target == Target::Spl {
        for correlation in &loaded.correlations {
            let members: Vec<(&str, &CompiledRule)> = correlation
                .rule
                .rules
                .iter()
                .filter_map(|name| {
                    let rule = rules.iter().find(|r| r.info.is_named(name))?;
                    Some((name.as_str(), *rule))
                })
                .collect();
            let _ = shellward_render::correlation::spl(&correlation.rule, &members);
        }
    }
}
