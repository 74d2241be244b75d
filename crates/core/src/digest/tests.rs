use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;

const HCM: Tz = chrono_tz::Asia::Ho_Chi_Minh;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn ts(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("valid RFC 3339")
}

fn doc(id: i64, source: &str, title: &str, text: &str, published: &str) -> DigestDoc {
    let slug: String = key_form(source)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let url = format!("https://{slug}.example.vn/tin/{id}.html");
    DigestDoc {
        id,
        url: url.clone(),
        canonical_url: url,
        title: title.to_owned(),
        text: text.to_owned(),
        source: source.to_owned(),
        kind: "article".to_owned(),
        published_at: Some(ts(published)),
        fetched_at: ts(published).with_timezone(&Utc) + chrono::Duration::minutes(20),
        syndicated_from: None,
        tags: Vec::new(),
        candidate_status: None,
    }
}

fn week(s: &str) -> Period {
    Period::parse_week(s).expect("valid week")
}

// --- periods ------------------------------------------------------------------

#[test]
fn iso_week_bounds() {
    let w = week("2023-W11");
    assert_eq!((w.from(), w.to()), (date(2023, 3, 13), date(2023, 3, 19)));
    assert_eq!(w.week_label().as_deref(), Some("2023-W11"));
    assert_eq!(w.to_string(), "2023-W11");
    assert_eq!(w.previous(), week("2023-W10"));
    assert_eq!(w.next(), week("2023-W12"));
    assert_eq!(w.len_days(), 7);
    assert_eq!(week("2023-w1"), week("2023-W01"));
    assert_eq!("2023-W11".parse::<Period>(), Ok(w));
}

#[test]
fn iso_weeks_across_year_boundaries() {
    let w53 = Period::iso_week(2020, 53).expect("2020 has 53 weeks");
    assert_eq!(
        (w53.from(), w53.to()),
        (date(2020, 12, 28), date(2021, 1, 3))
    );
    assert_eq!(w53.next(), week("2021-W01"));
    assert_eq!(week("2021-W01").previous(), w53);
    assert_eq!(week("2021-W01").from(), date(2021, 1, 4));
    // 2019-W01 starts in 2018.
    assert_eq!(week("2019-W01").from(), date(2018, 12, 31));
    assert_eq!(week("2019-W01").previous(), week("2018-W52"));
    assert_eq!(Period::week_of(date(2021, 1, 1)), w53);
    assert_eq!(Period::week_of(date(2024, 12, 30)), week("2025-W01"));
    assert_eq!(week("2026-W53").to(), date(2027, 1, 3));
    assert_eq!(
        Period::iso_week(2021, 53),
        Err(PeriodError::NoSuchWeek {
            year: 2021,
            week: 53
        })
    );
    for bad in [
        "2023-11",
        "2023W11",
        "23-W11",
        "2023-W111",
        "2023-W00",
        "2023-Wx",
        "",
        "2023-W",
    ] {
        assert!(Period::parse_week(bad).is_err(), "{bad}");
    }
}

#[test]
fn ranges_compare_with_the_same_period_a_year_before() {
    let r = Period::range(date(2024, 2, 1), date(2024, 2, 29)).expect("valid range");
    assert_eq!(r.week_label(), None);
    assert_eq!(r.len_days(), 29);
    assert_eq!(
        r.previous(),
        Period::range(date(2023, 2, 1), date(2023, 2, 28)).expect("valid range")
    );
    assert_eq!(
        Period::parse("2023-03-01..2023-03-31"),
        Period::range(date(2023, 3, 1), date(2023, 3, 31))
    );
    assert!(matches!(
        Period::range(date(2023, 3, 2), date(2023, 3, 1)),
        Err(PeriodError::EmptyRange { .. })
    ));
    assert!(Period::parse("2023-03-01").is_err());
    assert!(Period::parse("2023-13-01..2023-13-02").is_err());
}

