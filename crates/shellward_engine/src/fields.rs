//! Field names interned to small integer ids when rules are compiled, and an event's fields bound
//! to those ids once per event, so that thousands of items read a field by index instead of
//! comparing names.

use rustc_hash::FxHashMap;

use shellward_event::{Event, Value};

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

    /// Per field id: whether it is a field that selects little ([`crate::need::weak_field`]).
    pub(crate) fn weak_fields(&self) -> Vec<bool> {
        let mut weak = vec![false; self.ids.len()];
        for (name, &id) in &self.ids {
            weak[id as usize] = crate::need::weak_field(name);
        }
        weak
    }
}

/// Reusable memory for evaluating events, one per worker thread: the binding of the event's
/// fields to field ids (one slot per field id holding the 1-based position of that field in the
/// event, 0: absent, and the slots to clear afterwards), their folded text, and the fast
/// evaluator's state.
#[derive(Debug, Default)]
pub struct Scratch {
    slots: Vec<u32>,
    touched: Vec<u32>,
    pub(crate) folded: Folded,
    pub(crate) fast: crate::prefilter::State,
}

/// The folded text ([`crate::pattern::fold`]) of the bound fields that were asked for (a field's
/// value is folded at most once per event, and only if a scanner or a candidate rule reads it), in
/// one reused buffer.
#[derive(Debug, Default)]
pub(crate) struct Folded {
    text: String,
    /// Per field id: the byte range in `text`, `u32::MAX` start when not folded.
    spans: Vec<(u32, u32)>,
}

impl Folded {
    /// The folded text of field `id`, if it was folded.
    pub(crate) fn get(&self, id: u32) -> Option<&str> {
        let &(start, end) = self.spans.get(id as usize)?;
        self.text.get(start as usize..end as usize)
    }
}

impl Scratch {
    /// Binds `event` to `ids`: the first field of each name wins, as with [`Event::get`]. No value
    /// is folded yet: [`Folded::fold`] folds those asked for, each at most once per event.
    pub(crate) fn bind(&mut self, ids: &FieldIds, event: &Event) {
        for id in self.touched.drain(..) {
            if let Some(slot) = self.slots.get_mut(id as usize) {
                *slot = 0;
            }
            if let Some(span) = self.folded.spans.get_mut(id as usize) {
                *span = (u32::MAX, u32::MAX);
            }
        }
        self.slots.resize(ids.len(), 0);
        self.folded.text.clear();
        self.folded.spans.resize(ids.len(), (u32::MAX, u32::MAX));
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

    /// A view of `event` through the ids it was bound with.
    pub(crate) fn view<'a>(&'a self, event: &'a Event) -> View<'a> {
        Bound { slots: &self.slots }.view(event)
    }

    /// The binding (read-only), the folded values (filled on demand) and the fast evaluator's
    /// state, borrowed together.
    pub(crate) fn split(&mut self) -> (Bound<'_>, &mut Folded, &mut crate::prefilter::State) {
        (Bound { slots: &self.slots }, &mut self.folded, &mut self.fast)
    }
}

impl Folded {
    /// Folds the bound value of field `id` if it is a text, number or boolean and was not folded
    /// yet for this event.
    pub(crate) fn fold(&mut self, bound: Bound<'_>, event: &Event, id: u32) {
        if self.spans.get(id as usize).is_none_or(|span| span.0 != u32::MAX) {
            return;
        }
        let Some(value) = bound.value(event, id) else { return };
        let start = self.text.len();
        if !crate::pattern::fold_value_into(value, &mut self.text) {
            return;
        }
        if let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(self.text.len())) {
            self.spans[id as usize] = (start, end);
        }
    }
}

/// An event's binding to field ids, as [`Scratch::bind`] left it.
#[derive(Clone, Copy)]
pub(crate) struct Bound<'a> {
    slots: &'a [u32],
}

impl<'a> Bound<'a> {
    /// The bound value of field `id`.
    pub(crate) fn value<'e>(&self, event: &'e Event, id: u32) -> Option<&'e Value> {
        match self.slots.get(id as usize).copied().unwrap_or(0) {
            0 => None,
            position => event.field_at(position as usize - 1).map(|(_, value)| value),
        }
    }

    /// A view of `event` through this binding.
    pub(crate) fn view<'e>(&self, event: &'e Event) -> View<'e>
    where
        'a: 'e,
    {
        View { event, bound: Some(*self) }
    }
}

/// An event as rules read it: by bound id when a rule set bound it, else by name.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) event: &'a Event,
    bound: Option<Bound<'a>>,
}

impl<'a> View<'a> {
    /// Reads fields by name.
    pub(crate) fn by_name(event: &'a Event) -> Self {
        View { event, bound: None }
    }

    /// The value of a field.
    pub(crate) fn get(&self, field: &Field) -> Option<&'a Value> {
        match self.bound {
            None => self.event.get(&field.name),
            Some(bound) => bound.value(self.event, field.id),
        }
    }
}
