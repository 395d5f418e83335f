//! An event's fields bound to the rule set's field ids once per event ([`Bound`], [`View`]), and
//! their case-folded text, folded on demand ([`Folded`]).

use crate::compile::fields::Field;
use shellward_event::{Event, Value};

/// The folded text ([`crate::compile::pattern::fold`]) of the bound fields that were asked for (a field's
/// value is folded at most once per event, and only if a scanner or a candidate rule reads it), in
/// one reused buffer.
#[derive(Debug, Default)]
pub(crate) struct Folded {
    pub(crate) text: String,
    /// Per field id: the byte range in `text`, `u32::MAX` start when not folded.
    pub(crate) spans: Vec<(u32, u32)>,
}

impl Folded {
    /// The folded text of field `id`, if it was folded.
    pub(crate) fn get(&self, id: u32) -> Option<&str> {
        let &(start, end) = self.spans.get(id as usize)?;
        self.text.get(start as usize..end as usize)
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
        if !crate::compile::pattern::fold_value_into(value, &mut self.text) {
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
    pub(crate) slots: &'a [u32],
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