#[test]
fn time_zone_edges() {
    let w11 = week("2023-W11");
    let w12 = week("2023-W12");
    let mut d = doc(1, "A", "t", "x", "2023-03-19T23:30:00+07:00");
    assert!(w11.contains(&d, HCM));
    assert!(!w12.contains(&d, HCM));
    // 17:30 UTC on Sunday is 00:30 on Monday in Vietnam.
    d.published_at = Some(ts("2023-03-19T17:30:00Z"));
    assert!(w12.contains(&d, HCM));
    assert!(!w11.contains(&d, HCM));
    assert_eq!(Period::week_containing(d.instant(), HCM), w12);
    assert_eq!(Period::week_containing(d.instant(), chrono_tz::UTC), w11);
    // Without published_at, fetched_at decides.
    d.published_at = None;
    d.fetched_at = Utc
        .with_ymd_and_hms(2023, 3, 12, 16, 59, 59)
        .single()
        .expect("valid");
    assert!(week("2023-W10").contains(&d, HCM));
    d.fetched_at = Utc
        .with_ymd_and_hms(2023, 3, 12, 17, 0, 0)
        .single()
        .expect("valid");
    assert!(w11.contains(&d, HCM));

    let (start, end) = w11.utc_bounds(HCM);
    assert_eq!(
        start,
        Utc.with_ymd_and_hms(2023, 3, 12, 17, 0, 0)
            .single()
            .expect("valid")
    );
    assert_eq!(
        end,
        Utc.with_ymd_and_hms(2023, 3, 19, 17, 0, 0)
            .single()
            .expect("valid")
    );
    // Bounds and contains agree around the edges.
    for offset in [-1i64, 0, 1] {
        for edge in [start, end] {
            let t = edge + chrono::Duration::seconds(offset);
            assert_eq!(w11.contains_instant(t, HCM), start <= t && t < end, "{t}");
        }
    }
}

#[test]
fn utc_bounds_with_a_midnight_dst_gap() {
    // São Paulo started daylight saving time at 00:00 on 2018-11-04: that
    // day began at 01:00 local (-02:00).
    let tz: Tz = chrono_tz::America::Sao_Paulo;
    let day = Period::range(date(2018, 11, 4), date(2018, 11, 4)).expect("valid");
    let (start, end) = day.utc_bounds(tz);
    assert_eq!(
        start,
        Utc.with_ymd_and_hms(2018, 11, 4, 3, 0, 0)
            .single()
            .expect("valid")
    );
    assert_eq!(
        end,
        Utc.with_ymd_and_hms(2018, 11, 5, 2, 0, 0)
            .single()
            .expect("valid")
    );
    for t in [start, end - chrono::Duration::seconds(1)] {
        assert!(day.contains_instant(t, tz));
    }
    assert!(!day.contains_instant(start - chrono::Duration::seconds(1), tz));
    assert!(!day.contains_instant(end, tz));
}

// --- story grouping ---------------------------------------------------------------

const NHO_A: (&str, &str) = (
    "Rực rỡ đêm khai mạc Lễ hội Nho và Vang năm 2023",
    "Tối 12/3, tại Quảng trường 16 Tháng 4, thành phố Phan Rang – Tháp Chàm, tỉnh long trọng khai mạc Lễ hội Nho và Vang năm 2023 với chủ đề “Hương sắc nho vang – Sắc màu văn hoá”.\n\nChương trình nghệ thuật khai mạc dài 90 phút với sự tham gia của hơn 500 diễn viên. Trong khuôn khổ lễ hội, từ ngày 12 đến 19/3 sẽ diễn ra hội chợ triển lãm với hơn 100 gian hàng giới thiệu nho tươi, rượu vang, mật nho và sản phẩm OCOP của tỉnh.",
);
const NHO_B: (&str, &str) = (
    "Khai mạc Lễ hội Nho và Vang năm 2023: Hương sắc nho vang",
    "Tối qua (12/3), hàng chục nghìn người dân và du khách đã đổ về Quảng trường 16 Tháng 4 để dự lễ khai mạc Lễ hội Nho và Vang năm 2023.\n\nLễ hội năm nay mang chủ đề “Hương sắc nho vang – Sắc màu văn hóa”, kéo dài từ ngày 12 đến ngày 19/3 với hội chợ triển lãm sản phẩm nho và rượu vang. Điểm nhấn của đêm khai mạc là chương trình nghệ thuật với hơn 500 diễn viên. Hội chợ có hơn 100 gian hàng.",
);
const KARAOKE: (&str, &str) = (
    "Đình chỉ hoạt động 3 cơ sở karaoke không bảo đảm an toàn phòng cháy",
    "Đoàn kiểm tra liên ngành của thành phố vừa đình chỉ hoạt động 3 cơ sở kinh doanh karaoke trên đường Thống Nhất do không bảo đảm điều kiện an toàn phòng cháy, chữa cháy. Các cơ sở này không có lối thoát nạn thứ hai, hệ thống báo cháy tự động không hoạt động.",
);
const LUA: (&str, &str) = (
    "Nông dân Thuận Nam chuyển đổi cây trồng để thích ứng hạn hán",
    "Trước tình hình nắng hạn kéo dài, nhiều hộ nông dân ở huyện Thuận Nam đã chủ động chuyển từ trồng lúa sang các loại cây chịu hạn như bắp, đậu xanh, nho và táo, giúp tiết kiệm nước tưới và tăng thu nhập.",
);

