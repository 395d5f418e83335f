//! The Sigma log source of an event.

use serde::Serialize;

/// Where an event comes from, in the Sigma taxonomy: `product` (`windows`, `linux`), `category`
/// (`process_creation`, `file_event`, `registry_set`, ...) and `service` (`sysmon`, `security`,
/// `application`, ...). Any part may be unknown.
///
/// The names are `'static` because they come from the decoders' mapping tables, which are loaded
/// once per process; an event never allocates them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LogSource {
    /// The Sigma `product`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<&'static str>,
    /// The Sigma `category`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<&'static str>,
    /// The Sigma `service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<&'static str>,
}

impl LogSource {
    /// Whether the given part names (`product`, `category` or `service`) hold these values; a `None`
    /// in `want` matches anything.
    pub fn matches(&self, want: &LogSource) -> bool {
        fn part(have: Option<&str>, want: Option<&str>) -> bool {
            want.is_none_or(|w| have.is_some_and(|h| h.eq_ignore_ascii_case(w)))
        }
        part(self.product, want.product)
            && part(self.category, want.category)
            && part(self.service, want.service)
    }
}
