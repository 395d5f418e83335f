//! A correlation stream as a checkpoint stores it ([`StreamState`]): every open window with the
//! signals in it, so a restarted live hunt fires exactly as the stopped one would have.

use super::group_window::GroupWindow;
use super::window::{Correlator, Entry, Fired, Signal, Stream};
use serde::{Deserialize, Serialize};
use shellward_event::{StoredEvent, Timestamp};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The state of a [`Stream`], to write with serde and read back with [`Stream::restore`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StreamState {
    /// Per correlation, each group's window.
    windows: Vec<Vec<(Vec<String>, Vec<StoredEntry>)>>,
    fired: Vec<usize>,
    pending: Vec<StoredFired>,
    now: i64,
    pushed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredEntry {
    time: i64,
    member: usize,
    value: Option<String>,
    signal: StoredSignal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum StoredSignal {
    Alert { event: StoredEvent, rule: usize, order: usize },
    Fired(StoredFired),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredFired {
    correlation: usize,
    index: usize,
    time: (i64, i32),
    host: Option<String>,
    group: Vec<(String, String)>,
    members: Vec<StoredSignal>,
}

/// Why a stored stream does not fit the correlations it is restored for.
#[derive(Debug, thiserror::Error)]
#[error("the checkpoint's correlation state does not fit the correlation rules loaded: {0}")]
pub struct StateMismatch(&'static str);

impl From<&Signal> for StoredSignal {
    fn from(signal: &Signal) -> Self {
        match signal {
            Signal::Alert { event, rule, order } => StoredSignal::Alert {
                event: StoredEvent::from(&**event),
                rule: *rule,
                order: *order,
            },
            Signal::Fired(fired) => StoredSignal::Fired(StoredFired::from(&**fired)),
        }
    }
}

impl From<&Fired> for StoredFired {
    fn from(fired: &Fired) -> Self {
        StoredFired {
            correlation: fired.correlation,
            index: fired.index,
            time: (fired.time.as_second(), fired.time.subsec_nanosecond()),
            host: fired.host.clone(),
            group: fired.group.clone(),
            members: fired.members.iter().map(StoredSignal::from).collect(),
        }
    }
}

/// Rebuilds signals, checking each index against what the correlator has.
struct Rebuild<'x> {
    correlations: usize,
    rules: usize,
    paths: &'x mut HashSet<Arc<str>>,
}

impl Rebuild<'_> {
    fn signal(&mut self, stored: StoredSignal) -> Result<Signal, StateMismatch> {
        Ok(match stored {
            StoredSignal::Alert { event, rule, order } => {
                if rule >= self.rules {
                    return Err(StateMismatch("a member alert names a rule that is not loaded"));
                }
                Signal::Alert { event: Arc::new(event.into_event(self.paths)), rule, order }
            }
            StoredSignal::Fired(fired) => Signal::Fired(Arc::new(self.fired(fired)?)),
        })
    }

    fn fired(&mut self, stored: StoredFired) -> Result<Fired, StateMismatch> {
        if stored.correlation >= self.correlations {
            return Err(StateMismatch("a firing names a correlation that is not loaded"));
        }
        let (seconds, nanos) = stored.time;
        let time =
            Timestamp::new(seconds, nanos).map_err(|_| StateMismatch("a time is invalid"))?;
        let members =
            stored.members.into_iter().map(|m| self.signal(m)).collect::<Result<_, _>>()?;
        Ok(Fired {
            correlation: stored.correlation,
            index: stored.index,
            time,
            host: stored.host,
            group: stored.group,
            members,
        })
    }
}

impl<'c, 'a> Stream<'c, 'a> {
    /// The stream's state, for a checkpoint.
    pub fn state(&self) -> StreamState {
        let entry = |e: &Entry| StoredEntry {
            time: e.time,
            member: e.member,
            value: e.value.clone(),
            signal: StoredSignal::from(&e.signal),
        };
        StreamState {
            windows: self
                .windows
                .iter()
                .map(|groups| {
                    let mut groups: Vec<_> = groups
                        .iter()
                        .map(|(key, window)| (key.clone(), window.iter().map(entry).collect()))
                        .collect();
                    groups.sort_by(|a: &(Vec<String>, Vec<StoredEntry>), b| a.0.cmp(&b.0));
                    groups
                })
                .collect(),
            fired: self.fired.clone(),
            pending: self.pending.iter().map(|f| StoredFired::from(&**f)).collect(),
            now: self.now,
            pushed: self.pushed,
        }
    }

    /// A stream of `correlator` that goes on from `state` (`rules`: how many rules the set has).
    pub fn restore(
        correlator: Correlator<'a>,
        rules: usize,
        state: StreamState,
        paths: &mut HashSet<Arc<str>>,
    ) -> Result<Self, StateMismatch> {
        let count = correlator.correlations.len();
        if state.windows.len() != count || state.fired.len() != count {
            return Err(StateMismatch("another number of correlations"));
        }
        let mut rebuild = Rebuild { correlations: count, rules, paths };
        let mut windows = Vec::with_capacity(count);
        for (c, groups) in state.windows.into_iter().enumerate() {
            let members = correlator.correlations[c].members.len();
            let mut map = HashMap::with_capacity(groups.len());
            for (key, entries) in groups {
                let mut window = GroupWindow::default();
                for e in entries {
                    if e.member >= members {
                        return Err(StateMismatch("a window names a member that is not there"));
                    }
                    let signal = rebuild.signal(e.signal)?;
                    window.push_back(Entry {
                        time: e.time,
                        member: e.member,
                        value: e.value,
                        signal,
                    });
                }
                map.insert(key, window);
            }
            windows.push(map);
        }
        let pending = state
            .pending
            .into_iter()
            .map(|f| rebuild.fired(f).map(Arc::new))
            .collect::<Result<_, _>>()?;
        Ok(Stream {
            correlator,
            _borrow: std::marker::PhantomData,
            windows,
            fired: state.fired,
            pending,
            now: state.now,
            pushed: state.pushed,
            cut: 0,
        })
    }
}