fn grouped_ids(docs: &[DigestDoc]) -> Vec<Vec<i64>> {
    let refs: Vec<&DigestDoc> = docs.iter().collect();
    let mut out: Vec<Vec<i64>> = group_stories(&refs, &[])
        .into_iter()
        .map(|g| g.members.iter().map(|&m| docs[m].id).collect())
        .collect();
    out.sort();
    out
}

#[test]
fn rewritten_same_event_pair_is_one_story() {
    let docs = vec![
        doc(
            1,
            "Báo Biển Xanh",
            NHO_A.0,
            NHO_A.1,
            "2023-03-13T07:30:00+07:00",
        ),
        doc(
            2,
            "Thời báo Cát Trắng",
            NHO_B.0,
            NHO_B.1,
            "2023-03-13T09:15:00+07:00",
        ),
        doc(
            3,
            "Nắng Gió",
            KARAOKE.0,
            KARAOKE.1,
            "2023-03-13T10:00:00+07:00",
        ),
        doc(4, "Đất Nắng", LUA.0, LUA.1, "2023-03-14T10:00:00+07:00"),
    ];
    assert_eq!(grouped_ids(&docs), vec![vec![1, 2]]);

    // Too far apart in time for a same-event link.
    let mut late = docs.clone();
    late[1].published_at = Some(ts("2023-03-17T09:15:00+07:00"));
    assert!(grouped_ids(&late).is_empty());

    // The same outlet twice is not "several outlets".
    let mut same = docs.clone();
    same[1].source = "Báo Biển Xanh".to_owned();
    assert!(grouped_ids(&same).is_empty());
}

#[test]
fn syndicated_copy_is_grouped_with_its_original() {
    let mut original = doc(
        10,
        "Báo Biển Xanh",
        KARAOKE.0,
        KARAOKE.1,
        "2023-03-16T10:40:00+07:00",
    );
    original.url = "https://baobienxanh.example.vn/tin/10.html".to_owned();
    original.canonical_url = original.url.clone();
    let mut copy = doc(
        11,
        "Đất Nắng",
        "Tin: đình chỉ 3 quán karaoke",
        "Theo Báo Biển Xanh. Nội dung tóm tắt ngắn khác hẳn.",
        "2023-03-16T08:00:00+07:00",
    );
    // Cross-site rel=canonical to the original, spelled differently.
    copy.syndicated_from = Some("http://BAOBIENXANH.example.vn/tin/10.html/".to_owned());
    copy.canonical_url = original.url.clone();
    let other = doc(12, "Nắng Gió", LUA.0, LUA.1, "2023-03-16T11:00:00+07:00");
    let docs = [copy, other, original];
    let refs: Vec<&DigestDoc> = docs.iter().collect();
    let groups = group_stories(&refs, &[]);
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    // Publication order, but the original gives the title.
    assert_eq!(g.members, vec![0, 2]);
    assert_eq!(g.original, 2);
    assert!(g.signals.contains(&Signal::Syndication));
}

