//! Value modifiers that rewrite a rule's value before matching: `windash`, `wide`/`utf16le`,
//! `utf16be`, `utf16`, `base64` and `base64offset`, as SIGMA.md §6 states them (pySigma's
//! behaviour where the specification is silent).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::compile::error::CompileError;
use crate::compile::pattern::Piece;

/// A value while modifiers are applied to it: text with wildcards, or bytes after a UTF-16
/// encoding (which only a following base64 modifier turns back into text).
#[derive(Debug, Clone)]
pub(crate) enum Literal {
    /// Text with wildcards.
    Text(Vec<Piece>),
    /// Encoded bytes.
    Bytes(Vec<u8>),
}

impl Literal {
    /// Back to text: bytes left over (a UTF-16 modifier with no base64 after it) become the
    /// characters of their UTF-8 reading, as pySigma does.
    pub(crate) fn into_pieces(self) -> Vec<Piece> {
        match self {
            Literal::Text(pieces) => pieces,
            Literal::Bytes(bytes) => {
                vec![Piece::Text(String::from_utf8_lossy(&bytes).into_owned())]
            }
        }
    }

    fn bytes(&self, modifier: &str) -> Result<Vec<u8>, CompileError> {
        match self {
            Literal::Bytes(bytes) => Ok(bytes.clone()),
            Literal::Text(pieces) => Ok(plain_text(pieces, modifier)?.into_bytes()),
        }
    }
}

fn plain_text(pieces: &[Piece], modifier: &str) -> Result<String, CompileError> {
    let mut text = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => text.push_str(t),
            Piece::Any | Piece::One => {
                return Err(CompileError::invalid(
                    modifier,
                    "wildcards cannot be encoded; escape them (\\* or \\?) or drop the modifier",
                ));
            }
        }
    }
    Ok(text)
}

/// The dash characters `windash` tries for each `-` or `/` it expands.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// At most this many dashes are expanded in one value (5^6 = 15,625 variants).
const MAX_WINDASH: usize = 6;

/// `windash`: every `-` or `/` at the start of a word-led option (`\B[-/]\b`) in any of the five
/// dash forms; the cartesian product over occurrences.
pub(crate) fn windash(literal: Literal) -> Result<Vec<Literal>, CompileError> {
    let Literal::Text(pieces) = literal else {
        return Err(CompileError::invalid("windash", "windash must come before an encoding"));
    };
    // Flatten to characters, wildcards as non-word markers.
    let mut chars: Vec<Option<char>> = Vec::new();
    for piece in &pieces {
        match piece {
            Piece::Text(t) => chars.extend(t.chars().map(Some)),
            Piece::Any | Piece::One => chars.push(None),
        }
    }
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let positions: Vec<usize> = (0..chars.len())
        .filter(|&i| {
            matches!(chars[i], Some('-' | '/'))
                && (i == 0 || !is_word(chars[i - 1]))
                && i + 1 < chars.len()
                && is_word(chars[i + 1])
        })
        .collect();
    if positions.len() > MAX_WINDASH {
        return Err(CompileError::invalid(
            "windash",
            format!(
                "{} dashes would expand to too many variants (at most {MAX_WINDASH})",
                positions.len()
            ),
        ));
    }
    let mut variants = Vec::new();
    let total = DASHES.len().pow(u32::try_from(positions.len()).unwrap_or(0));
    for mut n in 0..total {
        let mut chars = chars.clone();
        for &at in &positions {
            chars[at] = Some(DASHES[n % DASHES.len()]);
            n /= DASHES.len();
        }
        variants.push(Literal::Text(rebuild(&chars, &pieces)));
    }
    Ok(variants)
}

