//! Source text, byte spans and line/column conversion.

use std::sync::Arc;

/// A byte range `[start, end)` into one file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One input file. Text is decoded lossily (invalid UTF-8 becomes U+FFFD);
/// spans are byte offsets into `text`.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as it is displayed and written to JSON: as given on the
    /// command line, joined with the relative path inside a given directory.
    pub path: Arc<str>,
    pub text: Arc<str>,
    line_starts: Arc<[u32]>,
}

impl SourceFile {
    pub fn new(path: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let mut starts = vec![0u32];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i as u32 + 1),
        );
        SourceFile {
            path: path.into(),
            text,
            line_starts: starts.into(),
        }
    }

    pub fn from_bytes(path: impl Into<Arc<str>>, bytes: &[u8]) -> Self {
        Self::new(path, String::from_utf8_lossy(bytes).into_owned())
    }

    pub fn line_starts(&self) -> &[u32] {
        &self.line_starts
    }

    /// 1-based line and 1-based column in characters of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = offset.min(self.text.len() as u32);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let mut end = offset as usize;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = self.text[start..end].chars().count() + 1;
        (line + 1, col)
    }

    /// The text of a span (clamped to the file and to char boundaries).
    pub fn snippet(&self, span: Span) -> &str {
        let mut s = (span.start as usize).min(self.text.len());
        let mut e = (span.end as usize).clamp(s, self.text.len());
        while !self.text.is_char_boundary(s) {
            s -= 1;
        }
        while !self.text.is_char_boundary(e) {
            e += 1;
        }
        &self.text[s..e]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new("a.c", "ab\nçd x\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'ç' is two bytes; 'x' is the 4th character of line 2.
        assert_eq!(f.line_col(7), (2, 4));
    }
}