#[test]
fn several_copies_pointing_at_the_original() {
    let mut original = doc(20, "Gốc", KARAOKE.0, KARAOKE.1, "2023-03-16T10:00:00+07:00");
    original.url = "https://goc.example.vn/a.html".to_owned();
    original.canonical_url = original.url.clone();
    let copy = |id: i64, source: &str, at: &str| {
        let mut c = doc(id, source, &format!("Bản sao {id}"), "Ngắn.", at);
        c.syndicated_from = Some(original.url.clone());
        c.canonical_url = original.url.clone();
        c
    };
    // The copies come first in the slice and one is published earlier.
    let docs = [
        copy(21, "Sao A", "2023-03-16T09:00:00+07:00"),
        copy(22, "Sao B", "2023-03-16T11:00:00+07:00"),
        original,
    ];
    let refs: Vec<&DigestDoc> = docs.iter().collect();
    let groups = group_stories(&refs, &[]);
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].members, vec![0, 2, 1]);
    assert_eq!(groups[0].original, 2);
}

#[test]
fn verbatim_copies_are_near_duplicates() {
    let a = doc(1, "A", KARAOKE.0, KARAOKE.1, "2023-03-16T10:40:00+07:00");
    let mut b = doc(
        2,
        "B",
        KARAOKE.0,
        &format!("{}\n\nTheo báo A", KARAOKE.1),
        "2023-03-30T10:40:00+07:00",
    );
    b.title = "ĐÌNH CHỈ hoạt động 3 cơ sở karaoke".to_owned();
    let docs = [a, b];
    let refs: Vec<&DigestDoc> = docs.iter().collect();
    let index = StoryIndex::build(&refs, &[], &StoryConfig::default());
    // 43 of 46 shingles shared (SimHash is for longer texts).
    assert!(index.jaccard(0, 1) > 0.9, "{}", index.jaccard(0, 1));
    // Two weeks apart: not a same-event link, a near-duplicate one.
    assert!(!index.within_window(0, 1));
    assert_eq!(index.text_link(0, 1), Some(Signal::NearDuplicate));
    let groups = index.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].signals, vec![Signal::NearDuplicate]);
}

/// Deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A Vietnamese-like syllable from its number (384 distinct).
fn syllable(n: usize) -> String {
    const ONSETS: [&str; 16] = [
        "b", "c", "d", "đ", "g", "h", "kh", "l", "m", "n", "ng", "nh", "ph", "th", "tr", "v",
    ];
    const RIMES: [&str; 24] = [
        "a", "à", "á", "ả", "an", "ăn", "ân", "ang", "anh", "e", "ê", "ên", "i", "inh", "o", "ô",
        "ôn", "ơ", "u", "ư", "ương", "uyên", "iêt", "ươc",
    ];
    format!("{}{}", ONSETS[n % 16], RIMES[(n / 16) % 24])
}

/// Documents: every third one retells one of 40 stories (runs of the
/// story's own word sequence, with filler), the rest are unrelated.
fn synthetic_docs(n: i64) -> Vec<DigestDoc> {
    let sources = ["A", "B", "C", "D", "E"];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    (0..n)
        .map(|i| {
            let mut words: Vec<String> = Vec::new();
            if i % 3 == 0 {
                let story = (i / 3) % 40;
                let mut srng = Rng(story as u64 * 7919 + 17);
                let seq: Vec<usize> = (0..60).map(|_| srng.below(384)).collect();
                for _ in 0..8 {
                    let at = rng.below(seq.len() - 6);
                    words.extend(seq[at..at + 6].iter().map(|&w| syllable(w)));
                    words.extend((0..6).map(|_| syllable(rng.below(384))));
                }
            } else {
                words.extend((0..100).map(|_| syllable(rng.below(384))));
            }
            let day = 13 + (i % 7);
            let published = format!("2023-03-{day:02}T{:02}:00:00+07:00", i % 24);
            doc(
                i,
                sources[((i / 7) % 5) as usize],
                &format!("Tin {i}"),
                &words.join(" "),
                &published,
            )
        })
        .collect()
}

