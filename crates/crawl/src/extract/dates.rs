//! Dates as Vietnamese (and international) news pages print them.
//!
//! [`parse_vietnamese_date`] understands ISO 8601 / RFC 3339 values from
//! metadata and the visible forms of Vietnamese press pages:
//!
//! * `Thứ hai, 13/3/2023, 08:15 (GMT+7)` · `08:15 ngày 13/03/2023` · `13-3-2023 | 08:15`
//! * `Ngày 13 tháng 3 năm 2023` · `NGÀY 13 THÁNG 3, 2023 | 08:15` · `8h30 13/3/2023`
//! * relative: `2 giờ trước`, `30 phút trước`, `hôm qua`, `hôm nay (lúc 08:15)`,
//!   `3 ngày trước`, and English `2 hours ago`, `yesterday`
//! * English month names: `March 13, 2023 8:15 AM`, `13 Mar 2023 08:15:00 +0700`
//!
//! Numeric dates are read day before month. Without an offset in the text the
//! time is taken as Vietnam time (`+07:00`, Asia/Ho_Chi_Minh has no DST); an
//! offset printed on the page (`GMT+7`, `+07:00`, `Z`) is kept.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

use super::fold::fold;

/// Vietnam's UTC offset in seconds.
pub const VN_OFFSET_SECS: i32 = 7 * 3600;

/// Longest input looked at (characters); dates sit at the start of short lines.
pub(crate) const MAX_CHARS: usize = 300;

/// Earliest year a relative date ("N năm trước") may land in.
const MIN_YEAR: i32 = 1970;

pub(crate) fn vn_offset() -> FixedOffset {
    FixedOffset::east_opt(VN_OFFSET_SECS).expect("+07:00 is a valid offset")
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// value (saturating) and digit count
    Num(u32, u8),
    Word(String),
    Sep(char),
}

fn tokenize(s: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut v: u32 = 0;
            let mut len: u8 = 0;
            while let Some(&d) = chars.peek() {
                if let Some(dv) = d.to_digit(10).filter(|_| d.is_ascii_digit()) {
                    v = v.saturating_mul(10).saturating_add(dv);
                    len = len.saturating_add(1);
                    chars.next();
                } else {
                    break;
                }
            }
            toks.push(Tok::Num(v, len));
        } else if c.is_alphabetic() {
            let mut w = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_alphabetic() {
                    w.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            toks.push(Tok::Word(w));
        } else {
            chars.next();
            if !c.is_whitespace() {
                toks.push(Tok::Sep(c));
            }
        }
    }
    toks
}

fn num(t: Option<&Tok>) -> Option<(u32, u8)> {
    match t {
        Some(Tok::Num(v, l)) => Some((*v, *l)),
        _ => None,
    }
}

fn sep(t: Option<&Tok>) -> Option<char> {
    match t {
        Some(Tok::Sep(c)) => Some(*c),
        _ => None,
    }
}

fn word(t: Option<&Tok>) -> Option<&str> {
    match t {
        Some(Tok::Word(w)) => Some(w.as_str()),
        _ => None,
    }
}

fn month_name(w: &str) -> Option<u32> {
    Some(match w {
        "jan" | "january" | "janvier" | "januar" | "janeiro" | "enero" => 1,
        "feb" | "february" | "fevrier" | "februar" | "fevereiro" | "febrero" => 2,
        "mar" | "march" | "mars" | "marz" | "marco" | "marzo" => 3,
        "apr" | "april" | "avril" | "abril" => 4,
        "may" | "mai" | "maio" | "mayo" => 5,
        "jun" | "june" | "juin" | "juni" | "junho" | "junio" => 6,
        "jul" | "july" | "juillet" | "juli" | "julho" | "julio" => 7,
        "aug" | "august" | "aout" | "agosto" => 8,
        "sep" | "sept" | "september" | "septembre" | "setembro" | "septiembre" => 9,
        "oct" | "october" | "octobre" | "oktober" | "outubro" | "octubre" => 10,
        "nov" | "november" | "novembre" | "novembro" | "noviembre" => 11,
        "dec" | "december" | "decembre" | "dezember" | "dezembro" | "diciembre" => 12,
        _ => return None,
    })
}

