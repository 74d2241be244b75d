//! Headline selection and site-name affix stripping.
//!
//! `<title>` and often `og:title` carry the outlet's name as a prefix or
//! suffix (`Headline - Báo X`, `Headline | X`, `X - Headline`,
//! `Headline &#8211; X`). The affix is recognised by comparing each end
//! segment with the site names the page declares (`og:site_name`, JSON-LD
//! publisher / WebSite, `application-name`) and with the host name, in
//! diacritic-free alphanumeric form. Without a declared name the headline is
//! found as the `<title>` segment that is also the text of an element on the
//! page (many templates print it in a `div` rather than an `<h1>`).

use super::content::Analysis;
use super::dom::{F_IGNORED, F_IN_LINK, Tag};
use super::fold::fold_alnum;
use super::meta::Meta;

/// Separators between a headline and a site name, with surrounding spaces.
const SEPARATORS: [&str; 10] = [
    " | ", " - ", " – ", " — ", " :: ", " · ", " • ", " » ", " ~ ", " / ",
];

/// Separators kept at each end of a title by [`pieces`].
const MAX_END_SEPARATORS: usize = 4;

/// Byte ranges of separators in `s`, in order.
fn separators(s: &str) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for sep in SEPARATORS {
        let mut from = 0;
        while let Some(p) = s[from..].find(sep) {
            v.push((from + p, from + p + sep.len()));
            from += p + sep.len();
        }
    }
    v.sort_unstable();
    v
}

