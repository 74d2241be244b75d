//! Language of the extracted text (ISO 639-1).
//!
//! `whatlang` on a bounded sample of the text; Vietnamese typed without
//! diacritics (which `whatlang` cannot recognise) is caught by the share of
//! words that are well-formed Vietnamese syllables.

/// Characters of text given to the detector.
const SAMPLE_CHARS: usize = 250;

/// Languages the detector chooses among (fewer profiles, faster, and
/// fewer exotic confusions on short samples). Scripts other than Latin
/// settle most of these anyway.
static DETECTOR: std::sync::LazyLock<whatlang::Detector> = std::sync::LazyLock::new(|| {
    use whatlang::Lang::*;
    whatlang::Detector::with_allowlist(vec![
        Eng, Vie, Fra, Deu, Spa, Por, Ita, Nld, Ind, Pol, Tur, Swe, Dan, Nob, Fin, Ces, Ron, Hun,
        Slk, Hrv, Cat, Tgl, Rus, Ukr, Bul, Srp, Cmn, Jpn, Kor, Tha, Ara, Pes, Heb, Hin, Khm, Ell,
    ])
});

/// Share of words needed to call a diacritic-free text Vietnamese.
const VI_SYLLABLE_THRESHOLD: f32 = 0.8;

fn iso639_1(lang: whatlang::Lang) -> &'static str {
    use whatlang::Lang::*;
    match lang {
        Epo => "eo",
        Eng => "en",
        Rus => "ru",
        Cmn => "zh",
        Spa => "es",
        Por => "pt",
        Ita => "it",
        Ben => "bn",
        Fra => "fr",
        Deu => "de",
        Ukr => "uk",
        Kat => "ka",
        Ara => "ar",
        Hin => "hi",
        Jpn => "ja",
        Heb => "he",
        Yid => "yi",
        Pol => "pl",
        Amh => "am",
        Jav => "jv",
        Kor => "ko",
        Nob => "nb",
        Dan => "da",
        Swe => "sv",
        Fin => "fi",
        Tur => "tr",
        Nld => "nl",
        Hun => "hu",
        Ces => "cs",
        Ell => "el",
        Bul => "bg",
        Bel => "be",
        Mar => "mr",
        Kan => "kn",
        Ron => "ro",
        Slv => "sl",
        Hrv => "hr",
        Srp => "sr",
        Mkd => "mk",
        Lit => "lt",
        Lav => "lv",
        Est => "et",
        Tam => "ta",
        Vie => "vi",
        Urd => "ur",
        Tha => "th",
        Guj => "gu",
        Uzb => "uz",
        Pan => "pa",
        Aze => "az",
        Ind => "id",
        Tel => "te",
        Pes => "fa",
        Mal => "ml",
        Ori => "or",
        Mya => "my",
        Nep => "ne",
        Sin => "si",
        Khm => "km",
        Tuk => "tk",
        Aka => "ak",
        Zul => "zu",
        Sna => "sn",
        Afr => "af",
        Lat => "la",
        Slk => "sk",
        Cat => "ca",
        Tgl => "tl",
        Hye => "hy",
        Cym => "cy",
    }
}

/// Share of words that are Vietnamese syllables (diacritics ignored); see
/// [`diembao_core::lang::vietnamese_syllable_ratio`].
pub(crate) fn vietnamese_syllable_ratio(text: &str) -> f32 {
    diembao_core::lang::vietnamese_syllable_ratio(text)
}

fn sample(text: &str) -> &str {
    match text.char_indices().nth(SAMPLE_CHARS) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// Text written with Vietnamese letters (ă đ ơ ư, tone-marked vowels) in
/// a share no other Latin-script language reaches.
pub(crate) fn has_vietnamese_letters(s: &str) -> bool {
    let (mut letters, mut vi) = (0u32, 0u32);
    for c in s.chars() {
        if c.is_alphabetic() {
            letters += 1;
            if matches!(
                c,
                'ă' | 'Ă' | 'đ' | 'Đ' | 'ơ' | 'Ơ' | 'ư' | 'Ư' | '\u{1EA0}'..='\u{1EF9}'
            ) {
                vi += 1;
            }
        } else if matches!(
            c,
            '\u{0300}'
                | '\u{0301}'
                | '\u{0303}'
                | '\u{0309}'
                | '\u{0323}'
                | '\u{031B}'
                | '\u{0306}'
        ) {
            // decomposed (NFD, windows-1258) tone and vowel marks
            vi += 1;
        }
    }
    letters >= 20 && vi * 25 >= letters
}

/// Detect the language of `text` (falls back to the title, then to `<html lang>`).
pub(crate) fn detect(text: &str, title: Option<&str>, html_lang: Option<&str>) -> Option<String> {
    let mut s = sample(text).to_string();
    if s.chars().count() < 60
        && let Some(t) = title
    {
        s.push_str(". ");
        s.push_str(t);
    }
    let declared = html_lang
        .map(|l| {
            l.trim()
                .split(['-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
        })
        .filter(|l| l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase()));
    if s.trim().is_empty() {
        return declared;
    }
    // Letters only Vietnamese uses (ă đ ơ ư and the tone-marked block)
    // settle it without the detector.
    if has_vietnamese_letters(&s) {
        return Some("vi".into());
    }
    let info = DETECTOR.detect(&s);
    if let Some(info) = &info
        && info.lang() == whatlang::Lang::Vie
    {
        return Some("vi".into());
    }
    // A confident English (or other non-Latin) answer needs no syllable check.
    let confident_en = info
        .as_ref()
        .is_some_and(|i| i.lang() == whatlang::Lang::Eng && i.is_reliable());
    let latin = info
        .as_ref()
        .is_none_or(|i| i.script() == whatlang::Script::Latin);
    if latin
        && !confident_en
        && s.split_whitespace().count() >= 5
        && vietnamese_syllable_ratio(&s) >= VI_SYLLABLE_THRESHOLD
    {
        return Some("vi".into());
    }
    match info {
        Some(i) if i.is_reliable() || declared.is_none() => Some(iso639_1(i.lang()).to_string()),
        Some(i) => {
            let code = iso639_1(i.lang());
            // unsure detection on a short text: trust the page's own declaration
            if declared.as_deref() == Some(code) || s.chars().count() >= SAMPLE_CHARS {
                Some(code.to_string())
            } else {
                declared
            }
        }
        None => declared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_with_and_without_diacritics() {
        let vi = "Những chuyến biển đầu năm thuận lợi đã giúp nhiều chủ tàu ở Cà Ná có nguồn thu khá. Ngư dân vừa khai thác hải sản vừa bảo vệ chủ quyền biển đảo.";
        assert_eq!(detect(vi, None, None).as_deref(), Some("vi"));
        let plain = "Nhung chuyen bien dau nam thuan loi da giup nhieu chu tau o Ca Na co nguon thu kha. Ngu dan vua khai thac hai san vua bao ve chu quyen bien dao.";
        assert!(vietnamese_syllable_ratio(plain) > 0.9);
        assert_eq!(detect(plain, None, None).as_deref(), Some("vi"));
    }

    #[test]
    fn english() {
        let en = "The Steelers spent Monday trying to distance themselves from Thursday night's fight that led to multi-game suspensions for Browns pass rusher Myles Garrett.";
        assert_eq!(detect(en, None, Some("en-US")).as_deref(), Some("en"));
        assert!(vietnamese_syllable_ratio(en) < 0.6);
    }

    #[test]
    fn empty_uses_declared() {
        assert_eq!(detect("", None, Some("vi-VN")).as_deref(), Some("vi"));
        assert_eq!(detect("", None, None), None);
    }
}
