//! Each worker's reusable memory for evaluating events ([`Scratch`]): the binding of an event's
//! fields to the rule set's field ids, their folded text, and the prefilter's state. It sits above
//! evaluation and the prefilter because it holds what both use.

use crate::compile::fields::FieldIds;
use crate::evaluate::binding::{Bound, Folded, View};
use shellward_event::Event;

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
