//! Snippets: the stored (accented, clean) text around the matched words, HTML-escaped,
//! with the matches in `<b>`.
//!
//! Matching follows the search rules word by word ([`QueryTerm::matches`]), so an
//! unaccented query highlights the accented words of the text and an accented query never
//! highlights a different accented word. A phrase (or a query word of several syllables,
//! like `covid-19`) is highlighted only where its words stand in order and adjacent, as
//! one `<b>` span; neighbouring matches separated by spaces merge into one span too
//! (`<b>chuyển đổi số</b>`). Work is proportional to the text of one returned hit.

use crate::analysis::{QueryTerm, Word, words_where};

/// Longest snippet, in characters (without the ellipses).
pub const MAX_CHARS: usize = 240;
/// Context kept before the first match when the text has to be cut.
const LEAD_CHARS: usize = 60;
/// Matches considered when choosing the window.
const MAX_MATCHES: usize = 1000;

/// Something to highlight: a word, or a sequence that must match at adjacent positions.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub terms: Vec<QueryTerm>,
}

/// A matched byte range and the matcher that found it.
#[derive(Debug, Clone, Copy)]
struct Match {
    start: usize,
    end: usize,
    matcher: usize,
}

fn find_matches(text: &str, matchers: &[Matcher]) -> Vec<Match> {
    if matchers.is_empty() || text.is_empty() {
        return Vec::new();
    }
    // Only words with the first letter and length of a query word need analysing.
    let wanted: Vec<(char, usize)> = matchers
        .iter()
        .flat_map(|m| &m.terms)
        .filter_map(|t| Some((t.folded.chars().next()?, t.folded.chars().count())))
        .collect();
    let words: Vec<Word> = words_where(text, |first, len| wanted.contains(&(first, len)));
    let mut out = Vec::new();
    for (i, word) in words.iter().enumerate() {
        for (m, matcher) in matchers.iter().enumerate() {
            let Some(last) = sequence_end(&words, i, &matcher.terms) else {
                continue;
            };
            out.push(Match {
                start: word.start,
                end: words[last].end,
                matcher: m,
            });
        }
        if out.len() >= MAX_MATCHES {
            break;
        }
    }
    out
}

/// Index of the last word of `terms` matched in order at adjacent positions from `first`.
fn sequence_end(words: &[Word], first: usize, terms: &[QueryTerm]) -> Option<usize> {
    if terms.is_empty() {
        return None;
    }
    let start = words.get(first)?;
    for (k, term) in terms.iter().enumerate() {
        let word = words.get(first + k)?;
        if word.position != start.position.saturating_add(k as u32) || !term.matches(word) {
            return None;
        }
    }
    Some(first + terms.len() - 1)
}

/// Sorted, non-overlapping ranges; ranges separated by whitespace only are merged.
fn merge(text: &str, mut matches: Vec<Match>) -> Vec<(usize, usize)> {
    matches.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
    let mut out: Vec<(usize, usize)> = Vec::new();
    for m in matches {
        match out.last_mut() {
            Some((_, end)) if m.start <= *end => *end = (*end).max(m.end),
            Some((_, end)) if text[*end..m.start].chars().all(char::is_whitespace) => {
                *end = m.end;
            }
            _ => out.push((m.start, m.end)),
        }
    }
    out
}

/// The snippet of `text` for `matchers`, or `None` when nothing in it matches.
pub fn highlight(text: &str, matchers: &[Matcher]) -> Option<String> {
    let matches = find_matches(text, matchers);
    if matches.is_empty() {
        return None;
    }
    let (from, to) = window(text, &matches);
    let ranges = merge(text, matches);
    let mut out = String::with_capacity(to - from + 64);
    if from > 0 {
        out.push_str("… ");
    }
    let mut at = from;
    for (start, end) in ranges {
        if end <= from || start >= to {
            continue;
        }
        let (start, end) = (start.max(from), end.min(to));
        out.push_str(&escape_html(&text[at..start]));
        out.push_str("<b>");
        out.push_str(&escape_html(&text[start..end]));
        out.push_str("</b>");
        at = end;
    }
    out.push_str(&escape_html(&text[at..to]));
    if to < text.len() {
        out.push_str(" …");
    }
    Some(out)
}

/// The beginning of `text` (no highlight), cut at a word boundary.
pub fn plain(text: &str) -> String {
    let to = cut_end(text, 0);
    let mut out = escape_html(&text[..to]);
    if to < text.len() {
        out.push_str(" …");
    }
    out
}

/// Byte offset `chars` characters after `from` (or the end).
fn advance(text: &str, from: usize, chars: usize) -> usize {
    text[from..]
        .char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| from + i)
}

