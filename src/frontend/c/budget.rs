//! Bounded parsing. tree-sitter's error recovery is superlinear on input
//! that is not C (random bytes, long token soups without `;`): 64 KB of it
//! can take seconds, a few MB hours. Its own progress callback counts
//! parser operations, which stay linear in the input while the cost per
//! operation explodes, and wall-clock time would make the output depend
//! on the machine. What does track the cost is the number of allocations
//! tree-sitter makes (measured: at most ~1.2 per byte of input on every
//! `.c`/`.h` file of mm/, fs/, kernel/, arch/x86 and drivers/gpu of Linux
//! 6.12, 55-80 per byte on the slow inputs). So tree-sitter's allocator
//! is wrapped to count allocations per thread, and a parse is cancelled
//! once it has allocated more than [`FULL_BASE`] plus [`PER_BYTE`] per byte
//! it has reached: deterministic, machine-independent, and never hit by
//! real code.
//!
//! A cancelled file is parsed again in chunks of about [`CHUNK`] bytes
//! (cut at lines, preferably after a column-0 `}` that ends a kernel-style
//! function), each with its own budget; a chunk that also runs out yields
//! nothing. Functions cut by a chunk boundary come out with opaque
//! regions.

use std::cell::Cell;
use std::ffi::c_void;
use std::ops::ControlFlow;
use std::sync::Once;
use tree_sitter::{ParseOptions, Parser, Point, Range, Tree};

/// Allocations allowed for a whole-file parse before any input is read.
pub const FULL_BASE: u64 = 100_000;
/// Allocations allowed for a chunk parse before any input is read.
pub const CHUNK_BASE: u64 = 20_000;
/// Allocations allowed per byte of input the parser has reached.
pub const PER_BYTE: u64 = 2;
/// Target size of a chunk when a file is parsed in chunks.
pub const CHUNK: usize = 64 * 1024;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn allocs() -> u64 {
    ALLOCS.try_with(Cell::get).unwrap_or(0)
}

fn count() {
    let _ = ALLOCS.try_with(|a| a.set(a.get().wrapping_add(1)));
}

use libmimalloc_sys::{mi_free, mi_malloc, mi_realloc, mi_zalloc};

// mimalloc (as the program's own allocator), abort when out of memory as
// tree-sitter's default does, plus a per-thread count.
unsafe extern "C" fn ts_malloc(size: usize) -> *mut c_void {
    count();
    let p = unsafe { mi_malloc(size) };
    if p.is_null() && size > 0 {
        std::process::abort();
    }
    p
}

unsafe extern "C" fn ts_calloc(n: usize, size: usize) -> *mut c_void {
    count();
    let Some(bytes) = n.checked_mul(size) else {
        std::process::abort();
    };
    let p = unsafe { mi_zalloc(bytes) };
    if p.is_null() && bytes > 0 {
        std::process::abort();
    }
    p
}

unsafe extern "C" fn ts_realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    count();
    let p = unsafe { mi_realloc(ptr, size) };
    if p.is_null() && size > 0 {
        std::process::abort();
    }
    p
}

unsafe extern "C" fn ts_free(ptr: *mut c_void) {
    unsafe { mi_free(ptr) }
}

/// Install the counting allocator, once, before the first parser exists.
fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // SAFETY: called once, before this process creates any tree-sitter
        // object (every parser is made after this), so every pointer
        // tree-sitter frees was allocated by these functions; the binding
        // frees what tree-sitter returns through the same table.
        unsafe {
            tree_sitter::set_allocator(Some(tree_sitter::Allocator {
                malloc: ts_malloc,
                calloc: ts_calloc,
                realloc: ts_realloc,
                free: ts_free,
            }))
        };
    });
}

fn new_parser() -> Option<Parser> {
    install();
    let mut parser = Parser::new();
    parser.set_language(&tree_sitter_c::LANGUAGE.into()).ok()?;
    Some(parser)
}

