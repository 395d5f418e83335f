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
