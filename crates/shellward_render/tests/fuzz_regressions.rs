//! Inputs the fuzzers (`scripts/fuzz`) found that crashed or hung: each rule file in
//! `tests/fuzz_regressions/` is loaded, compiled and rendered to every target, as the rule and
//! renderer fuzz targets do. Each must finish (a hang fails the run) without a panic.
//!
//! - `cql_timeout_selector_stars.yml` (cql target): a condition `all of se*****…cess` with 61
//!   stars made the selector's wildcard match exponential (now linear, `pattern::star_glob`).

#![allow(clippy::unwrap_used)]

use shellward_render::Target;
use shellward_sigma::{Origin, load_text};

#[test]
fn every_fuzz_regression_loads_and_renders() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let loaded = load_text(Origin::File(path.clone()), text.clone());
        let (set, _) = shellward_engine::RuleSet::compile(&loaded);
        for rule in set.rules() {
            for target in Target::ALL {
                let _ = shellward_render::render(rule, target, &text);
            }
        }
    }
}
