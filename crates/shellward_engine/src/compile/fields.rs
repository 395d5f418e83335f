//! Field names interned to small integer ids when rules are compiled, so that thousands of items
//! read a field by index instead of comparing names (the binding of an event's fields to the ids
//! is [`crate::evaluate::binding`]).

use rustc_hash::FxHashMap;

/// A field a rule reads: its id in the rule set and its name.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) id: u32,
    pub(crate) name: String,
}

/// The field names of a rule set, each with its id. (Looked up for every field of every event:
/// a fast non-cryptographic hash, since the keys come from the rules, not from the input.)
#[derive(Debug, Default, Clone)]
pub(crate) struct FieldIds {
    ids: FxHashMap<String, u32>,
}

impl FieldIds {
    /// The field for `name`, interning it on first sight.
    pub(crate) fn field(&mut self, name: String) -> Field {
        let next = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        let id = *self.ids.entry(name.clone()).or_insert(next);
        Field { id, name }
    }

    /// The id of field `name`, interning it on first sight.
    pub(crate) fn id(&mut self, name: &str) -> u32 {
        match self.ids.get(name) {
            Some(&id) => id,
            None => self.field(name.to_owned()).id,
        }
    }

    /// How many distinct fields there are.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// Per field id: its name.
    pub(crate) fn names(&self) -> Vec<&str> {
        let mut names = vec![""; self.ids.len()];
        for (name, &id) in &self.ids {
            names[id as usize] = name;
        }
        names
    }

    /// Per field id: whether it is a field that selects little ([`weak_field`]).
    pub(crate) fn weak_fields(&self) -> Vec<bool> {
        let mut weak = vec![false; self.ids.len()];
        for (name, &id) in &self.ids {
            weak[id as usize] = weak_field(name);
        }
        weak
    }
}

/// Fields whose values are shared by most events of a log source (so an atom on them selects
/// almost nothing once events are routed by log source).
pub(crate) fn weak_field(name: &str) -> bool {
    matches!(
        name,
        "EventID" | "Channel" | "Provider_Name" | "Provider_Guid" | "Provider" | "EventType"
    )
}
