//! Positions as LSP counts them: 0-based line and character, where a
//! character is a UTF-16 code unit unless the client and server agreed on
//! UTF-8 (`general.positionEncodings`). faultlock's spans are byte offsets;
//! this module converts both ways and applies `didChange` edits.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

/// The negotiated position encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    Utf8,
    #[default]
    Utf16,
}

/// Line starts of a text, for offset ↔ position conversion.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The position of byte `offset` (clamped to the text and moved back to
    /// a character boundary).
    pub fn position(&self, offset: usize, enc: Encoding) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let prefix = &self.text[self.starts[line]..offset];
        let character = match enc {
            Encoding::Utf8 => prefix.len(),
            Encoding::Utf16 => prefix.chars().map(char::len_utf16).sum(),
        };
        Position::new(line as u32, character as u32)
    }

    pub fn range(&self, start: usize, end: usize, enc: Encoding) -> Range {
        Range::new(self.position(start, enc), self.position(end, enc))
    }

    /// The byte offset of `pos`. Out-of-range positions are clamped as the
    /// specification asks: a line past the end means the end of the text,
    /// a character past the end of its line means the end of the line. A
    /// position inside a character (half a surrogate pair, a UTF-8
    /// continuation byte) means the start of that character.
    pub fn offset(&self, pos: Position, enc: Encoding) -> usize {
        let line = pos.line as usize;
        if line >= self.starts.len() {
            return self.text.len();
        }
        let start = self.starts[line];
        let end = self
            .starts
            .get(line + 1)
            .map_or(self.text.len(), |&next| next - 1);
        let line_text = &self.text[start..end];
        let want = pos.character as usize;
        let mut units = 0;
        for (i, c) in line_text.char_indices() {
            let width = match enc {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
            if units + width > want {
                return start + i;
            }
            units += width;
        }
        end
    }
}

/// Apply `didChange` content changes in order: a change without a range
/// replaces the whole text, one with a range replaces that range.
pub fn apply_changes(
    text: &mut String,
    changes: Vec<TextDocumentContentChangeEvent>,
    enc: Encoding,
) {
    for change in changes {
        match change.range {
            None => *text = change.text,
            Some(range) => {
                let index = LineIndex::new(text);
                let start = index.offset(range.start, enc);
                let end = index.offset(range.end, enc).max(start);
                text.replace_range(start..end, &change.text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "ab\nçd😀x\n";

    #[test]
    fn positions_count_utf16_units_or_bytes() {
        let ix = LineIndex::new(TEXT);
        // 'x' is after 'ç' (2 bytes, 1 unit), 'd', '😀' (4 bytes, 2 units).
        let x = TEXT.find('x').unwrap();
        assert_eq!(ix.position(x, Encoding::Utf16), Position::new(1, 4));
        assert_eq!(ix.position(x, Encoding::Utf8), Position::new(1, 7));
        assert_eq!(ix.offset(Position::new(1, 4), Encoding::Utf16), x);
        assert_eq!(ix.offset(Position::new(1, 7), Encoding::Utf8), x);
        // Inside the surrogate pair: the start of the emoji.
        let emoji = TEXT.find('😀').unwrap();
        assert_eq!(ix.offset(Position::new(1, 3), Encoding::Utf16), emoji);
        assert_eq!(ix.position(emoji + 1, Encoding::Utf16), Position::new(1, 2));
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let ix = LineIndex::new(TEXT);
        assert_eq!(ix.offset(Position::new(0, 99), Encoding::Utf16), 2);
        assert_eq!(ix.offset(Position::new(9, 0), Encoding::Utf16), TEXT.len());
        assert_eq!(ix.position(999, Encoding::Utf16), Position::new(2, 0));
    }

    #[test]
    fn range_and_full_changes() {
        let mut text = TEXT.to_string();
        let change = |range: Option<Range>, t: &str| TextDocumentContentChangeEvent {
            range,
            range_length: None,
            text: t.into(),
        };
        let r = Range::new(Position::new(1, 2), Position::new(1, 4));
        apply_changes(&mut text, vec![change(Some(r), "é")], Encoding::Utf16);
        assert_eq!(text, "ab\nçdéx\n");
        let r = Range::new(Position::new(0, 0), Position::new(0, 0));
        apply_changes(
            &mut text,
            vec![change(Some(r), "/* ✓ */"), change(None, "new")],
            Encoding::Utf16,
        );
        assert_eq!(text, "new");
        // A reversed range replaces nothing but still inserts.
        let r = Range::new(Position::new(0, 2), Position::new(0, 1));
        apply_changes(&mut text, vec![change(Some(r), "!")], Encoding::Utf16);
        assert_eq!(text, "ne!w");
    }
}
