//! A sink that keeps everything: for tests and small tools that want all events in memory.

use crate::problem::Problem;
use crate::reader::{ReadOptions, Sink, read_all};
use shellward_event::Event;
use std::ops::ControlFlow;
use std::path::PathBuf;

/// Every event and problem a read produced, in order.
#[derive(Debug, Default)]
pub struct Collected {
    /// The events.
    pub events: Vec<Event>,
    /// The problems.
    pub problems: Vec<Problem>,
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

impl Collected {
    /// Problems as `Display` strings.
    pub fn problem_texts(&self) -> Vec<String> {
        self.problems.iter().map(ToString::to_string).collect()
    }
}

/// Reads every file under the paths (files, directories, `-`) into memory.
pub fn collect(paths: &[PathBuf], options: &ReadOptions) -> Collected {
    let (files, problems) = crate::inputs::expand(paths);
    let mut out = Collected { problems, ..Collected::default() };
    let _ = read_all(&files, options, &mut out);
    out
}
