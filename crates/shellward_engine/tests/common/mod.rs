//! Helpers shared by the engine's integration tests.

#![allow(dead_code, clippy::unwrap_used)]

use shellward_event::Event;
use shellward_sources::{Problem, ReadOptions, Sink};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Everything a read produced.
#[derive(Default)]
pub(crate) struct Collected {
    pub(crate) events: Vec<Event>,
    pub(crate) problems: Vec<Problem>,
}

impl Sink for Collected {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        self.events.push(event);
        ControlFlow::Continue(())
    }
    fn problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }
}

/// Reads every event under the paths (files or directories).
pub(crate) fn read_events(paths: &[PathBuf]) -> Collected {
    let (files, problems) = shellward_sources::expand(paths);
    let mut out = Collected { problems, ..Collected::default() };
    let _ =
        shellward_sources::read_all(&files, &ReadOptions { format: None, threads: 1 }, &mut out);
    out
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