#[test]
fn long_near_duplicates_are_found_at_any_distance_in_time() {
    let mut rng = Rng(7);
    let words: Vec<String> = (0..400).map(|_| syllable(rng.below(384))).collect();
    let original = words.join(" ");
    let mut edited = words.clone();
    edited[100] = "khác".to_owned();
    edited[300] = "hẳn".to_owned();
    let copy = format!("{}\n\nTheo báo A", edited.join(" "));
    let mut docs = vec![
        doc(1, "A", "Tin gốc", &original, "2023-03-01T08:00:00+07:00"),
        doc(2, "B", "Tin đăng lại", &copy, "2023-03-20T08:00:00+07:00"),
    ];
    docs.extend(synthetic_docs(30).into_iter().map(|mut d| {
        d.id += 100;
        d
    }));
    let refs: Vec<&DigestDoc> = docs.iter().collect();
    let index = StoryIndex::build(&refs, &[], &StoryConfig::default());
    assert!(index.hamming(0, 1) <= 3, "{}", index.hamming(0, 1));
    let groups = index.groups();
    let first = groups
        .iter()
        .find(|g| g.members.contains(&0))
        .expect("grouped");
    assert_eq!(first.members, vec![0, 1]);
    assert_eq!(first.signals, vec![Signal::NearDuplicate]);
}

#[test]
fn indexed_grouping_equals_exhaustive() {
    let docs = synthetic_docs(600);
    let refs: Vec<&DigestDoc> = docs.iter().collect();
    let indexed = StoryIndex::build(&refs, &[], &StoryConfig::default()).groups();
    let exhaustive = StoryIndex::build(
        &refs,
        &[],
        &StoryConfig {
            exhaustive: true,
            ..StoryConfig::default()
        },
    )
    .groups();
    let members = |g: &[StoryGroup]| g.iter().map(|g| g.members.clone()).collect::<Vec<_>>();
    assert!(indexed.len() >= 20, "{}", indexed.len());
    assert_eq!(members(&indexed), members(&exhaustive));
    // Only retellings are grouped.
    for g in &indexed {
        assert!(
            g.members.iter().all(|&m| docs[m].id % 3 == 0),
            "{:?}",
            g.members
        );
    }
}

// --- digest -----------------------------------------------------------------------

fn fixed_input() -> DigestInput {
    let mut current = vec![
        doc(
            1,
            "Báo Biển Xanh",
            NHO_A.0,
            NHO_A.1,
            "2023-03-13T07:30:00+07:00",
        ),
        doc(
            2,
            "Thời báo Cát Trắng",
            NHO_B.0,
            NHO_B.1,
            "2023-03-13T09:15:00+07:00",
        ),
        doc(
            3,
            "Nắng Gió Online",
            KARAOKE.0,
            KARAOKE.1,
            "2023-03-16T10:40:00+07:00",
        ),
        doc(
            4,
            "Báo Biển Xanh",
            LUA.0,
            LUA.1,
            "2023-03-19T23:30:00+07:00",
        ),
        doc(
            5,
            "Đất Nắng",
            "Làm “cộng tác viên” bán hàng online, người phụ nữ mất hơn 300 triệu đồng",
            "Tin lời quảng cáo “việc nhẹ lương cao”, chị H. làm cộng tác viên và nhiều lần chuyển khoản đặt cọc.",
            "2023-03-14T15:45:00+07:00",
        ),
        // Next week in Vietnam (00:30 on Monday 20/3): not counted.
        doc(
            6,
            "Đất Nắng",
            "Tin tuần sau",
            "Nội dung.",
            "2023-03-19T17:30:00Z",
        ),
    ];
    current[4].tags = vec![("scam-recruitment".into(), "fraud".into(), "high".into())];
    current[4].candidate_status = Some("confirmed".into());
    current[2].tags = vec![
        ("fire-safety".into(), "safety".into(), "low".into()),
        ("karaoke".into(), "fraud".into(), "medium".into()),
    ];
    current[2].candidate_status = Some("open".into());
    current[2].kind = "post".into();
    let previous = vec![
        doc(
            101,
            "Báo Biển Xanh",
            "Tin cũ 1",
            "a",
            "2023-03-07T08:15:00+07:00",
        ),
        doc(
            102,
            "Báo Biển Xanh",
            "Tin cũ 2",
            "b",
            "2023-03-09T16:40:00+07:00",
        ),
        doc(
            103,
            "Nắng Gió Online",
            "Tin cũ 3",
            "c",
            "2023-03-10T09:20:00+07:00",
        ),
        doc(104, "Báo Cũ", "Tin cũ 4", "d", "2023-03-11T10:30:00+07:00"),
        // Two weeks before: ignored.
        doc(
            105,
            "Báo Cũ",
            "Tin rất cũ",
            "e",
            "2023-03-01T10:30:00+07:00",
        ),
    ];
    DigestInput {
        office: "Sở Thông tin và Truyền thông tỉnh Ninh Thuận".into(),
        timezone: HCM,
        period: week("2023-W11"),
        current,
        previous,
        health: vec![
            SourceHealth {
                name: "Báo Biển Xanh".into(),
                failing: false,
                last_error: None,
                consecutive_failures: 0,
            },
            SourceHealth {
                name: "Nắng Gió Online".into(),
                failing: true,
                last_error: Some("HTTP 503 Service Unavailable".into()),
                consecutive_failures: 3,
            },
        ],
        topics: vec![TopicSection {
            title: "Lễ hội Nho và Vang".into(),
            query_hits: vec![2, 1, 999],
        }],
    }
}

