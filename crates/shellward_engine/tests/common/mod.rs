//! Helpers shared by the engine's integration tests.

#![allow(dead_code, clippy::unwrap_used)]

use shellward_sources::{Collected, ReadOptions};
use std::path::{Path, PathBuf};

/// Reads every event under the paths (files or directories).
pub(crate) fn read_events(paths: &[PathBuf]) -> Collected {
    shellward_sources::collect(paths, &ReadOptions::with_threads(1))
}

/// Reads one file.
pub(crate) fn read_file(path: &Path) -> Collected {
    read_events(&[path.to_path_buf()])
}

/// Compiles rules from YAML text, panicking on any diagnostic.
pub(crate) fn ruleset(yaml: &str) -> shellward_engine::RuleSet {
    let loaded = shellward_sigma::load_text(
        shellward_sigma::Origin::Builtin("test.yml".into()),
        yaml.to_string(),
    );
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let (set, diagnostics) = shellward_engine::RuleSet::compile(&loaded);
    assert!(
        diagnostics.is_empty(),
        "{}",
        diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    );
    set
}
