//! URL canonicalisation: one document per canonical URL.
//!
//! Removes tracking parameters (`utm_*`, `fbclid`, `gclid`, …), the fragment, default
//! ports and a trailing `index.html`; lower-cases scheme and host (the `url` crate does);
//! sorts the remaining query parameters. Path case and trailing slashes are kept
//! (servers differ on them); pages that are the same under several spellings are
//! unified through their `rel=canonical`.

use url::Url;

const TRACKING_PARAMS: &[&str] = &[
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl",
    "zarsrc", "gidzl", "ref_src", "cmpid", "spm",
];

fn is_tracking(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("utm_") || TRACKING_PARAMS.contains(&key.as_str())
}

/// Returns the canonical string form of `url`.
pub fn canonicalize(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    // The `url` crate already drops a default port (`:443` on https); others are kept.
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !is_tracking(key))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if pairs.is_empty() {
        url.set_query(None);
    } else {
        let mut pairs = pairs;
        pairs.sort();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let path = url.path().to_string();
    for suffix in ["/index.html", "/index.htm", "/index.php"] {
        if let Some(stripped) = path.strip_suffix(suffix) {
            url.set_path(&format!("{stripped}/"));
            break;
        }
    }
    url.to_string()
}

/// Canonicalises a URL given as text; `None` when it does not parse.
pub fn canonicalize_str(text: &str) -> Option<String> {
    Url::parse(text.trim()).ok().map(|u| canonicalize(&u))
}

/// The host and port as a politeness key (`example.vn:443`).
pub fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        canonicalize_str(text).unwrap_or_default()
    }

    #[test]
    fn strips_tracking_fragment_and_default_port() {
        assert_eq!(
            canon("HTTPS://Example.VN:443/a/b.html?utm_source=fb&id=3&fbclid=x#top"),
            "https://example.vn/a/b.html?id=3"
        );
        assert_eq!(canon("http://example.vn:80/"), "http://example.vn/");
        assert_eq!(canon("http://127.0.0.1:8765/a"), "http://127.0.0.1:8765/a");
        assert_eq!(
            canon("http://example.vn:8765/x/index.html"),
            "http://example.vn:8765/x/"
        );
    }

    #[test]
    fn sorts_query_and_keeps_path_case() {
        assert_eq!(canon("https://a.vn/P?b=2&a=1"), "https://a.vn/P?a=1&b=2");
    }

    #[test]
    fn is_idempotent() {
        for u in ["https://a.vn/x?utm_medium=1", "http://a.vn:8080/y/?z=1#f"] {
            let once = canon(u);
            assert_eq!(canon(&once), once);
        }
    }
}