#[test]
fn digest_counts_and_json_shape() {
    let d = build_digest(&fixed_input());
    assert_eq!(d.total, 5);
    assert_eq!(d.previous_total, 4);
    let sources: Vec<(&str, u64, u64)> = d
        .sources
        .iter()
        .map(|s| (s.source.as_str(), s.count, s.previous))
        .collect();
    assert_eq!(
        sources,
        vec![
            ("Báo Biển Xanh", 2, 2),
            ("Đất Nắng", 1, 0),
            ("Nắng Gió Online", 1, 1),
            ("Thời báo Cát Trắng", 1, 0),
            ("Báo Cũ", 0, 1),
        ]
    );
    assert_eq!(d.stories.len(), 1);
    assert_eq!(d.stories[0].title, NHO_A.0);
    assert_eq!(
        d.stories[0].sources,
        vec!["Báo Biển Xanh", "Thời báo Cát Trắng"]
    );
    assert_eq!(
        d.flagged,
        vec![
            FlaggedCategory {
                category: "fraud".into(),
                count: 2,
                confirmed: 1
            },
            FlaggedCategory {
                category: "safety".into(),
                count: 1,
                confirmed: 0
            },
        ]
    );
    assert_eq!(d.flagged_items[0].doc.id, 5);
    assert_eq!(d.flagged_items[1].severity, "medium");
    assert_eq!(d.topics[0].count, 2);
    assert_eq!(d.days.len(), 7);
    assert_eq!(d.days[6].total, 1);
    assert_eq!(
        d.kinds,
        vec![
            KindCount {
                kind: "article".into(),
                count: 4
            },
            KindCount {
                kind: "post".into(),
                count: 1
            },
        ]
    );

    let json = serde_json::to_string(&d).expect("serialises");
    assert!(
        json.starts_with(
            r#"{"week":"2023-W11","from":"2023-03-13","to":"2023-03-19","timezone":"Asia/Ho_Chi_Minh","total":5,"previous_total":4,"sources":[{"source":"Báo Biển Xanh","count":2,"previous":2,"syndicated":0},"#
        ),
        "{json}"
    );
    let v: serde_json::Value = serde_json::from_str(&json).expect("parses");
    let story = &v["stories"][0];
    assert_eq!(story["urls"].as_array().map(Vec::len), Some(2));
    assert!(story["title"].is_string());
    assert_eq!(
        v["flagged"][0],
        serde_json::json!({"category": "fraud", "count": 2, "confirmed": 1})
    );
    let back: Digest = serde_json::from_str(&json).expect("round trip");
    assert_eq!(back, d);
    // The contract's fields alone (a digest stored by an older version).
    let minimal = r#"{"week": "2023-W11", "from": "2023-03-13", "to": "2023-03-19",
        "timezone": "Asia/Ho_Chi_Minh", "total": 42, "previous_total": 37,
        "sources": [{"source": "Báo Ninh Thuận", "count": 9, "previous": 7}],
        "stories": [{"title": "t", "urls": ["https://a.vn/1", "https://b.vn/2"], "sources": ["A", "B"]}],
        "flagged": [{"category": "fraud", "count": 3, "confirmed": 1}]}"#;
    let old: Digest = serde_json::from_str(minimal).expect("contract example parses");
    assert_eq!(old.total, 42);
    assert!(render_html(&old).contains("Báo Ninh Thuận"));
    let text = render_text(&old);
    assert!(text.contains("Tổng số tin bài: 42 (tuần trước: 37)"));
    assert!(
        text.contains("1. t (2 tin bài, 2 nguồn)\n   - A: https://a.vn/1\n   - B: https://b.vn/2"),
        "{text}"
    );

    // A range: no week, comparison a year before.
    let mut input = fixed_input();
    input.period = Period::range(date(2023, 3, 1), date(2023, 3, 31)).expect("valid");
    let r = build_digest(&input);
    assert_eq!(r.week, None);
    assert_eq!(r.total, 6);
    assert_eq!(r.previous_total, 0);
    assert_eq!(r.period.previous_label, "2022-03-01..2022-03-31");
    assert!(
        serde_json::to_string(&r)
            .expect("serialises")
            .starts_with(r#"{"week":null,"from":"2023-03-01","to":"2023-03-31""#)
    );
}

