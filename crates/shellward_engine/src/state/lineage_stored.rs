//! The process table as a checkpoint stores it ([`LineageState`]): every process, least recently
//! used first, so a restarted hunt links and forgets as the stopped one would have.

use super::{Limits, Lineage, Node};
use serde::{Deserialize, Serialize};
use shellward_event::Timestamp;
use std::sync::Arc;

/// The state of a [`Lineage`], to write with serde and read back with [`Lineage::restore`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LineageState {
    processes: Vec<StoredProcess>,
    newest: Option<(i64, i32)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredProcess {
    key: String,
    image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    command_line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time: Option<(i64, i32)>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    server: bool,
}

fn stored_time(time: Option<Timestamp>) -> Option<(i64, i32)> {
    time.map(|t| (t.as_second(), t.subsec_nanosecond()))
}

fn time((seconds, nanos): (i64, i32)) -> Option<Timestamp> {
    Timestamp::new(seconds, nanos).ok()
}

impl Lineage {
    /// The table's state, for a checkpoint.
    pub fn state(&self) -> LineageState {
        let processes = self
            .order
            .iter()
            .filter_map(|(sequence, key)| {
                self.nodes.get(key).filter(|node| node.queued == *sequence)
            })
            .map(|node| StoredProcess {
                key: node.key.to_string(),
                image: node.image.to_string(),
                command_line: node.command_line.as_deref().map(str::to_owned),
                parent: node.parent.as_deref().map(str::to_owned),
                time: stored_time(node.time),
                server: node.server,
            })
            .collect();
        LineageState { processes, newest: stored_time(self.newest) }
    }

    /// A table with `limits` holding what `state` held (within the limits).
    pub fn restore(limits: Limits, state: LineageState) -> Lineage {
        let mut lineage = Lineage::new(limits);
        lineage.newest = state.newest.and_then(time);
        for process in state.processes {
            let key: Arc<str> = process.key.into();
            let node = Node {
                key: Arc::clone(&key),
                image: lineage.image(&process.image),
                command_line: process.command_line.map(String::into_boxed_str),
                parent: process.parent.map(|p| lineage.shared_key(p)),
                server: process.server,
                used: 0,
                queued: 0,
                time: process.time.and_then(time),
            };
            lineage.insert(key, node);
        }
        lineage
    }
}