/// End of a window starting at `from`: at most [`MAX_CHARS`] characters, not inside a word.
fn cut_end(text: &str, from: usize) -> usize {
    let limit = advance(text, from, MAX_CHARS);
    if limit >= text.len() {
        return text.len();
    }
    match text[from..limit].rfind(char::is_whitespace) {
        Some(i) if i > 0 => from + i,
        _ => limit,
    }
    .max(from)
}

/// The byte window with the most distinct matchers (then the most matches), starting a
/// little before its first match at a word boundary.
fn window(text: &str, matches: &[Match]) -> (usize, usize) {
    if text.chars().count() <= MAX_CHARS {
        return (0, text.len());
    }
    let mut best = (0usize, 0usize, usize::MAX);
    let mut seen = Vec::new();
    for (i, first) in matches.iter().enumerate() {
        let limit = advance(text, first.start, MAX_CHARS - LEAD_CHARS);
        seen.clear();
        let mut count = 0;
        for m in &matches[i..] {
            if m.start >= limit {
                break;
            }
            count += 1;
            if !seen.contains(&m.matcher) {
                seen.push(m.matcher);
            }
        }
        let key = (seen.len(), count);
        if key > (best.0, best.1) {
            best = (key.0, key.1, first.start);
        }
    }
    let first = if best.2 == usize::MAX {
        matches[0].start
    } else {
        best.2
    };
    // Back up to LEAD_CHARS characters of context, to the start of a sentence or a word.
    let lead_start = text[..first]
        .char_indices()
        .rev()
        .nth(LEAD_CHARS - 1)
        .map_or(0, |(i, _)| i);
    let mut from = if lead_start == 0 {
        0
    } else {
        let before = &text[lead_start..first];
        let sentence = before
            .rfind(['.', '!', '?', '\n'])
            .map(|i| lead_start + i + 1);
        match sentence.or_else(|| before.find(char::is_whitespace).map(|i| lead_start + i)) {
            Some(i) => i,
            None => first,
        }
    };
    while from < first && text[from..].starts_with(char::is_whitespace) {
        from += text[from..].chars().next().map_or(1, char::len_utf8);
    }
    (from, cut_end(text, from))
}

pub use diembao_core::html::escape_html;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::query_terms;

    fn matchers(parts: &[&str]) -> Vec<Matcher> {
        parts
            .iter()
            .map(|p| Matcher {
                terms: query_terms(p),
            })
            .collect()
    }

    #[test]
    fn highlights_accented_text_for_any_query_form() {
        let text = "Tỉnh triển khai chuyển đổi số <cấp> xã & \"phường\".";
        for query in [
            &["chuyen", "doi", "so"][..],
            &["chuyển", "đổi", "số"],
            &["CHUYỂN ĐỔI SỐ"],
        ] {
            let html = highlight(text, &matchers(query)).expect("match");
            assert_eq!(
                html,
                "Tỉnh triển khai <b>chuyển đổi số</b> &lt;cấp&gt; xã &amp; &quot;phường&quot;."
            );
        }
    }

    #[test]
    fn accented_query_does_not_highlight_other_words() {
        let text = "Báo đưa tin về cơn bão, bao nhiêu tàu về bờ.";
        let html = highlight(text, &matchers(&["bão"])).expect("match");
        assert_eq!(
            html,
            "Báo đưa tin về cơn <b>bão</b>, <b>bao</b> nhiêu tàu về bờ."
        );
        assert!(highlight("Báo Xuân", &matchers(&["bão"])).is_none());
    }

    #[test]
    fn phrases_highlight_only_adjacent_words_within_a_sentence() {
        let text = "Năng lượng tại Ninh Thuận. Phát triển Thuận Phát.";
        let html = highlight(text, &matchers(&["thuận phát"])).expect("match");
        assert_eq!(
            html,
            "Năng lượng tại Ninh Thuận. Phát triển <b>Thuận Phát</b>."
        );
        let html = highlight("Sở TT&TT tỉnh", &matchers(&["tt&tt"])).expect("match");
        assert_eq!(html, "Sở <b>TT&amp;TT</b> tỉnh");
    }

    #[test]
    fn long_texts_are_cut_around_the_best_window() {
        let filler = "lời mở đầu rất dài ".repeat(40);
        let text = format!("{filler}đoạn có an toàn thông tin ở đây. {filler}");
        let html = highlight(&text, &matchers(&["an toàn thông tin"])).expect("match");
        assert!(html.starts_with("… "), "{html}");
        assert!(html.ends_with(" …"), "{html}");
        assert!(html.contains("<b>an toàn thông tin</b>"), "{html}");
        let visible = html.replace("<b>", "").replace("</b>", "");
        assert!(visible.chars().count() <= MAX_CHARS + 4, "{visible}");
        let start = plain(&text);
        assert!(start.ends_with(" …") && start.chars().count() <= MAX_CHARS + 2);
    }
}
