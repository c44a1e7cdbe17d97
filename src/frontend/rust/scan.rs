//! Token scanning for regions lowered as opaque (unparsable items, closures,
//! macro arguments that are not expressions): which locals they read and
//! which functions they call, so that nothing inside is lost.

use crate::ir::{Place, Proj};
use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::collections::HashSet;

/// Longest `.field` chain kept for a scanned place.
const MAX_CHAIN: usize = 16;

pub fn scan(
    tokens: TokenStream,
    vars: &HashSet<String>,
    places: &mut Vec<Place>,
    calls: &mut Vec<String>,
) {
    // An explicit stack: token trees can nest deeply.
    let mut stack: Vec<Vec<TokenTree>> = vec![tokens.into_iter().collect()];
    while let Some(tts) = stack.pop() {
        for (i, tt) in tts.iter().enumerate() {
            match tt {
                TokenTree::Group(g) => stack.push(g.stream().into_iter().collect()),
                TokenTree::Ident(id) => {
                    let name = id.to_string();
                    let next = tts.get(i + 1);
                    let called = matches!(next, Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis);
                    if called {
                        if !calls.contains(&name) {
                            calls.push(name);
                        }
                        continue;
                    }
                    let after_dot =
                        i > 0 && matches!(&tts[i - 1], TokenTree::Punct(p) if p.as_char() == '.');
                    if after_dot || !vars.contains(&name) {
                        continue;
                    }
                    let deref =
                        i > 0 && matches!(&tts[i - 1], TokenTree::Punct(p) if p.as_char() == '*');
                    let mut place = Place::var(name);
                    if deref {
                        place.proj.push(Proj::Deref);
                    }
                    let mut j = i + 1;
                    while place.proj.len() < MAX_CHAIN {
                        match (tts.get(j), tts.get(j + 1), tts.get(j + 2)) {
                            (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(f)), next)
                                if p.as_char() == '.'
                                    && !matches!(next, Some(TokenTree::Group(_))) =>
                            {
                                place.proj.push(Proj::Field(f.to_string()));
                                j += 2;
                            }
                            _ => break,
                        }
                    }
                    if !places.contains(&place) {
                        places.push(place);
                    }
                }
                _ => {}
            }
        }
    }
}