fn full_year(v: u32, len: u8) -> Option<i32> {
    match len {
        4 if (1970..=2100).contains(&v) => Some(v as i32),
        2 => Some(if v < 70 {
            2000 + v as i32
        } else {
            1900 + v as i32
        }),
        _ => None,
    }
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// A date found in the token list: the date and the token span it covers.
struct DateHit {
    date: NaiveDate,
    start: usize,
    end: usize,
}

fn find_date(toks: &[Tok], fetched: NaiveDate) -> Option<DateHit> {
    let t = |i: usize| toks.get(i);
    for i in 0..toks.len() {
        let Some((a, alen)) = num(t(i)) else {
            // English: Month D[,] Y
            if let Some(m) = word(t(i)).and_then(month_name) {
                let mut j = i + 1;
                if sep(t(j)) == Some('.') {
                    j += 1;
                }
                if let Some((d, _)) = num(t(j)).filter(|x| x.1 <= 2) {
                    let mut k = j + 1;
                    if matches!(word(t(k)), Some("st" | "nd" | "rd" | "th")) {
                        k += 1;
                    }
                    if sep(t(k)) == Some(',') {
                        k += 1;
                    }
                    if let Some((y, yl)) = num(t(k))
                        && let Some(date) = full_year(y, yl)
                            .filter(|_| yl == 4)
                            .and_then(|y| ymd(y, m, d))
                    {
                        return Some(DateHit {
                            date,
                            start: i,
                            end: k + 1,
                        });
                    }
                }
            }
            continue;
        };
        // ISO-like: YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD
        if alen == 4
            && let (Some(s1), Some((m, ml)), Some(s2), Some((d, dl))) =
                (sep(t(i + 1)), num(t(i + 2)), sep(t(i + 3)), num(t(i + 4)))
            && s1 == s2
            && matches!(s1, '-' | '/' | '.')
            && ml <= 2
            && dl <= 2
            && let Some(date) = full_year(a, alen).and_then(|y| ymd(y, m, d))
        {
            return Some(DateHit {
                date,
                start: i,
                end: i + 5,
            });
        }
        // D/M/Y, D-M-Y, D.M.Y (day first)
        if alen <= 2
            && let (Some(s1), Some((m, ml)), Some(s2), Some((y, yl))) =
                (sep(t(i + 1)), num(t(i + 2)), sep(t(i + 3)), num(t(i + 4)))
            && s1 == s2
            && matches!(s1, '-' | '/' | '.')
            && ml <= 2
            && (yl == 4 || (yl == 2 && s1 != '.'))
            // a further `sep digits` group means something else (a version, a code...)
            && !(sep(t(i + 5)) == Some(s1) && num(t(i + 6)).is_some() && sep(t(i + 7)) != Some(':'))
            && let Some(date) = full_year(y, yl).and_then(|y| ymd(y, m, a))
        {
            return Some(DateHit {
                date,
                start: i,
                end: i + 5,
            });
        }
        // D tháng M [năm|,|/] Y   (the "ngày" before is optional)
        if alen <= 2
            && word(t(i + 1)) == Some("thang")
            && let Some((m, ml)) = num(t(i + 2))
            && ml <= 2
        {
            let mut k = i + 3;
            if word(t(k)) == Some("nam") || matches!(sep(t(k)), Some(',' | '/' | '-' | '.')) {
                k += 1;
            }
            if let Some((y, 4)) = num(t(k))
                && let Some(date) = full_year(y, 4).and_then(|y| ymd(y, m, a))
            {
                return Some(DateHit {
                    date,
                    start: i,
                    end: k + 1,
                });
            }
            // no year printed: the latest such date not after the fetch
            if let Some(date) = year_for(fetched, m, a) {
                return Some(DateHit {
                    date,
                    start: i,
                    end: i + 3,
                });
            }
        }
        // English: D[th] Month[,] Y
        if alen <= 2 {
            let mut j = i + 1;
            if matches!(word(t(j)), Some("st" | "nd" | "rd" | "th")) {
                j += 1;
            }
            if let Some(m) = word(t(j)).and_then(month_name) {
                let mut k = j + 1;
                if matches!(sep(t(k)), Some(',' | '.')) {
                    k += 1;
                }
                if let Some((y, 4)) = num(t(k))
                    && let Some(date) = full_year(y, 4).and_then(|y| ymd(y, m, a))
                {
                    return Some(DateHit {
                        date,
                        start: i,
                        end: k + 1,
                    });
                }
            }
        }
    }
    None
}

fn year_for(fetched: NaiveDate, m: u32, d: u32) -> Option<NaiveDate> {
    let y = fetched.year();
    let this = ymd(y, m, d)?;
    if this <= fetched + Duration::days(1) {
        Some(this)
    } else {
        ymd(y - 1, m, d)
    }
}

/// Time of day: `08:15`, `08:15:30`, `8h30`, `8g30`, with am/pm or
/// sáng/chiều/tối. Returns the time and the index after it.
fn find_time(toks: &[Tok], skip: Option<(usize, usize)>) -> Option<(NaiveTime, usize, usize)> {
    let t = |i: usize| toks.get(i);
    for i in 0..toks.len() {
        if let Some((s, e)) = skip
            && i >= s
            && i < e
        {
            continue;
        }
        let Some((h, hl)) = num(t(i)) else { continue };
        if hl > 2 || h > 23 {
            continue;
        }
        // 08:15, or 8h30 / 8g30
        if sep(t(i + 1)) != Some(':') && !matches!(word(t(i + 1)), Some("h" | "g")) {
            continue;
        }
        let (m, mut next) = match num(t(i + 2)) {
            Some((m, 2)) if m <= 59 => (m, i + 3),
            _ => continue,
        };
        let mut sec = 0;
        if sep(t(next)) == Some(':')
            && let Some((s, 2)) = num(t(next + 1))
            && s <= 60
        {
            sec = s.min(59);
            next += 2;
            // fractional seconds
            if sep(t(next)) == Some('.') && num(t(next + 1)).is_some() {
                next += 2;
            }
        }
        let mut h = h;
        match word(t(next)) {
            Some("pm" | "ch" | "chieu" | "toi" | "dem") => {
                if h < 12 {
                    h += 12;
                }
                next += 1;
            }
            Some("am" | "sa" | "sang") => {
                if h == 12 {
                    h = 0;
                }
                next += 1;
            }
            Some("trua") => {
                if h < 11 {
                    h += 12;
                }
                next += 1;
            }
            Some("p" | "a") if sep(t(next + 1)) == Some('.') && word(t(next + 2)) == Some("m") => {
                let pm = word(t(next)) == Some("p");
                if pm && h < 12 {
                    h += 12;
                } else if !pm && h == 12 {
                    h = 0;
                }
                next += 3;
                if sep(t(next)) == Some('.') {
                    next += 1;
                }
            }
            _ => {}
        }
        let time = NaiveTime::from_hms_opt(h, m, sec)?;
        return Some((time, i, next));
    }
    None
}

/// Offset written right after the time (`+07:00`, `+0700`, `Z`) or anywhere
/// as `GMT+7` / `UTC+07:00` / `ICT`.
fn find_offset(toks: &[Tok], after_time: Option<usize>) -> Option<FixedOffset> {
    let t = |i: usize| toks.get(i);
    let signed = |i: usize| -> Option<FixedOffset> {
        let sign = match sep(t(i))? {
            '+' => 1,
            '-' => -1,
            _ => return None,
        };
        let (v, l) = num(t(i + 1))?;
        let (h, m) = match l {
            1 | 2 => {
                let m = if sep(t(i + 2)) == Some(':') {
                    num(t(i + 3)).filter(|x| x.1 == 2).map_or(0, |x| x.0)
                } else {
                    0
                };
                (v, m)
            }
            4 => (v / 100, v % 100),
            _ => return None,
        };
        if h > 14 || m > 59 {
            return None;
        }
        FixedOffset::east_opt(sign * (h as i32 * 3600 + m as i32 * 60))
    };
    if let Some(i) = after_time {
        if word(t(i)) == Some("z") {
            return FixedOffset::east_opt(0);
        }
        if let Some(o) = signed(i) {
            return Some(o);
        }
    }
    for i in 0..toks.len() {
        match word(t(i)) {
            Some("gmt" | "utc") => {
                return Some(signed(i + 1).unwrap_or(FixedOffset::east_opt(0)?));
            }
            Some("ict") => return Some(vn_offset()),
            _ => {}
        }
    }
    None
}

fn relative(toks: &[Tok], fetched_at: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    let t = |i: usize| toks.get(i);
    let local = fetched_at.with_timezone(&vn_offset());
    for i in 0..toks.len() {
        if let Some((n, l)) = num(t(i))
            && l <= 4
        {
            let Some(unit) = word(t(i + 1)) else { continue };
            let mut k = i + 2;
            // "2 tiếng đồng hồ trước"
            if unit == "tieng" && word(t(k)) == Some("dong") && word(t(k + 1)) == Some("ho") {
                k += 2;
            }
            if matches!(word(t(k)), Some("truoc" | "ago")) {
                let n = n as i64;
                let d = match unit {
                    "giay" | "second" | "seconds" | "sec" | "secs" => Duration::seconds(n),
                    "phut" | "minute" | "minutes" | "min" | "mins" => Duration::minutes(n),
                    "gio" | "tieng" | "hour" | "hours" | "hr" | "hrs" => Duration::hours(n),
                    "ngay" | "day" | "days" => Duration::days(n),
                    "tuan" | "week" | "weeks" => Duration::weeks(n),
                    "thang" | "month" | "months" => Duration::days(30 * n),
                    "nam" | "year" | "years" => Duration::days(365 * n),
                    _ => continue,
                };
                // "9999 năm trước" is no publication date
                let back = local - d;
                if back.year() >= MIN_YEAR {
                    return Some(back);
                }
                continue;
            }
        }
        let days_back = match (word(t(i)), word(t(i + 1))) {
            (Some("hom"), Some("nay")) | (Some("today"), _) => Some(0),
            (Some("hom"), Some("qua")) | (Some("yesterday"), _) => Some(1),
            (Some("hom"), Some("kia")) => Some(2),
            (Some("vua"), Some("xong")) | (Some("just"), Some("now")) => return Some(local),
            _ => None,
        };
        if let Some(back) = days_back {
            let date = local.date_naive() - Duration::days(back);
            let time = find_time(toks, None).map(|x| x.0).unwrap_or(NaiveTime::MIN);
            return vn_offset()
                .from_local_datetime(&date.and_time(time))
                .single();
        }
    }
    None
}

/// Parse a date as printed on a (Vietnamese) news page or in page metadata.
/// `fetched_at` anchors relative forms (`2 giờ trước`, `hôm qua`) and dates
/// printed without a year. Returns `None` when no date is found.
pub fn parse_vietnamese_date(s: &str, fetched_at: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    let s = match s.char_indices().nth(MAX_CHARS) {
        Some((i, _)) => &s[..i],
        None => s,
    };
    let folded = fold(s);
    let toks = tokenize(&folded);
    if toks.is_empty() {
        return None;
    }
    let fetched_local = fetched_at.with_timezone(&vn_offset()).date_naive();
    let Some(hit) = find_date(&toks, fetched_local) else {
        return relative(&toks, fetched_at);
    };
    let time = find_time(&toks, Some((hit.start, hit.end)));
    let after = match time {
        Some((_, _, end)) => Some(end),
        None => Some(hit.end),
    };
    let offset = find_offset(&toks, after).unwrap_or_else(vn_offset);
    let naive = hit.date.and_time(time.map_or(NaiveTime::MIN, |x| x.0));
    offset.from_local_datetime(&naive).single()
}

/// True when `s` is a short line that is essentially a date (optionally with
/// a weekday, "Cập nhật", a category or a short name): such lines are not
/// article text.
pub fn is_date_line(s: &str, fetched_at: DateTime<Utc>) -> bool {
    let n = s.chars().count();
    if !(4..=90).contains(&n) {
        return false;
    }
    if parse_vietnamese_date(s, fetched_at).is_none() {
        return false;
    }
    let folded = fold(s);
    let mut other = 0usize;
    for tok in tokenize(&folded) {
        if let Tok::Word(w) = tok
            && !is_date_word(&w)
        {
            other += w.chars().count();
        }
    }
    other <= 24
}

fn is_date_word(w: &str) -> bool {
    month_name(w).is_some()
        || matches!(
            w,
            "thu"
                | "hai"
                | "ba"
                | "tu"
                | "nam"
                | "sau"
                | "bay"
                | "chu"
                | "nhat"
                | "cn"
                | "ngay"
                | "thang"
                | "luc"
                | "gio"
                | "phut"
                | "gmt"
                | "utc"
                | "ict"
                | "cap"
                | "dang"
                | "sang"
                | "chieu"
                | "toi"
                | "trua"
                | "h"
                | "g"
                | "t"
                | "z"
                | "am"
                | "pm"
                | "a"
                | "p"
                | "m"
                | "truoc"
                | "hom"
                | "qua"
                | "nay"
                | "posted"
                | "published"
                | "updated"
                | "on"
                | "at"
                | "by"
                | "monday"
                | "tuesday"
                | "wednesday"
                | "thursday"
                | "friday"
                | "saturday"
                | "sunday"
                | "mon"
                | "tue"
                | "wed"
                | "fri"
                | "sat"
                | "sun"
                | "et"
                | "est"
                | "edt"
                | "pt"
                | "pst"
                | "pdt"
                | "bst"
                | "cet"
                | "ngaydang"
                | "xuat"
                | "ban"
        )
}

/// Does the line announce an update ("Cập nhật", "Updated", "Modified")?
pub fn is_update_line(s: &str) -> bool {
    let f = fold(s);
    f.contains("cap nhat")
        || f.contains("updated")
        || f.contains("modified")
        || f.contains("sua lan")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn fetched() -> DateTime<Utc> {
        // 31/03/2023 19:30 +07:00
        Utc.with_ymd_and_hms(2023, 3, 31, 12, 30, 0)
            .single()
            .expect("valid")
    }

    fn p(s: &str) -> String {
        parse_vietnamese_date(s, fetched())
            .map(|d| d.to_rfc3339())
            .unwrap_or_else(|| "NONE".into())
    }

    #[test]
    fn vietnamese_visible_forms() {
        assert_eq!(
            p("Thứ hai, 13/3/2023, 08:15 (GMT+7)"),
            "2023-03-13T08:15:00+07:00"
        );
        assert_eq!(p("08:15 ngày 13/03/2023"), "2023-03-13T08:15:00+07:00");
        assert_eq!(p("13-3-2023 | 08:15"), "2023-03-13T08:15:00+07:00");
        assert_eq!(p("Ngày 13 tháng 3 năm 2023"), "2023-03-13T00:00:00+07:00");
        assert_eq!(
            p("NGÀY 13 THÁNG 3, 2023 | 08:15"),
            "2023-03-13T08:15:00+07:00"
        );
        assert_eq!(p("Thứ Sáu, 31/03/2023"), "2023-03-31T00:00:00+07:00");
        assert_eq!(p("23/03/2023 15:30 GMT+7"), "2023-03-23T15:30:00+07:00");
        assert_eq!(
            p("Cập nhật lúc 8h30 ngày 13/3/2023"),
            "2023-03-13T08:30:00+07:00"
        );
        assert_eq!(p("Chủ nhật, 5/3/2023 - 09:05"), "2023-03-05T09:05:00+07:00");
        assert_eq!(p("13.03.2023 08:15"), "2023-03-13T08:15:00+07:00");
        assert_eq!(p("20/03/2023 lúc 19:27"), "2023-03-20T19:27:00+07:00");
        assert_eq!(p("13/3/2023 2:15 chiều"), "2023-03-13T14:15:00+07:00");
    }

    #[test]
    fn day_before_month() {
        assert_eq!(p("05/03/2023"), "2023-03-05T00:00:00+07:00");
        assert_eq!(p("12/11/2022 10:00"), "2022-11-12T10:00:00+07:00");
        assert_eq!(p("31/12/2022"), "2022-12-31T00:00:00+07:00");
        assert_eq!(p("12/31/2022"), "NONE");
    }

    #[test]
    fn iso_and_offsets() {
        assert_eq!(p("2023-03-20T07:45:00+07:00"), "2023-03-20T07:45:00+07:00");
        assert_eq!(p("2023-03-20T00:45:00Z"), "2023-03-20T00:45:00+00:00");
        assert_eq!(
            p("2023-03-20T07:45:00.000+0700"),
            "2023-03-20T07:45:00+07:00"
        );
        assert_eq!(p("2023-03-20 07:45:00"), "2023-03-20T07:45:00+07:00");
        assert_eq!(p("2023-03-20"), "2023-03-20T00:00:00+07:00");
        assert_eq!(p("2019-11-19T09:00:00-05:00"), "2019-11-19T09:00:00-05:00");
        assert_eq!(
            p("Mon, 13 Mar 2023 01:15:00 +0000"),
            "2023-03-13T01:15:00+00:00"
        );
        // same instant whatever the offset
        let a = parse_vietnamese_date("2023-03-13T01:15:00Z", fetched());
        let b = parse_vietnamese_date("13/3/2023 08:15", fetched());
        assert_eq!(a, b);
    }

    #[test]
    fn english_forms() {
        assert_eq!(p("March 13, 2023"), "2023-03-13T00:00:00+07:00");
        assert_eq!(p("Nov. 19, 2019 5:30 p.m."), "2019-11-19T17:30:00+07:00");
        assert_eq!(p("13 March 2023 at 08:15"), "2023-03-13T08:15:00+07:00");
        assert_eq!(p("Updated 2 hours ago"), "2023-03-31T17:30:00+07:00");
    }

    #[test]
    fn relative_forms() {
        assert_eq!(p("2 giờ trước"), "2023-03-31T17:30:00+07:00");
        assert_eq!(p("30 phút trước"), "2023-03-31T19:00:00+07:00");
        assert_eq!(p("hôm qua"), "2023-03-30T00:00:00+07:00");
        assert_eq!(p("Hôm qua lúc 08:15"), "2023-03-30T08:15:00+07:00");
        assert_eq!(p("08:15 hôm nay"), "2023-03-31T08:15:00+07:00");
        assert_eq!(p("3 ngày trước"), "2023-03-28T19:30:00+07:00");
        assert_eq!(p("vừa xong"), "2023-03-31T19:30:00+07:00");
    }

    #[test]
    fn no_year_uses_fetch_year() {
        assert_eq!(p("Ngày 13 tháng 3"), "2023-03-13T00:00:00+07:00");
        // in the future relative to the fetch: last year
        assert_eq!(p("ngày 20 tháng 12"), "2022-12-20T00:00:00+07:00");
    }

    #[test]
    fn rejects_non_dates() {
        assert_eq!(p(""), "NONE");
        assert_eq!(p("Giấy phép số 128/GP-BTTTT"), "NONE");
        assert_eq!(p("Điện thoại: 0259 3822 xxx"), "NONE");
        assert_eq!(p("32/13/2023"), "NONE");
        assert_eq!(p("version 1.2.3"), "NONE");
        assert_eq!(p("1.140 dịch vụ công trực tuyến"), "NONE");
        assert_eq!(p("25:99 ngày 40/2/2023"), "NONE");
    }

    #[test]
    fn time_only_is_kept_with_date() {
        let d =
            parse_vietnamese_date("Thứ hai, 20/3/2023, 14:00 (GMT+7)", fetched()).expect("date");
        assert_eq!((d.hour(), d.minute()), (14, 0));
    }

    #[test]
    fn date_lines() {
        let f = fetched();
        assert!(is_date_line("23/03/2023 15:30 GMT+7", f));
        assert!(is_date_line("Thời sự 23/03/2023 15:30 GMT+7", f));
        assert!(is_date_line("Thứ hai, 20/3/2023, 14:00 (GMT+7)", f));
        assert!(is_date_line("Cập nhật: 08:15 ngày 13/03/2023", f));
        assert!(!is_date_line(
            "Ngày 13/3/2023, Uỷ ban nhân dân tỉnh tổ chức hội nghị tổng kết công tác năm và triển khai nhiệm vụ",
            f
        ));
        assert!(!is_date_line("Ông Tám vừa chỉ đạo bốc hàng vừa nói", f));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,400}") {
            let _ = parse_vietnamese_date(&s, fetched());
            let _ = is_date_line(&s, fetched());
        }

        #[test]
        fn never_panics_on_datey_strings(s in "[0-9/:\\-\\. ,|()+hgtGMTngàyháńm]{0,80}") {
            let _ = parse_vietnamese_date(&s, fetched());
        }

        #[test]
        fn parsed_dates_are_plausible(s in "[0-9/:\\-\\. ,|()+hgtGMTZngàyháńmtrướcgiờphútnămquaôhôm]{0,60}") {
            if let Some(d) = parse_vietnamese_date(&s, fetched()) {
                proptest::prop_assert!((1969..=2101).contains(&d.year()), "{} from {:?}", d, s);
            }
            // a date line is always a parsable date
            proptest::prop_assert!(!is_date_line(&s, fetched()) || parse_vietnamese_date(&s, fetched()).is_some());
        }

        #[test]
        fn vietnamese_long_form_roundtrip(d in 1u32..=28, m in 1u32..=12, y in 1990i32..=2030, upper: bool) {
            let s = format!("Ngày {d} tháng {m} năm {y}");
            let s = if upper { s.to_uppercase() } else { s };
            let got = parse_vietnamese_date(&s, fetched()).expect("parses");
            let want = vn_offset().with_ymd_and_hms(y, m, d, 0, 0, 0).single().expect("valid");
            proptest::prop_assert_eq!(got, want);
        }

        #[test]
        fn time_then_date_roundtrip(d in 1u32..=28, m in 1u32..=12, y in 2000i32..=2030, h in 0u32..=23, mi in 0u32..=59, sep in "[/.-]") {
            let s = format!("{h:02}:{mi:02} ngày {d:02}{sep}{m:02}{sep}{y}");
            let got = parse_vietnamese_date(&s, fetched()).expect("parses");
            let want = vn_offset().with_ymd_and_hms(y, m, d, h, mi, 0).single().expect("valid");
            proptest::prop_assert_eq!(got, want);
        }

        #[test]
        fn rfc3339_roundtrip(secs in 86_400i64..4_000_000_000, off_q in -48i32..=56) {
            // any instant from 1970 to 2096 with any quarter-hour offset
            let off = FixedOffset::east_opt(off_q * 900).expect("offset");
            let dt = off.timestamp_opt(secs, 0).single().expect("valid");
            let got = parse_vietnamese_date(&dt.to_rfc3339(), fetched()).expect("parses");
            proptest::prop_assert_eq!(got, dt);
            proptest::prop_assert_eq!(got.offset(), dt.offset());
        }

        #[test]
        fn relative_hours_are_before_the_fetch(n in 0u32..=72) {
            let got = parse_vietnamese_date(&format!("{n} giờ trước"), fetched()).expect("parses");
            proptest::prop_assert_eq!(got, fetched() - Duration::hours(n as i64));
        }

        #[test]
        fn dmy_roundtrip(d in 1u32..=28, m in 1u32..=12, y in 2000i32..=2030, h in 0u32..=23, mi in 0u32..=59) {
            let s = format!("{d}/{m}/{y} {h:02}:{mi:02}");
            let got = parse_vietnamese_date(&s, fetched()).expect("parses");
            let want = vn_offset().with_ymd_and_hms(y, m, d, h, mi, 0).single().expect("valid");
            proptest::prop_assert_eq!(got, want);
        }
    }
}
