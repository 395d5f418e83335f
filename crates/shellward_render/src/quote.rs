//! Double-quoted string literals, the one quoting KQL, SPL and LogScale share: `\` and `"` are
//! escaped with a backslash, and each language lists which control characters it can write (any
//! other is an error naming it, never a broken literal).

use crate::RenderError;

/// `text` in double quotes for `target`, control characters written as `escapes` says.
pub(crate) fn double_quoted(
    text: &str,
    target: &'static str,
    escapes: &[(char, &str)],
) -> Result<String, RenderError> {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => match escapes.iter().find(|(e, _)| *e == c) {
                Some((_, written)) => out.push_str(written),
                None => {
                    return Err(RenderError::unsupported(
                        target,
                        format!("a value holding the control character U+{:04X}", c as u32),
                    ));
                }
            },
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(out)
}
