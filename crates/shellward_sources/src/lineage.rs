//! The processes one input has shown so far, for sources that name a process's parent (or an
//! event's actor) by id only: Falcon's `ParentProcessId` and `ContextProcessId`, auditd's `ppid`.
//!
//! Records are linked in input order on the reading thread (see [`crate::text`]), so a child finds
//! any parent that came before it in the same input. The table is bounded: it keeps the last
//! [`CAPACITY`] processes and forgets the oldest first, so memory stays under roughly
//! `CAPACITY` x (image + command line) bytes (about 30 MB for 64k processes with 400-byte command
//! lines) whatever the input size.

use shellward_event::{Event, Value};
use std::collections::{HashMap, VecDeque};

/// How many processes are remembered.
pub(crate) const CAPACITY: usize = 1 << 16;

/// The longest command line kept, in bytes (longer ones are cut on a character boundary).
const MAX_COMMAND_LINE: usize = 4096;

/// What is remembered of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Process {
    /// Its executable.
    pub(crate) image: String,
    /// Its command line, if the source gave one.
    pub(crate) command_line: Option<String>,
}

/// A bounded map from (host, process id) to [`Process`], oldest forgotten first.
#[derive(Debug, Default)]
pub(crate) struct ProcessTable {
    processes: HashMap<(String, String), (u64, Process)>,
    /// Insertion order, with the sequence number each insertion had: a key inserted again stays
    /// until its latest insertion is the oldest.
    order: VecDeque<(u64, (String, String))>,
    sequence: u64,
}

impl ProcessTable {
    /// Remembers process `id` of `host`, replacing an earlier process with the same id (ids are
    /// reused).
    pub(crate) fn insert(&mut self, host: &str, id: &str, mut process: Process) {
        if let Some(line) = &mut process.command_line
            && line.len() > MAX_COMMAND_LINE
        {
            let mut cut = MAX_COMMAND_LINE;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
        }
        self.sequence += 1;
        let key = (host.to_owned(), id.to_owned());
        self.order.push_back((self.sequence, key.clone()));
        self.processes.insert(key, (self.sequence, process));
        while self.processes.len() > CAPACITY || self.order.len() > 2 * CAPACITY {
            let Some((sequence, key)) = self.order.pop_front() else { break };
            if self.processes.get(&key).is_some_and(|(s, _)| *s == sequence) {
                self.processes.remove(&key);
            }
        }
    }

    /// Process `id` of `host`, if it was seen and not yet forgotten.
    pub(crate) fn get(&self, host: &str, id: &str) -> Option<&Process> {
        self.processes.get(&(host.to_owned(), id.to_owned())).map(|(_, p)| p)
    }

    /// How many processes are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.processes.len()
    }
}

/// Fills an event's `image` and `command_line` fields (`ParentImage` and `ParentCommandLine` for a
/// parent, `Image` and `CommandLine` for an actor) from the process the table knows; when it does
/// not, `image` becomes `base_name` after a path separator (`\w3wp.exe`), which is what Sigma's
/// `|endswith: '\w3wp.exe'` needs, and the command line stays unknown.
pub(crate) fn fill(
    event: &mut Event,
    known: Option<Process>,
    (image, command_line): (&'static str, &'static str),
    base_name: Option<(char, String)>,
) {
    match known {
        Some(process) => {
            event.insert(image, Value::Str(process.image));
            if let Some(line) = process.command_line {
                event.insert(command_line, Value::Str(line));
            }
        }
        None => {
            if let Some((separator, name)) = base_name.filter(|(_, n)| !n.is_empty()) {
                event.insert(image, Value::Str(format!("{separator}{name}")));
            }
        }
    }
}

/// Remembers the process a process creation event describes (its `Image` and `CommandLine`) as
/// process `id` of `host`.
pub(crate) fn remember(table: &mut ProcessTable, event: &Event, host: &str, id: &str) {
    if let Some(image) = event.get_str("Image") {
        let process = Process {
            image: image.to_owned(),
            command_line: event.get_str("CommandLine").map(str::to_owned),
        };
        table.insert(host, id, process);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(image: &str) -> Process {
        Process { image: image.into(), command_line: None }
    }

    #[test]
    fn remembers_per_host_and_replaces_reused_ids() {
        let mut table = ProcessTable::default();
        table.insert("a", "1", process("/bin/bash"));
        table.insert("b", "1", process("/bin/sh"));
        assert_eq!(table.get("a", "1").unwrap().image, "/bin/bash");
        table.insert("a", "1", process("/usr/sbin/apache2"));
        assert_eq!(table.get("a", "1").unwrap().image, "/usr/sbin/apache2");
        assert_eq!(table.get("b", "1").unwrap().image, "/bin/sh");
        assert!(table.get("a", "2").is_none());
    }

    #[test]
    fn stays_bounded_and_forgets_the_oldest() {
        let mut table = ProcessTable::default();
        for i in 0..CAPACITY + 10 {
            table.insert("h", &i.to_string(), process("x"));
        }
        assert_eq!(table.len(), CAPACITY);
        assert!(table.get("h", "0").is_none());
        assert!(table.get("h", &(CAPACITY + 9).to_string()).is_some());
        // Re-inserting one key many times does not grow the order queue without bound.
        for _ in 0..3 * CAPACITY {
            table.insert("h", "same", process("y"));
        }
        assert!(table.order.len() <= 2 * CAPACITY);
        assert_eq!(table.get("h", "same").unwrap().image, "y");
    }

    #[test]
    fn long_command_lines_are_cut() {
        let mut table = ProcessTable::default();
        let long = "é".repeat(MAX_COMMAND_LINE);
        table.insert("h", "1", Process { image: "x".into(), command_line: Some(long) });
        let kept = table.get("h", "1").unwrap().command_line.as_ref().unwrap();
        assert!(kept.len() <= MAX_COMMAND_LINE);
    }
}