// --- rendering --------------------------------------------------------------------

fn check_snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/digest/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    if actual != expected {
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or(actual.lines().count().min(expected.lines().count()));
        panic!(
            "snapshot {name} differs at line {}:\n  actual:   {:?}\n  expected: {:?}\n(UPDATE_SNAPSHOTS=1 rewrites it)",
            line + 1,
            actual.lines().nth(line),
            expected.lines().nth(line)
        );
    }
}

#[test]
fn text_snapshot() {
    let d = build_digest(&fixed_input());
    let text = render_text(&d);
    assert!(text.contains("BẢN TIN ĐIỂM BÁO TUẦN 11/2023 (13/03–19/03/2023)"));
    assert!(text.contains("Tổng số tin bài: 5 (tuần trước: 4)"));
    check_snapshot("digest_text.txt", &text);
}

#[test]
fn html_snapshot() {
    let d = build_digest(&fixed_input());
    let html = render_html(&d);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Sở Thông tin và Truyền thông tỉnh Ninh Thuận"));
    assert!(!html.contains("<style"));
    assert!(!html.contains("class="));
    check_snapshot("digest_html.html", &html);
    check_snapshot("digest_chart.svg", &render_chart_svg(&d));
}

#[test]
fn range_and_cross_year_headings() {
    let mut input = fixed_input();
    input.period = Period::range(date(2023, 3, 1), date(2023, 3, 31)).expect("valid");
    let text = render_text(&build_digest(&input));
    assert!(
        text.contains("BẢN TIN ĐIỂM BÁO TỪ NGÀY 01/03/2023 ĐẾN NGÀY 31/03/2023"),
        "{text}"
    );
    assert!(text.contains("Tổng số tin bài: 6 (cùng kỳ năm trước: 0)"));
    assert!(text.contains("Cùng kỳ"));
    input.period = Period::iso_week(2020, 53).expect("valid");
    let text = render_text(&build_digest(&input));
    assert!(text.contains("BẢN TIN ĐIỂM BÁO TUẦN 53/2020 (28/12/2020–03/01/2021)"));
    // A long range charts weeks, not days.
    input.period = Period::range(date(2023, 1, 1), date(2023, 12, 31)).expect("valid");
    let svg = render_chart_svg(&build_digest(&input));
    assert!(svg.contains(">13/03<") || svg.contains("12/03"));
    assert!(svg.ends_with("</svg>"));
}

