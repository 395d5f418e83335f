//! How a record's undecoded text holds the values its decoder gives its event: what a search of
//! that text for a rule's texts must allow for (`shellward_engine::RawPlan`).

/// The form in which a record's raw text holds the values of its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RawForm {
    /// JSON text (a JSON record, or the JSON rendering of a binary one): a backslash is written
    /// `\\` and a quote `\"`; `\uXXXX` and `\/` may stand for any character.
    Json,
    /// Plain text (a log line): each value the decoder gives is in the text as it is, but that
    /// - a space of a value may be written `space` in the text (IIS W3C writes `+`);
    /// - a character of `joins` may sit between two values the decoder joins into one (the `?`
    ///   of a URI joined from its stem and query, which the text separates otherwise);
    /// - text holding one of `escapes` may hold something that the decoder resolves or leaves
    ///   out (`\"` in a quoted value of an access log; an XML entity, comment or CDATA section).
    Plain {
        /// See [`RawForm::Plain`].
        space: u8,
        /// See [`RawForm::Plain`].
        joins: &'static [u8],
        /// See [`RawForm::Plain`].
        escapes: &'static [&'static [u8]],
    },
}

/// A record's undecoded text, as a decoder gives it to a search of raw text
/// (`shellward_engine::RawMatcher`), with what the decoder learnt of it while reading its route.
#[derive(Debug, Clone, Copy)]
pub struct RawText<'a> {
    /// The text, in its route's [`RawForm`].
    pub bytes: &'a [u8],
    /// Where the decoder read the text as JSON before the search: what it saw of it.
    pub read: Option<ReadJson>,
}

/// What a decoder saw of a JSON record's text while it read the record's route ([`RawText::read`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadJson {
    /// The span (start, end) of the value of the record's top-level member `Message` (its last),
    /// quotes included, where that value is a string: it holds the value of the event's field
    /// `Message` and nothing that any other field is read from, so a search for other fields'
    /// values may pass over it. (Windows exports repeat every field in it.)
    pub message: Option<(usize, usize)>,
    /// Whether the text outside `message` has an escape that may stand for a printable
    /// character (`\uXXXX`, `\/`): the decoder saw every escape.
    pub hiding_escape: bool,
    /// The same, inside `message`.
    pub hiding_escape_in_message: bool,
}

impl<'a> RawText<'a> {
    /// A text of which the decoder tells nothing more.
    pub fn whole(bytes: &'a [u8]) -> RawText<'a> {
        RawText { bytes, read: None }
    }
}