/// Keys (folded alphanumeric) that name the site: declared names and host labels.
pub(crate) fn site_keys(site_names: &[String], host: Option<&str>) -> Vec<String> {
    let mut keys: Vec<String> = site_names
        .iter()
        .map(|s| fold_alnum(s))
        .filter(|k| k.chars().count() >= 3)
        .collect();
    if let Some(host) = host
        && host.parse::<std::net::IpAddr>().is_err()
    {
        for label in host.split('.') {
            let l = label.to_ascii_lowercase();
            if l.len() >= 4
                && !matches!(
                    l.as_str(),
                    "www" | "com" | "net" | "org" | "info" | "news" | "blog" | "online" | "html"
                )
            {
                keys.push(l);
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

fn is_site_segment(seg: &str, keys: &[String]) -> bool {
    let k = fold_alnum(seg);
    if k.is_empty() {
        return true;
    }
    keys.iter().any(|key| {
        k == *key
            || (key.len() >= 4 && k.contains(key.as_str()) && k.len() <= key.len() + 20)
            || (k.len() >= 4 && key.contains(k.as_str()))
    })
}

/// Remove a site-name prefix/suffix (`Headline - Site`, `Site | Headline`).
pub(crate) fn strip_site_affix(title: &str, keys: &[String]) -> String {
    let mut t = title.trim().to_string();
    for _ in 0..2 {
        let seps = separators(&t);
        let (Some(&(fs, fe)), Some(&(ls, le))) = (seps.first(), seps.last()) else {
            break;
        };
        let suffix = &t[le..];
        let prefix = &t[..fs];
        if !keys.is_empty() && is_site_segment(suffix, keys) && !t[..ls].trim().is_empty() {
            t = t[..ls].trim().to_string();
        } else if !keys.is_empty() && is_site_segment(prefix, keys) && !t[fe..].trim().is_empty() {
            t = t[fe..].trim().to_string();
        } else {
            break;
        }
    }
    t
}

/// Without known site names: drop a short `| Site` tail (a pipe rarely
/// belongs to a headline).
fn strip_pipe_tail(title: &str) -> String {
    if let Some(p) = title.rfind(" | ") {
        let tail = &title[p + 3..];
        let head = title[..p].trim();
        if tail.split_whitespace().count() <= 5 && head.chars().count() > tail.chars().count() {
            return head.to_string();
        }
    }
    title.to_string()
}

/// Contiguous segment ranges of a title (`A - B - C` → `A - B - C`, `A - B`,
/// `B - C`, `A`, `B`, `C`), longest first.
fn pieces(title: &str) -> Vec<&str> {
    let mut seps = separators(title);
    // Site names sit at the ends: a title with dozens of separators (a tag
    // list, hostile input) gives its first and last few, not O(n²) pieces.
    if seps.len() > 2 * MAX_END_SEPARATORS {
        seps.drain(MAX_END_SEPARATORS..seps.len() - MAX_END_SEPARATORS);
    }
    let mut bounds = vec![(0usize, 0usize)];
    bounds.extend(seps.iter().copied());
    bounds.push((title.len(), title.len()));
    let mut out = Vec::new();
    for a in 0..bounds.len() - 1 {
        for b in a + 1..bounds.len() {
            let start = bounds[a].1;
            let end = bounds[b].0;
            if start < end {
                out.push(title[start..end].trim());
            }
        }
    }
    out.sort_by_key(|p| std::cmp::Reverse(p.len()));
    out.dedup();
    out
}

fn nonws_count(s: &str) -> u32 {
    s.chars().filter(|c| !super::dom::is_ws(*c)).count() as u32
}

/// First element (outermost, not inside a link if possible) whose text equals `text`.
pub(crate) fn find_element(an: &Analysis<'_, '_>, text: &str) -> Option<u32> {
    let want = nonws_count(text);
    if want == 0 {
        return None;
    }
    let key = fold_alnum(text);
    if key.is_empty() {
        return None;
    }
    let dom = an.dom;
    let mut in_link = None;
    let mut i = 0u32;
    let n = dom.nodes.len() as u32;
    while i < n {
        let node = &dom.nodes[i as usize];
        if node.flags & F_IGNORED != 0 || node.tag == Tag::Text {
            i += 1;
            continue;
        }
        if an.tot_chars[i as usize] < want {
            // nothing inside can match
            i = node.end;
            continue;
        }
        if an.tot_chars[i as usize] == want
            && node.el.is_some()
            && !matches!(node.tag, Tag::Html | Tag::Body | Tag::Document)
        {
            if fold_alnum(&dom.text_of(i)) == key {
                if node.flags & F_IN_LINK == 0 && node.tag != Tag::A {
                    return Some(i);
                }
                if in_link.is_none() {
                    in_link = Some(i);
                }
            }
            // Either way the subtree is done: every element inside with the
            // same count holds the same visible text, so the same folded key
            // (and re-reading nested wrappers would cost O(depth × text)).
            i = node.end;
            continue;
        }
        i += 1;
    }
    in_link
}

/// Choose the title and the element showing it (the headline node).
pub(crate) fn choose(
    an: &Analysis<'_, '_>,
    meta: &Meta,
    host: Option<&str>,
) -> (Option<String>, Option<u32>) {
    let dom = an.dom;
    let keys = site_keys(&meta.site_names, host);
    let strip = |s: &String| strip_site_affix(s, &keys);

    // 1. JSON-LD headline (unless cut short: then the <h1> it starts)
    if let Some(ld) = meta
        .ld_headline
        .as_ref()
        .map(strip)
        .filter(|s| !s.is_empty())
    {
        if let Some(node) = find_element(an, &ld) {
            return (Some(ld), Some(node));
        }
        let node = h1_like(an, &ld);
        if let Some(h) = node {
            let full = dom.text_of(h);
            let cut = ld.trim_end_matches(['.', '…', ' ']);
            if fold_alnum(&full).starts_with(&fold_alnum(cut))
                && full.chars().count() > cut.chars().count() + 3
            {
                return (Some(strip(&full)), node);
            }
        }
        return (Some(ld), node);
    }

    // 2. an <h1> consistent with <title> / og:title
    let refs: Vec<String> = [&meta.og_title, &meta.twitter_title, &meta.title_tag]
        .iter()
        .filter_map(|x| x.as_ref())
        .map(|s| fold_alnum(s))
        .filter(|s| !s.is_empty())
        .collect();
    let mut h1s = Vec::new();
    for (i, node) in dom.nodes.iter().enumerate() {
        if node.tag == Tag::H1 && node.flags & F_IGNORED == 0 {
            let t = dom.text_of(i as u32);
            if !t.is_empty() {
                h1s.push((i as u32, t));
            }
            if h1s.len() >= 8 {
                break;
            }
        }
    }
    // an <h1> that is only the outlet's name (a logo) matches the end
    // segment of <title> that is shorter than the rest
    let title_ends: Vec<(String, usize)> = [&meta.title_tag, &meta.og_title]
        .into_iter()
        .flatten()
        .flat_map(|t| {
            let seps = separators(t);
            let mut v = Vec::new();
            if let (Some(&(fs, fe)), Some(&(ls, le))) = (seps.first(), seps.last()) {
                v.push((fold_alnum(&t[..fs]), fold_alnum(&t[fe..]).len()));
                v.push((fold_alnum(&t[le..]), fold_alnum(&t[..ls]).len()));
            }
            v
        })
        .collect();
    let usable = |i: u32, t: &str| {
        let k = fold_alnum(t);
        k.chars().count() >= 4
            && !keys.contains(&k)
            && dom.nodes[i as usize].flags & F_IN_LINK == 0
            && !title_ends
                .iter()
                .any(|(seg, rest)| *seg == k && k.len() < *rest)
    };
    for (i, t) in &h1s {
        if usable(*i, t) && (refs.is_empty() || refs.iter().any(|r| r.contains(&fold_alnum(t)))) {
            return (Some(strip(t)), Some(*i));
        }
    }

    // 3. a <title>/og:title segment printed as an element on the page
    for src in [&meta.title_tag, &meta.og_title].into_iter().flatten() {
        for piece in pieces(src) {
            if fold_alnum(piece).chars().count() < 8 || is_site_segment(piece, &keys) {
                continue;
            }
            if let Some(node) = find_element(an, piece) {
                return (Some(piece.to_string()), Some(node));
            }
        }
    }

    for (i, t) in &h1s {
        if usable(*i, t) && t.split_whitespace().count() >= 3 {
            return (Some(strip(t)), Some(*i));
        }
    }

    // 4. metadata with the affix stripped
    for src in [&meta.og_title, &meta.twitter_title, &meta.title_tag]
        .into_iter()
        .flatten()
    {
        let mut t = strip(src);
        if keys.is_empty() || t == src.trim() {
            t = strip_pipe_tail(&t);
        }
        if !t.is_empty() {
            let node = find_element(an, &t);
            return (Some(t), node);
        }
    }
    match h1s.first() {
        Some((i, t)) => (Some(t.clone()), Some(*i)),
        None => (None, None),
    }
}

/// An <h1> whose text contains or is contained in `title` (loose match).
fn h1_like(an: &Analysis<'_, '_>, title: &str) -> Option<u32> {
    let key = fold_alnum(title);
    if key.is_empty() {
        return None;
    }
    // (bounded: headlines are short, and a page has a handful of <h1>s;
    // nested <h1>s holding a whole page would cost O(count × page))
    let h1s = an.dom.nodes.iter().enumerate().filter(|(i, node)| {
        node.tag == Tag::H1 && node.flags & F_IGNORED == 0 && an.tot_chars[*i] <= 2000
    });
    for (i, _) in h1s.take(64) {
        let k = fold_alnum(&an.dom.text_of(i as u32));
        if !k.is_empty() && (k.contains(&key) || key.contains(&k)) {
            return Some(i as u32);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(names: &[&str]) -> Vec<String> {
        site_keys(
            &names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            None,
        )
    }

    #[test]
    fn strips_suffixes_and_prefixes() {
        let k = keys(&["Báo Biển Xanh"]);
        assert_eq!(
            strip_site_affix(
                "Sóng 5G đã phủ khu vực trung tâm thành phố Phan Rang – Tháp Chàm - Báo Biển Xanh",
                &k
            ),
            "Sóng 5G đã phủ khu vực trung tâm thành phố Phan Rang – Tháp Chàm"
        );
        let k = keys(&["Nắng Gió Online"]);
        assert_eq!(
            strip_site_affix("Học sinh lớp 12 tăng tốc ôn thi – Nắng Gió Online", &k),
            "Học sinh lớp 12 tăng tốc ôn thi"
        );
        let k = keys(&["Thời báo Cát Trắng"]);
        assert_eq!(
            strip_site_affix("Thời báo Cát Trắng - Số ca mắc sốt xuất huyết tăng sớm", &k),
            "Số ca mắc sốt xuất huyết tăng sớm"
        );
        let k = keys(&["Báo điện tử Đất Nắng"]);
        assert_eq!(
            strip_site_affix("Tin mới | Báo điện tử Đất Nắng", &k),
            "Tin mới"
        );
        // a dash inside the headline stays
        let k = keys(&["Báo Biển Xanh"]);
        assert_eq!(
            strip_site_affix("Phan Rang – Tháp Chàm đón khách", &k),
            "Phan Rang – Tháp Chàm đón khách"
        );
        assert_eq!(strip_site_affix("Tin mới", &k), "Tin mới");
    }

    #[test]
    fn host_name_is_a_site_key() {
        let k = site_keys(&[], Some("www.vnexpress.net"));
        assert_eq!(
            strip_site_affix("Giá vàng tăng mạnh - VnExpress", &k),
            "Giá vàng tăng mạnh"
        );
        let k = site_keys(&[], Some("127.0.0.1"));
        assert!(k.is_empty());
    }

    #[test]
    fn pipe_tail_without_site_name() {
        assert_eq!(
            strip_pipe_tail("Some headline here | Example"),
            "Some headline here"
        );
        assert_eq!(
            strip_pipe_tail("A | much longer tail than the head"),
            "A | much longer tail than the head"
        );
    }

    #[test]
    fn pieces_longest_first() {
        let p = pieces("A - Bb | Ccc");
        assert_eq!(p[0], "A - Bb | Ccc");
        assert!(p.contains(&"Ccc") && p.contains(&"A - Bb") && p.contains(&"Bb | Ccc"));
    }
}
