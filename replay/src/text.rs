//! Trace-controlled text on a terminal: the one escaping function.
//!
//! A trace comes from another machine, so every string in it (a package
//! path, an env key, an argv element, a path, a tool's name) may carry ESC
//! sequences, a newline that forges a report line, C1 controls or
//! bidirectional overrides that reorder what a terminal shows. Every text
//! report (`gob trace show|diff`, `gob replay`, `gob audit`, refusal
//! messages) prints such strings through [`Esc`]; JSON output needs no
//! escaping (serde escapes controls) but bidi overrides are still [`Esc`]aped
//! into `\u{…}` there by [`escape`] where a field is meant for a terminal.

use std::fmt;

/// Displays a string from a trace safely: as is when it is plain (no
/// control, whitespace, quote, backslash or bidi character, not empty),
/// else quoted with Rust's `escape_default` (`"a\nb"`, `"\u{1b}[31m"`), so
/// it stays one visible token on one line. Width and alignment apply
/// (`{:<40}`).
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_plain(self.0) {
            f.pad(self.0)
        } else {
            f.pad(&format!("\"{}\"", self.0.escape_default()))
        }
    }
}

/// Displays free text that embeds trace-controlled data (a tool's output,
/// a message naming paths) on one line: spaces and tabs stay, every other
/// control, bidi or invisible character is written `\u{…}`, so it cannot
/// move the cursor, recolor, start a line or reorder the text. The same
/// character classes as [`Esc`].
pub struct EscLine<'a>(pub &'a str);

impl fmt::Display for EscLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if (c.is_control() && c != '\t') || is_invisible(c) {
                write!(f, "{}", c.escape_unicode())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// [`Esc`] as a `String`.
pub fn escape(s: &str) -> String {
    Esc(s).to_string()
}

/// Whether `s` prints as itself: not empty, and no character a terminal
/// could act on or that would blur where the token ends.
pub fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            !c.is_control() && !c.is_whitespace() && c != '"' && c != '\\' && !is_invisible(c)
        })
}

/// Bidirectional controls (they reorder what a terminal shows) and other
/// invisible format characters (zero-width, the BOM).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}'
        | '\u{061c}'
        | '\u{feff}')
}

/// Serialized JSON made safe for a terminal: every control character
/// (DEL and C1 included, which JSON allows raw) and every bidi or invisible
/// format character becomes a `\uXXXX` escape. Such characters can only
/// stand inside JSON strings, where the escape means the same character, so
/// the result parses to the same value.
pub fn terminal_safe_json(json: &str) -> String {
    if json.chars().all(|c| !c.is_control() && !is_invisible(c)) {
        return json.to_owned();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c.is_control() || is_invisible(c) {
            // All of them are in the Basic Multilingual Plane.
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_strings_stay_one_token() {
        assert_eq!(escape("fmt"), "fmt");
        assert_eq!(escape("example.com/x@v1.2.3/ü"), "example.com/x@v1.2.3/ü");
        assert_eq!(escape(""), "\"\"");
        assert_eq!(escape("a\nb001 compile"), "\"a\\nb001 compile\"");
        assert_eq!(escape("\x1b[2J"), "\"\\u{1b}[2J\"");
        assert_eq!(escape("\u{9b}31m"), "\"\\u{9b}31m\"");
        for bidi in ['\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200f}'] {
            let s = format!("ab{bidi}c");
            let e = escape(&s);
            assert!(!e.contains(bidi), "{e}");
            assert!(e.starts_with('"'), "{e}");
        }
    }

    #[test]
    fn free_text_keeps_its_spaces_only() {
        assert_eq!(EscLine("x.go:1: a b\tc").to_string(), "x.go:1: a b\tc");
        assert_eq!(
            EscLine("a\nb\x1b[1m\u{202e}").to_string(),
            "a\\u{a}b\\u{1b}[1m\\u{202e}"
        );
    }

    #[test]
    fn json_keeps_its_value_without_raw_controls() {
        let j = "{\"a\":\"x\u{202e}y\u{9b}z\u{7f}\"}";
        let safe = terminal_safe_json(j);
        assert_eq!(safe, "{\"a\":\"x\\u202ey\\u009bz\\u007f\"}");
    }
}