/// Rebuilds pieces from flattened characters, restoring each wildcard from the original pieces.
fn rebuild(chars: &[Option<char>], original: &[Piece]) -> Vec<Piece> {
    let mut wildcards = original.iter().filter(|p| !matches!(p, Piece::Text(_)));
    let mut out = Vec::new();
    let mut text = String::new();
    for c in chars {
        match c {
            Some(c) => text.push(*c),
            None => {
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(wildcards.next().cloned().unwrap_or(Piece::Any));
            }
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// The UTF-16 forms a value may be encoded in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Utf16 {
    /// `wide` / `utf16le`.
    Le,
    /// `utf16be`.
    Be,
    /// `utf16`: a little-endian byte order mark, then little-endian.
    LeBom,
}

/// Encodes the value as UTF-16.
pub(crate) fn utf16(
    literal: &Literal,
    form: Utf16,
    modifier: &str,
) -> Result<Literal, CompileError> {
    let Literal::Text(pieces) = literal else {
        return Err(CompileError::invalid(modifier, "the value is already encoded"));
    };
    let text = plain_text(pieces, modifier)?;
    let mut bytes = Vec::with_capacity(text.len() * 2 + 2);
    if matches!(form, Utf16::LeBom) {
        bytes.extend_from_slice(&[0xFF, 0xFE]);
    }
    for unit in text.encode_utf16() {
        match form {
            Utf16::Be => bytes.extend_from_slice(&unit.to_be_bytes()),
            Utf16::Le | Utf16::LeBom => bytes.extend_from_slice(&unit.to_le_bytes()),
        }
    }
    Ok(Literal::Bytes(bytes))
}

/// `base64`: the standard encoding of the value's bytes.
pub(crate) fn base64(literal: &Literal) -> Result<Literal, CompileError> {
    let bytes = literal.bytes("base64")?;
    Ok(Literal::Text(vec![Piece::Text(STANDARD.encode(bytes))]))
}

/// `base64offset`: the three encodings of the value at byte offsets 0, 1 and 2 of a longer
/// string, trimmed of the characters that depend on the unknown neighbours.
pub(crate) fn base64offset(literal: &Literal) -> Result<Vec<Literal>, CompileError> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    let bytes = literal.bytes("base64offset")?;
    let mut out = Vec::with_capacity(3);
    for shift in 0..3 {
        let mut shifted = vec![b' '; shift];
        shifted.extend_from_slice(&bytes);
        let encoded = STANDARD.encode(&shifted);
        let end = encoded.len().saturating_sub(END_TRIM[(bytes.len() + shift) % 3]);
        let text = encoded.get(START[shift]..end).unwrap_or_default().to_string();
        out.push(Literal::Text(vec![Piece::Text(text)]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Literal {
        Literal::Text(vec![Piece::Text(s.into())])
    }

    fn texts(literals: Vec<Literal>) -> Vec<String> {
        literals
            .into_iter()
            .map(|l| match l.into_pieces().as_slice() {
                [Piece::Text(t)] => t.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn base64offset_matches_pysigma() {
        // pySigma: b64(' ' * i + value)[(0, 2, 3)[i] : (None, -3, -2)[(len + i) % 3]]
        let got = texts(base64offset(&text("ping")).unwrap_or_default());
        assert_eq!(got, ["cGluZ", "Bpbm", "waW5n"]);
        // Each variant appears in the encoding of the value behind 0, 1 and 2 other bytes.
        for (shift, variant) in got.iter().enumerate() {
            let encoded = STANDARD.encode(format!("{}ping and more", "x".repeat(shift)));
            assert!(encoded.contains(variant.as_str()), "{variant} not in {encoded}");
        }
        let got = texts(base64offset(&text("/c whoami")).unwrap_or_default());
        assert_eq!(got, ["L2Mgd2hvYW1p", "9jIHdob2Fta", "vYyB3aG9hbW"]);
    }

    #[test]
    fn wide_then_base64() {
        let wide = utf16(&text("ab"), Utf16::Le, "wide").unwrap_or(Literal::Bytes(vec![]));
        let encoded = texts(vec![base64(&wide).unwrap_or(text(""))]);
        assert_eq!(encoded, [STANDARD.encode(b"a\0b\0")]);
        let bom = utf16(&text("a"), Utf16::LeBom, "utf16").unwrap_or(Literal::Bytes(vec![]));
        assert!(matches!(bom, Literal::Bytes(ref b) if b == &[0xFF, 0xFE, b'a', 0]));
        let be = utf16(&text("a"), Utf16::Be, "utf16be").unwrap_or(Literal::Bytes(vec![]));
        assert!(matches!(be, Literal::Bytes(ref b) if b == &[0, b'a']));
    }

    #[test]
    fn windash_expands_option_dashes_only() {
        let got = texts(windash(text("-enc x-y /c")).unwrap_or_default());
        assert_eq!(got.len(), 25);
        assert!(got.contains(&"/enc x-y -c".to_string()));
        assert!(got.contains(&"\u{2015}enc x-y \u{2014}c".to_string()));
        assert!(got.iter().all(|v| v.contains("x-y")), "a dash inside a word is kept");
        assert_eq!(texts(windash(text("a - b")).unwrap_or_default()), ["a - b"]);
    }

    #[test]
    fn encodings_refuse_wildcards() {
        let wild = Literal::Text(vec![Piece::Text("a".into()), Piece::Any]);
        assert!(base64(&wild).is_err());
        assert!(base64offset(&wild).is_err());
    }
}
