//! The reference evaluation of a whole rule: its log source, then its condition and filters, each
//! search identifier evaluated at most once.

use crate::compile::detection::Det;
use crate::compile::rule::CompiledRule;
use crate::evaluate::binding::View;
use shellward_event::Event;

impl CompiledRule {
    /// Reference evaluation: whether the event meets the logsource and the condition, and every
    /// filter. Each search identifier is evaluated at most once per event.
    pub fn matches(&self, event: &Event) -> bool {
        self.matches_view(View::by_name(event))
    }

    /// Evaluation through a view of the event (by name, or by ids bound by the rule set).
    pub(crate) fn matches_view(&self, event: View<'_>) -> bool {
        self.info.logsource.matches(&event.event.logsource)
            && self.eval(&mut Vec::new(), |det| det.eval(&|item| item.matches(event)))
    }

    /// The condition and filters (not the logsource), each search identifier evaluated at most
    /// once by `det`; `memo` is reusable memory.
    pub(crate) fn eval(&self, memo: &mut Vec<u8>, det: impl Fn(&Det) -> bool) -> bool {
        const UNKNOWN: u8 = 2;
        memo.clear();
        memo.resize(self.detections.len(), UNKNOWN);
        let mut known = |i: usize| match memo.get(i).copied() {
            Some(UNKNOWN) => {
                let result = self.detections.get(i).is_some_and(&det);
                memo[i] = u8::from(result);
                result
            }
            Some(value) => value == 1,
            None => false,
        };
        self.conditions.iter().any(|c| c.eval(&mut known))
            && self.filters.iter().all(|f| f.eval(&mut known))
    }
}
