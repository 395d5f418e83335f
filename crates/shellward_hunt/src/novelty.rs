//! The state behind rules with a `first_seen` attribute ([`shellward_engine::FirstSeen`]) during a
//! hunt: per rule and host, when the host's first candidate came and which values have been seen.
//!
//! The hunt's sink receives events in input order (files in the order given, records in file
//! order), so "first" means first in the input, and the same input gives the same alerts. Events
//! without a time cannot be placed against the baseline and never alert. The values remembered are
//! bounded ([`CAPACITY`], oldest forgotten first); a value forgotten and seen again alerts again.

use shellward_engine::FirstSeen;
use shellward_event::{Event, Timestamp};
use std::collections::{HashMap, HashSet, VecDeque};

/// How many (rule, host, value) keys are remembered.
const CAPACITY: usize = 1 << 18;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Novelty {
    starts: HashMap<(usize, String), Timestamp>,
    seen: HashSet<(usize, String, String)>,
    order: VecDeque<(usize, String, String)>,
    forgotten: u64,
}

impl Novelty {
    /// Whether the match of rule `rule` (whose setting is `setting`) on `event` is an alert: its
    /// value is new for the host and the host's baseline is over.
    pub fn keep(&mut self, rule: usize, setting: &FirstSeen, event: &Event) -> bool {
        let Some(time) = event.time else { return false };
        let host = event.host.clone().unwrap_or_default();
        let mut value = String::new();
        for field in &setting.fields {
            let Some(part) = event.get(field) else { return false };
            value.push_str(&part.as_text().to_lowercase());
            value.push('\u{1f}');
        }
        let start = *self.starts.entry((rule, host.clone())).or_insert(time);
        let key = (rule, host, value);
        if self.seen.contains(&key) {
            return false;
        }
        self.seen.insert(key.clone());
        self.order.push_back(key);
        if self.order.len() > CAPACITY
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
            self.forgotten += 1;
        }
        let baseline = i64::try_from(setting.after_seconds).unwrap_or(i64::MAX);
        time.as_second().saturating_sub(start.as_second()) >= baseline
    }
}

/// What a [`Novelty`] remembers, as a checkpoint stores it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct NoveltyState {
    starts: Vec<(usize, String, (i64, i32))>,
    /// Oldest first.
    seen: Vec<(usize, String, String)>,
}

impl Novelty {
    /// How many values were forgotten to stay within the table's capacity (each alerts again if seen).
    pub fn forgotten(&self) -> u64 {
        self.forgotten
    }

    /// What it remembers, for a checkpoint.
    pub fn state(&self) -> NoveltyState {
        let mut starts: Vec<_> = self
            .starts
            .iter()
            .map(|((rule, host), t)| (*rule, host.clone(), (t.as_second(), t.subsec_nanosecond())))
            .collect();
        starts.sort();
        NoveltyState { starts, seen: self.order.iter().cloned().collect() }
    }

    /// What `state` remembered; `None` when it names a rule at or past `rules`.
    pub fn restore(state: NoveltyState, rules: usize) -> Option<Novelty> {
        let mut novelty = Novelty::default();
        for (rule, host, (seconds, nanos)) in state.starts {
            if rule >= rules {
                return None;
            }
            novelty.starts.insert((rule, host), Timestamp::new(seconds, nanos).ok()?);
        }
        for key in state.seen.into_iter().rev().take(CAPACITY).collect::<Vec<_>>().into_iter().rev()
        {
            if key.0 >= rules {
                return None;
            }
            if novelty.seen.insert(key.clone()) {
                novelty.order.push_back(key);
            }
        }
        Some(novelty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shellward_event::{Format, Provenance, Value};

    fn request(time: &str, host: &str, stem: &str) -> Event {
        let provenance = Provenance { path: "t".into(), record: 1, format: Format::W3cLog };
        let mut event = Event::new(provenance);
        event.time = Some(time.parse().unwrap());
        event.host = Some(host.into());
        event.insert("cs-uri-stem", Value::Str(stem.into()));
        event
    }

    #[test]
    fn new_values_after_the_baseline_only() {
        let setting = FirstSeen { fields: vec!["cs-uri-stem".into()], after_seconds: 3600 };
        let mut novelty = Novelty::default();
        let mut keep =
            |t: &str, host: &str, stem: &str| novelty.keep(0, &setting, &request(t, host, stem));
        // The first hour teaches what exists.
        assert!(!keep("2026-11-02T08:00:00Z", "web01", "/default.aspx"));
        assert!(!keep("2026-11-02T08:30:00Z", "web01", "/login.aspx"));
        // Known scripts stay quiet after it; a new one alerts once (whatever its case).
        assert!(!keep("2026-11-02T09:30:00Z", "web01", "/Default.aspx"));
        assert!(keep("2026-11-02T09:31:00Z", "web01", "/aspnet_client/x.aspx"));
        assert!(!keep("2026-11-02T09:32:00Z", "web01", "/aspnet_client/X.aspx"));
        // Each host has its own baseline.
        assert!(!keep("2026-11-02T09:33:00Z", "web02", "/aspnet_client/x.aspx"));
        // Without the field, or without a time, no alert.
        let mut bare = request("2026-11-02T10:00:00Z", "web01", "/y.aspx");
        bare.remove("cs-uri-stem");
        assert!(!novelty.keep(0, &setting, &bare));
        let mut timeless = request("2026-11-02T10:00:00Z", "web01", "/z.aspx");
        timeless.time = None;
        assert!(!novelty.keep(0, &setting, &timeless));
    }
}