/// Parse `text` (or only `range` of it, starting at `start_row`) within
/// `base` allocations plus [`PER_BYTE`] per byte reached; `None` when the
/// budget ran out. Every parse gets a fresh parser: a parser keeps pools
/// of freed nodes and grown arrays from one parse to the next, which
/// would make the count (and so the output) depend on which files the
/// thread parsed before.
fn parse_within(
    text: &[u8],
    range: Option<(std::ops::Range<usize>, usize)>,
    base: u64,
) -> Option<Tree> {
    let mut parser = new_parser()?;
    let mut from = 0;
    if let Some((r, start_row)) = &range {
        from = r.start;
        let end_row = start_row + text[r.clone()].iter().filter(|&&c| c == b'\n').count();
        let ranges = [Range {
            start_byte: r.start,
            end_byte: r.end,
            start_point: Point::new(*start_row, column(text, r.start)),
            end_point: Point::new(end_row, column(text, r.end)),
        }];
        parser.set_included_ranges(&ranges).ok()?;
    }
    let start = allocs();
    let mut progress = |s: &tree_sitter::ParseState| {
        let reached = s.current_byte_offset().saturating_sub(from) as u64;
        let used = allocs().wrapping_sub(start);
        if used > base.saturating_add(PER_BYTE.saturating_mul(reached)) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let opts = ParseOptions::new().progress_callback(&mut progress);
    let len = text.len();
    parser.parse_with_options(&mut |i, _| &text[i.min(len)..], None, Some(opts))
}

/// Byte column of `offset` (chunks start and end at line starts, so this
/// is short).
fn column(text: &[u8], offset: usize) -> usize {
    offset
        - text[..offset]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1)
}

/// Chunk boundaries for a chunked parse: cut at a line end once a chunk
/// has [`CHUNK`] bytes, at the last line starting with `}` in it if any.
pub fn chunks(text: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut last_close = None;
    let mut i = 0;
    while i < text.len() {
        let end = text[i..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(text.len(), |p| i + p + 1);
        if text[i] == b'}' {
            last_close = Some(end);
        }
        if end - start >= CHUNK {
            let cut = last_close.filter(|&c| c > start).unwrap_or(end);
            out.push(start..cut);
            start = cut;
            last_close = None;
        }
        i = end;
    }
    if start < text.len() || out.is_empty() {
        out.push(start..text.len());
    }
    out
}

/// Pieces for a split parse: cut after every line that starts with `}`
/// (the end of a kernel-style function or initializer), so that a syntax
/// error tree-sitter cannot recover from stays inside its piece.
pub fn top_level_pieces(text: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        let end = text[i..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(text.len(), |p| i + p + 1);
        if text[i] == b'}' {
            out.push(start..end);
            start = end;
        }
        i = end;
    }
    if start < text.len() || out.is_empty() {
        out.push(start..text.len());
    }
    out
}

/// Parse each of `pieces` (in order, covering `text`) on its own, within
/// [`CHUNK_BASE`] plus [`PER_BYTE`] per byte; pieces that run out yield
/// nothing.
pub fn parse_pieces(text: &[u8], pieces: Vec<std::ops::Range<usize>>) -> Vec<Tree> {
    let mut row = 0;
    let mut out = Vec::new();
    for r in pieces {
        let lines = text[r.clone()].iter().filter(|&&c| c == b'\n').count();
        out.extend(parse_within(text, Some((r, row)), CHUNK_BASE));
        row += lines;
    }
    out
}

/// Parse `text` within the budget: one tree for the whole text, or (when
/// that runs out) one per chunk that fits its own budget. Deterministic.
pub fn parse_bounded(text: &[u8]) -> Vec<Tree> {
    if let Some(t) = parse_within(text, None, FULL_BASE) {
        return vec![t];
    }
    parse_pieces(text, chunks(text))
}
