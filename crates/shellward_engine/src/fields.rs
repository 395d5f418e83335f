//! Field names interned to small integer ids when rules are compiled, and an event's fields bound
//! to those ids once per event, so that thousands of items read a field by index instead of
//! comparing names.

use std::collections::HashMap;

use shellward_event::{Event, Value};

/// A field a rule reads: its id in the rule set and its name.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) id: u32,
    pub(crate) name: String,
}

/// The field names of a rule set, each with its id.
#[derive(Debug, Default, Clone)]
pub(crate) struct FieldIds {
    ids: HashMap<String, u32>,
}

impl FieldIds {
    /// The field for `name`, interning it on first sight.
    pub(crate) fn field(&mut self, name: String) -> Field {
        let next = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        let id = *self.ids.entry(name.clone()).or_insert(next);
        Field { id, name }
    }

    /// How many distinct fields there are.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }
}

/// Reusable memory for binding events to field ids: one slot per field id holding the 1-based
/// position of that field in the event (0: absent), and the slots to clear afterwards.
#[derive(Debug, Default)]
pub struct Scratch {
    slots: Vec<u32>,
    touched: Vec<u32>,
}

impl Scratch {
    /// Binds `event` to `ids`: the first field of each name wins, as with [`Event::get`].
    pub(crate) fn bind(&mut self, ids: &FieldIds, event: &Event) {
        for id in self.touched.drain(..) {
            if let Some(slot) = self.slots.get_mut(id as usize) {
                *slot = 0;
            }
        }
        self.slots.resize(ids.len(), 0);
        for (position, (name, _)) in event.fields().enumerate() {
            if let Some(id) = ids.get(name)
                && let Some(slot) = self.slots.get_mut(id as usize)
                && *slot == 0
            {
                *slot = u32::try_from(position + 1).unwrap_or(0);
                self.touched.push(id);
            }
        }
    }
}

/// An event as rules read it: by bound id when a rule set bound it, else by name.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) event: &'a Event,
    slots: Option<&'a [u32]>,
}

impl<'a> View<'a> {
    /// Reads fields by name.
    pub(crate) fn by_name(event: &'a Event) -> Self {
        View { event, slots: None }
    }

    /// Reads fields through the ids `scratch` was bound with.
    pub(crate) fn bound(event: &'a Event, scratch: &'a Scratch) -> Self {
        View { event, slots: Some(&scratch.slots) }
    }

    /// The value of a field.
    pub(crate) fn get(&self, field: &Field) -> Option<&'a Value> {
        match self.slots {
            None => self.event.get(&field.name),
            Some(slots) => match slots.get(field.id as usize).copied().unwrap_or(0) {
                0 => None,
                position => self.event.field_at(position as usize - 1).map(|(_, value)| value),
            },
        }
    }
}