#[test]
fn hostile_text_is_escaped() {
    let mut input = fixed_input();
    input.office = "Sở <b>TT&TT</b>".into();
    let d0 = &mut input.current[0];
    d0.title = "<script>alert('x')</script> \"quoted\" <img src=x onerror=alert(1)>".into();
    d0.url = "javascript:alert(document.cookie)".into();
    input.current[1].url = "https://example.vn/a?b=\"><script>alert(1)</script>".into();
    input.current[1].source = "<svg onload=alert(1)>".into();
    input.health[1].last_error = Some("<iframe src=javascript:alert(1)>".into());
    input.topics[0].title = "</td></tr><script>x</script>".into();
    let d = build_digest(&input);
    let html = render_html(&d);
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{html}");
    assert!(!lower.contains("<img"));
    assert!(!lower.contains("<iframe"));
    assert!(!lower.contains("<svg onload"));
    assert!(!lower.contains("href=\"javascript"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;quoted&quot;"));
    assert!(html.contains("Sở &lt;b&gt;TT&amp;TT&lt;/b&gt;"));
    // The quote in the https URL is percent-encoded in the href.
    assert!(
        html.contains("href=\"https://example.vn/a?b=%22%3E%3Cscript%3Ealert(1)%3C/script%3E\""),
        "{html}"
    );
    let svg = render_chart_svg(&d).to_ascii_lowercase();
    assert!(!svg.contains("<svg onload"));
    // Plain text keeps the words but not the line structure attacks.
    input.current[0].title = "Tiêu đề\n\nGiả mạo: mục mới\u{202E}".into();
    let text = render_text(&build_digest(&input));
    assert!(text.contains("Tiêu đề Giả mạo: mục mới"));
    assert!(!text.contains('\u{202E}'));
}

#[test]
fn safe_hrefs() {
    assert_eq!(
        safe_href(" https://a.vn/x y "),
        Some("https://a.vn/x%20y".into())
    );
    assert_eq!(safe_href("HTTP://A.VN"), Some("http://a.vn/".into()));
    for bad in [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\u{0}script:alert(1)",
        "data:text/html,<script>",
        "vbscript:x",
        "//evil.example/x",
        "/relative",
        "file:///etc/passwd",
    ] {
        assert_eq!(safe_href(bad), None, "{bad:?}");
    }
    assert_eq!(
        escape_html("<a href='x'>&\"</a>"),
        "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
    );
}

fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "<script>",
        "</script>",
        "<SCRIPT",
        "<scr",
        "ipt>",
        "<",
        ">",
        "\"",
        "'",
        "&",
        "javascript:",
        "<img src=x onerror=alert(1)>",
        "Tin ",
        "báo ",
        "\u{202E}",
        "\n",
        "\0",
        "<!--",
        "-->",
        "]]>",
        "&lt;",
        "<sCrIpT src=//x>",
        "< script>",
    ]);
    prop::collection::vec(
        prop_oneof![pieces.prop_map(str::to_owned), any::<String>()],
        0..12,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn html_never_emits_unescaped_script(
        title in hostile(), source in hostile(), url in hostile(), office in hostile(),
        topic in hostile(), error in hostile(),
    ) {
        let mut input = fixed_input();
        input.office = office;
        input.current[0].title = title.clone();
        input.current[1].title = title;
        input.current[1].source = source.clone();
        input.current[4].url = url.clone();
        input.current[0].url = format!("https://x.vn/{url}");
        input.topics[0].title = topic;
        input.health[1].last_error = Some(error);
        input.health[1].name = source;
        let d = build_digest(&input);
        let html = render_html(&d).to_ascii_lowercase();
        prop_assert!(!html.contains("<script"), "{}", html);
        prop_assert!(!html.contains("href=\"javascript"));
        prop_assert!(!html.contains("<img"));
        let svg = render_chart_svg(&d).to_ascii_lowercase();
        prop_assert!(!svg.contains("<script"));
        for href in html.split("href=\"").skip(1) {
            prop_assert!(href.starts_with("http://") || href.starts_with("https://"), "{}", href);
        }
    }
}
