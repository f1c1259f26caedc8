//! The one rule for text input (API.md, "Details that clients rely on"): every string is
//! trimmed and normalised to Unicode NFC (UAX #15, the `unicode-normalization` crate) before it
//! is validated, stored or compared; one-line fields refuse control characters, line and
//! paragraph separators and bidirectional controls; names lose zero-width characters.

use unicode_normalization::UnicodeNormalization;

/// The kinds of text field, which differ in the characters they accept (API.md, "Details that
/// clients rely on").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// A one-line field (titles, names, acronyms, rooms, authorities ...): no character for
    /// which [`breaks_line`] holds.
    One,
    /// A one-line name that must not hide characters: as [`Lines::One`], and the zero-width
    /// characters of [`is_zero_width`] are removed.
    Name,
    /// A multi-line field (`theme`, notes): line feeds (U+000A) allowed, every other
    /// character for which [`breaks_line`] holds refused.
    Many,
}

/// True for a character that no one-line field may hold: a control character (C0 incl. line
/// feed, carriage return and tab, DEL, C1), the line and paragraph separators U+2028 and
/// U+2029, and the bidirectional embeddings, overrides and isolates U+202A..U+202E and
/// U+2066..U+2069 (which reorder what surrounds them: "Trojan Source", CVE-2021-42574).
pub fn breaks_line(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// True for the invisible zero-width characters removed from names: ZERO WIDTH SPACE,
/// NON-JOINER and JOINER (U+200B..U+200D), WORD JOINER (U+2060) and the byte-order mark /
/// ZERO WIDTH NO-BREAK SPACE (U+FEFF).
pub fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Trims `s` and normalises it to Unicode NFC (the form every stored and compared text has).
pub fn nfc(s: &str) -> String {
    s.trim().nfc().collect()
}

/// The one rule for text input: trims, normalises to NFC, removes zero-width characters from
/// a [`Lines::Name`], then refuses the characters that `lines` does not allow. The error is
/// the message for the field.
pub fn clean(s: &str, lines: Lines) -> Result<String, String> {
    let mut t = nfc(s);
    if lines == Lines::Name && t.chars().any(is_zero_width) {
        t = nfc(&t.chars().filter(|c| !is_zero_width(*c)).collect::<String>());
    }
    match lines {
        Lines::One | Lines::Name if t.chars().any(breaks_line) => Err(
            "must be one line: no control characters (line feed, tab ...), line or paragraph \
             separators, or bidirectional controls"
                .to_string(),
        ),
        Lines::Many if t.chars().any(|c| c != '\n' && breaks_line(c)) => Err(
            "must not contain control characters other than line feed, line or paragraph \
             separators, or bidirectional controls"
                .to_string(),
        ),
        _ => Ok(t),
    }
}
