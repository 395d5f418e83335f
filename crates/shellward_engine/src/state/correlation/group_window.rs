//! One group's window of a correlation: its signals in time order, with what its condition
//! counts (the members present, the distinct values, the members found in order) kept up to date
//! as signals enter and leave.
//!
//! The condition is checked each time a signal enters, so counting by walking the window made
//! each signal cost the window's size: on a busy web server, where every request to a script
//! enters the window of its file name, a hunt grew with the square of the requests in a timespan
//! (up to [`super::window::MAX_WINDOW`] per signal).
//!
//! Each signal gets a sequence number as it enters, and each member keeps the numbers of its
//! signals in the window (in order, as they enter at the back and leave at the front). The
//! members found in order (`temporal_ordered`) are then found with one binary search per member
//! instead of a walk over the window.

use super::window::Entry;
use std::collections::{HashMap, VecDeque};

/// See the module documentation.
#[derive(Debug, Clone, Default)]
pub(super) struct GroupWindow {
    entries: VecDeque<Entry>,
    /// Per member (by index): the sequence numbers of its signals in the window, earliest first.
    members: Vec<VecDeque<u64>>,
    /// The sequence number of the next signal to enter.
    next: u64,
    /// How many members have a signal in the window.
    present: usize,
    /// Per value: the signals in the window with it.
    values: HashMap<String, usize>,
}

impl GroupWindow {
    /// Adds a signal at the end (the latest).
    pub(super) fn push_back(&mut self, entry: Entry) {
        if self.members.len() <= entry.member {
            self.members.resize_with(entry.member + 1, VecDeque::new);
        }
        let signals = &mut self.members[entry.member];
        signals.push_back(self.next);
        self.next += 1;
        if signals.len() == 1 {
            self.present += 1;
        }
        if let Some(value) = &entry.value {
            *self.values.entry(value.clone()).or_default() += 1;
        }
        self.entries.push_back(entry);
    }

    /// Takes out the earliest signal.
    pub(super) fn pop_front(&mut self) -> Option<Entry> {
        let entry = self.entries.pop_front()?;
        let signals = &mut self.members[entry.member];
        signals.pop_front();
        if signals.is_empty() {
            self.present -= 1;
        }
        if let Some(value) = &entry.value
            && let Some(count) = self.values.get_mut(value)
        {
            *count -= 1;
            if *count == 0 {
                self.values.remove(value);
            }
        }
        Some(entry)
    }

    /// Takes every signal out, earliest first.
    pub(super) fn take(&mut self) -> VecDeque<Entry> {
        let entries = std::mem::take(&mut self.entries);
        *self = GroupWindow::default();
        entries
    }

    /// The earliest signal.
    pub(super) fn front(&self) -> Option<&Entry> {
        self.entries.front()
    }

    /// The latest signal.
    pub(super) fn back(&self) -> Option<&Entry> {
        self.entries.back()
    }

    /// The signals, earliest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// How many signals it holds.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether member `member` has a signal in it.
    pub(super) fn has(&self, member: usize) -> bool {
        self.members.get(member).is_some_and(|signals| !signals.is_empty())
    }

    /// How many of the members, from the first, have signals in the window in their order: the
    /// first member's earliest signal, then the second member's earliest after it, and so on
    /// (the earliest match is the one that leaves most room for the members after it).
    pub(super) fn members_in_order(&self) -> usize {
        let mut after: Option<u64> = None;
        for (found, signals) in self.members.iter().enumerate() {
            let first = signals.partition_point(|&n| after.is_some_and(|after| n <= after));
            match signals.get(first) {
                Some(&n) => after = Some(n),
                None => return found,
            }
        }
        self.members.len()
    }

    /// How many members have a signal in it.
    pub(super) fn members_present(&self) -> usize {
        self.present
    }

    /// How many distinct values its signals have (those without one not counted).
    pub(super) fn distinct_values(&self) -> usize {
        self.values.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::correlation::window::{Fired, Signal};
    use std::collections::HashSet;
    use std::sync::Arc;

    fn entry(member: usize, value: Option<&str>) -> Entry {
        let fired = Fired {
            correlation: 0,
            index: 0,
            time: shellward_event::Timestamp::UNIX_EPOCH,
            host: None,
            group: Vec::new(),
            members: Vec::new(),
        };
        Entry {
            time: 0,
            member,
            value: value.map(str::to_owned),
            signal: Signal::Fired(Arc::new(fired)),
        }
    }

    /// The tallies agree with a walk over the window after every step of a long mixed sequence
    /// of signals entering and leaving.
    #[test]
    fn tallies_agree_with_a_walk() {
        let mut window = GroupWindow::default();
        let mut state: u64 = 7;
        for step in 0..5000_u32 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let pick = (state >> 33) as usize;
            if pick.is_multiple_of(3) {
                window.pop_front();
            } else {
                let value = ["a", "b", "c"].get(pick % 4).copied();
                window.push_back(entry(pick % 5, value));
            }
            if step.is_multiple_of(97) {
                let _ = window.take();
            }
            let mut in_order = 0;
            for entry in window.iter() {
                if entry.member == in_order {
                    in_order += 1;
                }
            }
            assert_eq!(window.members_in_order(), in_order, "step {step}");
            let members: HashSet<usize> = window.iter().map(|e| e.member).collect();
            let values: HashSet<&str> = window.iter().filter_map(|e| e.value.as_deref()).collect();
            assert_eq!(window.members_present(), members.len(), "step {step}");
            assert_eq!(window.distinct_values(), values.len(), "step {step}");
            for m in 0..6 {
                assert_eq!(window.has(m), members.contains(&m), "step {step}, member {m}");
            }
        }
    }
}
