//! Tests of the rule language: parser, file errors, matching semantics and
//! properties. Every case is written here; nothing is read from disk.

use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;

use super::*;

// ---------------------------------------------------------------------------
// helpers

fn q(query: &str) -> String {
    match parse_query(query) {
        Ok(parsed) => parsed.to_string(),
        Err(e) => panic!("{query:?} does not parse: {e}"),
    }
}

fn q_err(query: &str) -> QueryError {
    match parse_query(query) {
        Ok(parsed) => panic!("{query:?} parses as {parsed}"),
        Err(e) => e,
    }
}

fn rules_err(toml: &str) -> RuleError {
    match parse_rules(toml) {
        Ok(set) => panic!("rules load ({} rules)", set.len()),
        Err(e) => e,
    }
}

fn rule_file(rules: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (id, query) in rules {
        out.push_str(&format!(
            "[[rule]]\nid = \"{id}\"\ncategory = \"test\"\nseverity = \"high\"\nquery = '{query}'\n\n"
        ));
    }
    out
}

fn set(rules: &[(&str, &str)]) -> RuleSet {
    match parse_rules(&rule_file(rules)) {
        Ok(set) => set,
        Err(e) => panic!("{e}"),
    }
}

fn doc<'a>(title: &'a str, text: &'a str) -> DocFields<'a> {
    DocFields {
        title,
        text,
        source: "Báo Ninh Thuận",
        url: "https://baoninhthuan.example.vn/thoi-su/a-1.html",
    }
}

/// Whether the single query fires on a text (title empty).
fn fires(query: &str, text: &str) -> bool {
    !set(&[("r", query)]).evaluate(&doc("", text)).is_empty()
}

fn fired(rules: &RuleSet, d: &DocFields<'_>) -> Vec<String> {
    rules.evaluate(d).into_iter().map(|m| m.rule).collect()
}

fn nfd(s: &str) -> String {
    s.nfd().collect()
}

// ---------------------------------------------------------------------------
// parser

#[test]
fn parses_every_operator() {
    assert_eq!(q("a OR b"), "(a OR b)");
    assert_eq!(q("a AND b"), "(a AND b)");
    assert_eq!(q("a b"), "(a AND b)");
    assert_eq!(q("a NOT b"), "(a AND -b)");
    assert_eq!(q("a -b"), "(a AND -b)");
    assert_eq!(q("a AND NOT b"), "(a AND -b)");
    assert_eq!(q("a NEAR/5 b"), "(a NEAR/5 b)");
    assert_eq!(q("a ONEAR/12 b"), "(a ONEAR/12 b)");
    assert_eq!(q("title:a"), "title:a");
    assert_eq!(
        q("url:facebook text:(a OR b)"),
        "(url:facebook AND text:(a OR b))"
    );
    assert_eq!(
        q("-source:\"báo nhân dân\" x"),
        "(-source:\"báo nhân dân\" AND x)"
    );
    assert_eq!(q("\"nhận quà\"~2"), "\"nhận quà\"~2");
    assert_eq!(q("\"nhận quà\"~0"), "\"nhận quà\"");
    assert_eq!(q("nhacai*"), "nhacai*");
    assert_eq!(q("\"nhà cái*\""), "\"nhà cái*\"");
    assert_eq!(q("((a))"), "a");
    // A word with punctuation is a phrase of its syllables.
    assert_eq!(q("covid-19"), "\"covid 19\"");
    assert_eq!(
        q("url:https://www.facebook.com"),
        "url:\"https www facebook com\""
    );
}

#[test]
fn precedence_follows_the_grammar() {
    // or < and < not < near
    assert_eq!(q("a OR b c"), "(a OR (b AND c))");
    assert_eq!(q("a b OR c"), "((a AND b) OR c)");
    assert_eq!(q("a NEAR/8 b NOT c"), "((a NEAR/8 b) AND -c)");
    assert_eq!(q("a OR b NOT c"), "(a OR (b AND -c))");
    assert_eq!(q("a NEAR/1 b NEAR/2 c"), "((a NEAR/1 b) NEAR/2 c)");
    assert_eq!(
        q("(a OR b) NEAR/3 (c AND d) NOT e NOT f"),
        "(((a OR b) NEAR/3 (c AND d)) AND -e AND -f)"
    );
    assert_eq!(q("a AND b AND c OR d OR e"), "((a AND b AND c) OR d OR e)");
}

#[test]
fn lower_case_operators_are_words() {
    assert_eq!(q("a or b"), "(a AND or AND b)");
    assert_eq!(
        q("a and b not c near d"),
        "(a AND and AND b AND not AND c AND near AND d)"
    );
    assert_eq!(q("Or"), "Or");
    // Operators as words: quoted, or glued to punctuation.
    assert_eq!(q("\"OR\" x"), "(\"OR\" AND x)");
    assert_eq!(q("~NEAR/"), "\"NEAR\"");
    // As words they match.
    assert!(fires("hoặc or", "chọn hoặc or gì đó"));
}

#[test]
fn query_errors_point_at_the_offending_character() {
    let cases: [(&str, usize, &str); 22] = [
        ("\"việc nhẹ", 0, "unterminated"),
        ("(a OR b", 0, "unclosed"),
        ("a OR b)", 6, "unmatched"),
        ("a NEAR b", 2, "needs a distance"),
        ("a NEAR/x b", 7, "number"),
        ("a ONEAR/ b", 8, "number"),
        ("\"a b\"~ c", 5, "number after `~`"),
        ("a OR", 4, "end of the query"),
        ("OR a", 0, "expected a term"),
        ("a AND", 5, "end of the query"),
        ("a NEAR/3", 8, "end of the query"),
        ("titel:a", 0, "unknown field"),
        ("- a", 0, "followed by a term"),
        ("a --b", 3, "expected a term"),
        ("-a", 0, "positive term"),
        ("NOT a", 0, "positive term"),
        ("a OR -b", 5, "positive term"),
        ("a NEAR/3 -b", 9, "positive term"),
        ("a*b", 1, "end of a word"),
        ("a -*", 3, "`*` must follow"),
        ("()", 1, "expected a term"),
        ("\"  \"", 0, "empty phrase"),
    ];
    for (query, offset, message) in cases {
        let e = q_err(query);
        assert_eq!(e.offset, offset, "{query:?}: {e}");
        assert!(e.message.contains(message), "{query:?}: {e}");
    }
    assert!(q_err("").message.contains("end of the query"));
    assert!(q_err("&&").message.contains("no letters"));
    let deep = format!("{}a{}", "(".repeat(200), ")".repeat(200));
    assert!(q_err(&deep).message.contains("nested"));
    let chain = format!("a{}", " NEAR/1 a".repeat(10_000));
    assert!(q_err(&chain).message.contains("nested"));
    let ok = format!("a{}", " NEAR/1 a".repeat(20));
    assert!(parse_query(&ok).is_ok());
}

#[test]
fn negations_beside_positive_terms_are_allowed() {
    assert_eq!(q("(a -b) NEAR/3 c"), "((a AND -b) NEAR/3 c)");
    assert_eq!(q("title:(a -b)"), "title:(a AND -b)");
    assert_eq!(q("a title:(-b)"), "(a AND title:(-b))");
    assert_eq!(q("title:(url:a)"), "title:(url:a)");
    assert!(fires("(a -b) NEAR/3 c", "a x c"));
    assert!(!fires("(a -b) NEAR/3 c", "a x c b"));
}

// ---------------------------------------------------------------------------
// rules.toml

#[test]
fn reads_a_rule_file() {
    let text = r#"
# comment
[[rule]]
id = "scam-1"
category = "fraud"
severity = "high"
query = '"việc nhẹ lương cao" NEAR/8 "đặt cọc"'

[[rule]]
id = "storm"
category = "fakenews"
severity = "low"
query = "title:bão"
fields = ["text"]
"#;
    let rules = match parse_rules(text) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    let list = rules.rules();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id, "scam-1");
    assert_eq!(list[0].severity, Severity::High);
    assert_eq!(list[0].fields, [Field::Title, Field::Text]);
    assert_eq!(list[0].line, 3);
    assert_eq!(list[1].fields, [Field::Text]);
    assert_eq!(list[1].severity, Severity::Low);
    assert_eq!(list[1].query, "title:bão");
    assert!(parse_rules("").is_ok_and(|r| r.is_empty()));
    assert!(parse_rules("# nothing\n").is_ok_and(|r| r.is_empty()));
}

#[test]
fn query_errors_have_file_line_and_column() {
    // Literal string: column of the offending character in the file.
    let text = "[[rule]]\nid = \"r1\"\ncategory = \"c\"\nseverity = \"low\"\n\
                query = '(a OR b) NEAR/x c'\n";
    let e = rules_err(text);
    assert_eq!(e.rule_id.as_deref(), Some("r1"));
    assert_eq!((e.line, e.column), (5, 24), "{e}");
    assert!(e.message.contains("number"));

    // Basic string with escapes before the error, and a wide character.
    let text = "[[rule]]\nid = \"r2\"\ncategory = \"c\"\nseverity = \"low\"\n\
                query = \"\\\"bão\\\" \\u0062 OR\"\n";
    let e = rules_err(text);
    assert_eq!(e.rule_id.as_deref(), Some("r2"));
    // query = "\"bão\" \u0062 OR"  -> the end of the query is the closing quote.
    assert_eq!((e.line, e.column), (5, 27), "{e}");

    // Multi-line literal string: the error on the query's second line.
    let text = "[[rule]]\nid = \"r3\"\ncategory = \"c\"\nseverity = \"low\"\n\
                query = '''\n(a OR b)\n  NEAR/3 \"c d\n'''\n";
    let e = rules_err(text);
    assert_eq!(e.rule_id.as_deref(), Some("r3"));
    assert_eq!((e.line, e.column), (7, 10), "{e}");
    assert!(e.message.contains("unterminated"));

    // Multi-line basic string with a line-ending backslash.
    let text = "[[rule]]\nid = \"r4\"\ncategory = \"c\"\nseverity = \"low\"\n\
                query = \"\"\"a OR \\\n     b OR\"\"\"\n";
    let e = rules_err(text);
    assert_eq!((e.line, e.column), (6, 10), "{e}");
}

#[test]
fn file_errors_name_the_rule_and_place() {
    let good = "[[rule]]\nid = \"ok\"\ncategory = \"c\"\nseverity = \"low\"\nquery = 'a'\n";
    let cases: [(&str, Option<&str>, usize, usize, &str); 10] = [
        (
            "[[rule]]\nid = \"x\"\ncategory = \"c\"\nseverity = \"low\"\nquery = 'a'\ncolor = 1\n",
            Some("x"),
            6,
            1,
            "unknown key `color`",
        ),
        (
            "[[rule]]\nid = \"x\"\ncategory = \"c\"\nquery = 'a'\n",
            Some("x"),
            1,
            1,
            "missing `severity`",
        ),
        ("[[rule]]\ncategory = \"c\"\n", None, 1, 1, "missing `id`"),
        (
            "[[rule]]\nid = \"x\"\ncategory = \"c\"\nseverity = \"urgent\"\nquery = 'a'\n",
            Some("x"),
            4,
            12,
            "unknown severity",
        ),
        (
            "[[rule]]\nid = \"Bad_Id\"\ncategory = \"c\"\nseverity = \"low\"\nquery = 'a'\n",
            Some("Bad_Id"),
            2,
            6,
            "lower-case",
        ),
        (
            "[[rule]]\nid = \"ok\"\ncategory = \"c\"\nseverity = \"low\"\nquery = 'b'\n",
            Some("ok"),
            2,
            6,
            "duplicate",
        ),
        (
            "[[rule]]\nid = \"x\"\ncategory = \"c\"\nseverity = \"low\"\nquery = 'a'\nfields = [\"body\"]\n",
            Some("x"),
            6,
            11,
            "unknown field",
        ),
        (
            "[[rule]]\nid = \"x\"\ncategory = \"c\"\nseverity = \"low\"\nquery = 'a'\nfields = []\n",
            Some("x"),
            6,
            10,
            "at least one",
        ),
        (
            "[[rule]]\nid = \"x\"\ncategory = \"c\"\nseverity = 3\nquery = 'a'\n",
            Some("x"),
            4,
            12,
            "must be a string",
        ),
        (
            "[[rule]]\nid = \"x\"\ncategory = \"c\"\nseverity = \"low\"\nquery = 'a\n",
            Some("x"),
            5,
            11,
            "literal string",
        ),
    ];
    for (i, (bad, id, line, column, message)) in cases.into_iter().enumerate() {
        // A good rule first: any error rejects the whole file.
        let text = format!("{good}\n{bad}");
        let e = rules_err(&text);
        assert_eq!(e.rule_id.as_deref(), id, "case {i}: {e}");
        assert_eq!((e.line, e.column), (line + 6, column), "case {i}: {e}");
        assert!(e.message.contains(message), "case {i}: {e}");
    }
    let e = rules_err("[rule]\nid = \"x\"\n");
    assert!(e.message.contains("array of tables"), "{e}");
    let e = rules_err("title = \"x\"\n");
    assert_eq!((e.line, e.column, e.rule_id.as_deref()), (1, 1, None));
    assert!(e.display_in("rules.toml").starts_with("rules.toml:1:1: "));
    let e = rules_err(&rule_file(&[("r", "a OR")]));
    assert_eq!(
        e.display_in("f.toml"),
        "f.toml:5:14: rule `r`: expected a term, found the end of the query"
    );
}

#[test]
fn from_rules_reports_query_columns() {
    let rule = |id: &str, query: &str| Rule {
        id: id.to_owned(),
        category: "c".to_owned(),
        severity: Severity::Medium,
        query: query.to_owned(),
        fields: vec![Field::Title, Field::Text],
        line: 0,
    };
    let Err(e) = RuleSet::from_rules(vec![rule("a", "bão OR")]) else {
        panic!("accepted");
    };
    assert_eq!((e.line, e.column, e.rule_id.as_deref()), (1, 7, Some("a")));
    let Ok(rules) = RuleSet::from_rules(vec![rule("a", "bão"), rule("b", "báo")]) else {
        panic!("rejected");
    };
    assert_eq!(fired(&rules, &doc("", "Cơn BÃO số 3")), ["a"]);
    assert!(RuleSet::from_rules(vec![rule("a", "x"), rule("a", "y")]).is_err());
}

#[test]
fn fingerprint_ignores_layout_only() {
    let a = parse_rules(&rule_file(&[("r", "\"Hoà bình\"  OR  x")])).map(|r| r.fingerprint());
    let b = parse_rules(
        "[[rule]] # same rule, other layout\nseverity = \"high\"\nid = \"r\"\n\
         category = \"test\"\nquery = \"\\\"hòa bình\\\" OR (x)\"\n",
    )
    .map(|r| r.fingerprint());
    let c = parse_rules(&rule_file(&[("r", "\"Hoà bình\" AND x")])).map(|r| r.fingerprint());
    assert!(a.is_ok());
    assert_eq!(a, b);
    assert_ne!(a, c);
}

// ---------------------------------------------------------------------------
// matching semantics

#[test]
fn accents_distinguish_words_unless_the_document_has_none() {
    // An accented rule word matches itself in any case, form and tone
    // placement, and unaccented document words; never another accented word.
    assert!(fires("bão", "Cơn bão số 3"));
    assert!(fires("bão", "CƠN BÃO SỐ 3"));
    assert!(fires("bão", &nfd("Cơn bão số 3")));
    assert!(fires("bão", "con bao so 3"));
    assert!(!fires("bão", "Báo Ninh Thuận đưa tin"));
    assert!(!fires("báo", "Cơn bão số 3"));
    assert!(fires("\"hòa bình\"", "Hoà Bình"));
    assert!(fires("\"hoà bình\"", "hòa bình"));
    assert!(fires("thủy", "THUỶ lợi"));
    assert!(fires("sđt", "gui sdt cho minh"));
    assert!(!fires("\"cá độ\"", "bán cá đỏ tươi"));
    assert!(fires("\"cá độ\"", "ca do bong da"));
    // An unaccented rule word matches every form.
    assert!(fires("bao", "Báo Ninh Thuận"));
    assert!(fires("bao", "cơn bão"));
    assert!(fires("bao", "bao nhiêu"));
    // Partly accented document words are accented words.
    assert!(!fires("\"đặt cọc\"", "đat coc"));
}

#[test]
fn phrases_are_consecutive_within_a_sentence() {
    assert!(fires(
        "\"việc nhẹ lương cao\"",
        "tuyển gấp, việc nhẹ, lương cao!"
    ));
    assert!(!fires("\"việc nhẹ lương cao\"", "việc nhẹ. Lương cao"));
    assert!(!fires("\"việc nhẹ lương cao\"", "việc nhẹ mà lương cao"));
    assert!(!fires("\"nhận quà\"", "nhận\nquà"));
    // ~N: up to N extra words, in order.
    assert!(fires("\"nhận quà\"~2", "nhận phần quà"));
    assert!(fires("\"nhận quà\"~2", "nhận ngay phần quà"));
    assert!(!fires("\"nhận quà\"~2", "nhận ngay một phần quà"));
    assert!(!fires("\"nhận quà\"~2", "quà nhận"));
    assert!(!fires("\"nhận quà\"~2", "nhận. Quà"));
    assert!(fires("\"a b c\"~1", "a b x c"));
    assert!(!fires("\"a b c\"~1", "a x b x c"));
}

#[test]
fn near_counts_words_between_in_one_sentence() {
    let q = "\"cộng tác viên\" NEAR/3 \"chuyển khoản\"";
    assert!(fires(q, "cộng tác viên chuyển khoản"));
    assert!(fires(q, "cộng tác viên cần một ít chuyển khoản"));
    assert!(!fires(q, "cộng tác viên cần một ít tiền chuyển khoản"));
    assert!(fires(q, "chuyển khoản trước cho cộng tác viên"));
    // Never across a sentence end, however close.
    assert!(!fires(q, "tuyển cộng tác viên. Chuyển khoản trước"));
    assert!(!fires(q, "tuyển cộng tác viên\nchuyển khoản trước"));
    assert!(!fires("a NEAR/5000 b", "a. b"));
    // Never across fields.
    let rules = set(&[("r", q)]);
    assert!(fired(&rules, &doc("Tuyển cộng tác viên", "chuyển khoản trước")).is_empty());
    // Distinct occurrences.
    assert!(!fires("a NEAR/3 a", "a"));
    assert!(fires("a NEAR/3 a", "a x a"));
}

#[test]
fn onear_keeps_order() {
    let q = "\"công an\" ONEAR/5 (OTP OR \"chuyển tiền\")";
    assert!(fires(q, "giả danh công an yêu cầu đọc mã OTP"));
    assert!(!fires(q, "chuyển tiền xong thì công an gọi"));
    assert!(fires(
        q,
        "chuyển tiền xong thì công an bảo chuyển tiền tiếp"
    ));
    assert!(!fires(q, "công an. OTP"));
}

#[test]
fn groups_in_near() {
    // OR: any alternative's occurrence.
    assert!(fires("(mưa OR bão) NEAR/1 (lớn OR to)", "cơn bão rất to"));
    // AND: both sides must occur; each side's occurrences count.
    let q = "(\"trúng thưởng\" AND \"tri ân\") NEAR/2 \"phí vận chuyển\"";
    assert!(fires(
        q,
        "tri ân khách. Trúng thưởng rồi, trả phí vận chuyển"
    ));
    assert!(!fires(q, "trúng thưởng rồi, trả phí vận chuyển"));
    // NEAR: the covering span of each pair.
    let q = "(a NEAR/1 b) NEAR/2 c";
    assert!(fires(q, "a x b y y c"));
    assert!(fires(q, "c y y a b"));
    assert!(!fires(q, "a x b y y y c"));
    let q = "(a NEAR/1 b) ONEAR/0 c";
    assert!(fires(q, "b a c"));
    assert!(!fires(q, "c b a"));
}

#[test]
fn prefixes() {
    assert!(fires("nhacai*", "#nhacaiuytin nạp ngay"));
    assert!(fires("kubet*", "KUBET88 link"));
    assert!(fires("kubet*", "Kubet"));
    assert!(!fires("kubet*", "akubet"));
    assert!(fires("vac*", "tiêm vắc xin"));
    assert!(fires("vac*", "vaccine"));
    // An accented prefix compares accented, except with unaccented words.
    assert!(fires("vắc*", "vắc-xin"));
    assert!(!fires("vắc*", "vác đồ"));
    assert!(fires("vắc*", "vacxin"));
    assert!(fires("\"nhà cái*\"", "nhà cáiuytin"));
    assert!(fires("\"tài xỉu\" NEAR/2 link*", "tài xỉu, links ở đây"));
}

#[test]
fn fields_scope_terms() {
    let rules = set(&[("storm", "title:(bão OR \"siêu bão\") AND \"khẩn cấp\"")]);
    assert_eq!(
        fired(&rules, &doc("SIÊU BÃO sắp đổ bộ", "khẩn cấp di dời")),
        ["storm"]
    );
    assert_eq!(fired(&rules, &doc("bao so 5", "khan cap")), ["storm"]);
    assert!(fired(&rules, &doc("Tin mới", "bão sắp đổ bộ, khẩn cấp")).is_empty());
    assert!(fired(&rules, &doc("Báo động", "khẩn cấp")).is_empty());

    let rules = set(&[
        ("fb", "url:facebook AND \"tòa soạn\""),
        ("src", "source:\"ninh thuận\" bão"),
    ]);
    let mut d = doc("", "Liên hệ toà soạn");
    d.url = "https://www.facebook.com/tin.nong/posts/1";
    assert_eq!(fired(&rules, &d), ["fb"]);
    d.url = "https://baoninhthuan.example.vn/toa-soan.html";
    assert!(fired(&rules, &d).is_empty());
    // source: looks at the source name only; unscoped terms never do.
    assert_eq!(fired(&rules, &doc("", "bão")), ["src"]);
    assert!(fired(&set(&[("s", "thuận")]), &doc("", "x")).is_empty());

    // The rule's fields limit unscoped terms, not scoped ones.
    let text = "[[rule]]\nid = \"t\"\ncategory = \"c\"\nseverity = \"low\"\n\
                query = 'bão text:\"khẩn cấp\"'\nfields = [\"title\"]\n";
    let Ok(rules) = parse_rules(text) else {
        panic!("rules");
    };
    assert_eq!(fired(&rules, &doc("bão", "khẩn cấp")), ["t"]);
    assert!(fired(&rules, &doc("x", "bão khẩn cấp")).is_empty());
}

#[test]
fn negations_exclude_the_document() {
    let q = "\"cộng tác viên\" NEAR/10 \"hoa hồng\" NOT (\"cảnh báo\" OR \"thủ đoạn\")";
    assert!(fires(q, "Tuyển cộng tác viên, hoa hồng 20%."));
    assert!(!fires(
        q,
        "Tuyển cộng tác viên, hoa hồng 20%. Cảnh báo: lừa đảo."
    ));
    assert!(!fires(q, "Thu doan moi: tuyen cong tac vien, hoa hong cao"));
    let q = "\"trúng thưởng\" -\"cảnh giác\" -\"mạo danh\"";
    assert!(fires(q, "Bạn đã trúng thưởng"));
    assert!(!fires(q, "Bạn đã trúng thưởng? Hãy cảnh giác!"));
    // The negated term looks in the rule's fields: title too.
    let rules = set(&[("r", q)]);
    assert!(fired(&rules, &doc("Mạo danh ngân hàng", "trúng thưởng")).is_empty());
}

#[test]
fn matches_report_terms_and_offsets() {
    let rules = set(&[
        (
            "scam",
            "(\"việc nhẹ lương cao\" OR \"làm tại nhà\") NEAR/10 (\"đặt cọc\" OR \"hoa hồng\")",
        ),
        ("a-first", "\"làm tại nhà\""),
    ]);
    let title = "Làm tại nhà";
    let text = "Viec nhe luong cao, chỉ cần Đặt cọc 200k, hoa hồng 20%. Làm tại nhà.";
    let matches = rules.evaluate(&doc(title, text));
    let ids: Vec<&str> = matches.iter().map(|m| m.rule.as_str()).collect();
    assert_eq!(ids, ["a-first", "scam"]);
    let scam = &matches[1];
    assert_eq!(scam.category, "test");
    assert_eq!(scam.severity, Severity::High);
    assert_eq!(scam.terms, ["Viec nhe luong cao", "Đặt cọc", "hoa hồng"]);
    for (field, start, end) in &scam.offsets {
        assert_eq!(*field, Field::Text);
        assert!(scam.terms.iter().any(|t| t == &text[*start..*end]));
    }
    // Deduplicated terms (same text) but every offset.
    let first = &matches[0];
    assert_eq!(first.terms, ["Làm tại nhà"]);
    assert_eq!(first.offsets.len(), 2);
    assert_eq!(first.offsets[0], (Field::Title, 0, title.len()));
    // Slop phrases report the whole stretch.
    let m = set(&[("q", "\"nhận quà\"~2")]).evaluate(&doc("", "Mời nhận phần quà"));
    assert_eq!(m[0].terms, ["nhận phần quà"]);
}

/// A small policy set in the style of the project's rule files, with
/// positive and hard-negative documents.
#[test]
fn representative_cases() {
    let rules = set(&[
        (
            "recruit",
            "(\"việc nhẹ lương cao\" OR \"cộng tác viên\") NEAR/10 (\"chuyển khoản\" OR \"đặt cọc\") NOT (\"cảnh báo\" OR \"thủ đoạn\")",
        ),
        (
            "prize",
            "(\"trúng thưởng\" OR \"nhận quà\"~2) NEAR/12 (\"phí vận chuyển\" OR \"nộp thuế\") -\"cảnh giác\"",
        ),
        (
            "police",
            "(\"công an\" OR \"viện kiểm sát\") ONEAR/15 (OTP OR \"chuyển tiền\") NOT \"không bao giờ\"",
        ),
        (
            "betting",
            "(\"nhà cái\" OR \"cá độ\" OR nhacai*) NEAR/10 (\"đăng ký\" OR nạp OR link) NOT \"triệt phá\"",
        ),
        (
            "storm",
            "title:(bão OR \"áp thấp\") AND (\"chia sẻ gấp\" OR \"khẩn cấp\") NOT \"công điện\"",
        ),
        (
            "press",
            "url:facebook AND (\"tòa soạn\" OR \"ban biên tập\") AND (\"phóng viên\" OR \"thẻ nhà báo\")",
        ),
    ]);
    let fb = "https://www.facebook.com/some.page/posts/1";
    let news = "https://baoninhthuan.example.vn/thoi-su/tin-1.html";
    let cases: [(&str, &str, &str, &[&str]); 14] = [
        (
            fb,
            "Tuyển gấp",
            "Việc nhẹ lương cao, chỉ cần đặt cọc 200k.",
            &["recruit"],
        ),
        (
            fb,
            "ae oi",
            "viec nhe luong cao, chuyen khoan truoc 100k",
            &["recruit"],
        ),
        (
            news,
            "Cảnh báo",
            "Thủ đoạn tuyển cộng tác viên rồi bắt chuyển khoản.",
            &[],
        ),
        (
            news,
            "Tuyển dụng",
            "Cần cộng tác viên bán hàng. Lương trả qua chuyển khoản hằng tháng vào ngày mười lăm.",
            &[],
        ),
        (
            fb,
            "TRI ÂN",
            "Chúc mừng bạn nhận một phần quà, chỉ trả phí vận chuyển 30k",
            &["prize"],
        ),
        (
            fb,
            "Trúng thưởng",
            "Bạn trúng thưởng, nộp thuế trước. Hãy cảnh giác với tin này!",
            &[],
        ),
        (
            fb,
            "",
            "Tôi là cán bộ CÔNG AN, anh đọc mã OTP cho tôi",
            &["police"],
        ),
        (fb, "", "Chuyển tiền rồi mới thấy công an gọi", &[]),
        (fb, "", "#nhacaiuytin đăng ký nhận 100k", &["betting"]),
        (fb, "", "Bán cá đỏ, đăng ký mua sỉ", &[]),
        (fb, "SIÊU BÃO SỐ 9", "Chia sẻ gấp cho bà con!", &["storm"]),
        (news, "Báo động đỏ", "Khẩn cấp di dời", &[]),
        (
            fb,
            "",
            "Toà soạn tuyển phóng viên, cấp thẻ nhà báo",
            &["press"],
        ),
        (news, "", "Tòa soạn gặp mặt phóng viên", &[]),
    ];
    for (url, title, text, want) in cases {
        let d = DocFields {
            title,
            text,
            source: "x",
            url,
        };
        assert_eq!(fired(&rules, &d), want, "{title} / {text}");
        let decomposed = (nfd(title), nfd(text));
        let d = DocFields {
            title: &decomposed.0,
            text: &decomposed.1,
            source: "x",
            url,
        };
        assert_eq!(fired(&rules, &d), want, "NFD {title} / {text}");
    }
}

#[test]
fn empty_documents_and_rule_sets() {
    let rules = set(&[("r", "a")]);
    assert!(rules.evaluate(&DocFields::default()).is_empty());
    let Ok(empty) = parse_rules("") else {
        panic!("empty file");
    };
    assert!(empty.evaluate(&doc("a", "b")).is_empty());
}

// ---------------------------------------------------------------------------
// properties

const QUERY_PIECES: [&str; 24] = [
    "a",
    "bão",
    "\"cá độ\"",
    "\"nhận quà\"~2",
    "nhacai*",
    "(",
    ")",
    " OR ",
    " AND ",
    " NOT ",
    " NEAR/3 ",
    " ONEAR/2 ",
    "-",
    "title:",
    "url:",
    "\"",
    "~",
    "*",
    " ",
    "or",
    "NEAR/",
    ":",
    "b",
    "\n",
];

fn query_like() -> impl Strategy<Value = String> {
    prop::collection::vec(0..QUERY_PIECES.len(), 0..16)
        .prop_map(|parts| parts.into_iter().map(|i| QUERY_PIECES[i]).collect())
}

const TEXT_PIECES: [&str; 20] = [
    "bão",
    "báo",
    "bao",
    "cá",
    "độ",
    "đỏ",
    "a",
    "b",
    "c",
    "nhacaiuytin",
    "x",
    ". ",
    "\n",
    " ",
    ", ",
    "BÃO",
    "ca do",
    "Thuỷ",
    "!",
    "1.500",
];

fn text_like() -> impl Strategy<Value = String> {
    prop::collection::vec(0..TEXT_PIECES.len(), 0..40).prop_map(|parts| {
        let mut s = String::new();
        for i in parts {
            s.push_str(TEXT_PIECES[i]);
            s.push(' ');
        }
        s
    })
}

#[test]
fn the_prefilter_passes_what_fires_and_drops_what_cannot() {
    let rules = set(&[
        ("price", "\"25.000 đồng\""),
        ("share", "\"1,5 tỷ\" NEAR/3 chuyển"),
        ("bet", "\"nhà cái\" OR cádộ*"),
    ]);
    let cases = [
        ("Giá vé 25.000 đồng một lượt", vec!["price"]),
        ("Chuyển ngay 1,5 tỷ cho nhà cái", vec!["bet", "share"]),
        ("NHÀ CÁI uy tín", vec!["bet"]),
        ("cádộbóng hôm nay", vec!["bet"]),
        ("Giá vé 25 000 đồng; nhà cáo; 1.5 tỷ", vec![]),
        ("Tin thời tiết: mưa rào ở Phan Rang", vec![]),
    ];
    for (text, expected) in cases {
        let d = doc("", text);
        let filtered: Vec<String> = rules
            .engine
            .evaluate(&d, &rules.rules)
            .into_iter()
            .map(|m| m.rule)
            .collect();
        let mut full: Vec<String> = rules
            .engine
            .evaluate_unfiltered(&d, &rules.rules)
            .into_iter()
            .map(|m| m.rule)
            .collect();
        full.sort();
        let mut sorted = filtered.clone();
        sorted.sort();
        assert_eq!(sorted, full, "{text}");
        assert_eq!(full, expected, "{text}");
    }
    // Plain text is read by the prefilter; other text is always analysed.
    let mut words = String::new();
    assert!(crate::text::fold_plain_words(
        "Giá 25.000 đồng, NHÀ CÁI.",
        &mut words
    ));
    assert_eq!(words, "gia 25.000 dong  nha cai ");
    assert!(!crate::text::fold_plain_words(
        "Hoa\u{0300}",
        &mut String::new()
    ));
    assert!(!crate::text::fold_plain_words(
        "か\u{3099}",
        &mut String::new()
    ));
    assert!(!crate::text::fold_plain_words(
        "a\u{0007}b",
        &mut String::new()
    ));
}

/// Numbers with separators and short words, with Vietnamese letters and capitals.
fn numbers_and_words() -> impl Strategy<Value = String> {
    "([0-9]{1,3}([.,][0-9]{1,3}){0,2}|[a-zđơưâêôăA-ZĐ]{1,4}|Đồng|đồng|[.,;:!?/-]| ){0,16}"
}

fn sample_rules() -> RuleSet {
    set(&[
        ("p1", "bão OR \"cá độ\" OR nhacai*"),
        ("p2", "(a OR b) NEAR/2 (c OR bão) NOT x"),
        ("p3", "(a NEAR/1 b) ONEAR/3 (c AND bão)"),
        ("p4", "\"a b c\"~2 -độ"),
        ("p5", "title:báo AND \"ca do\""),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn parser_never_panics(s in any::<String>()) {
        let _ = parse_query(&s);
        let _ = parse_rules(&s);
        let _ = parse_rules(&rule_file(&[("r", &s.replace('\'', ""))]));
    }

    #[test]
    fn parser_never_panics_on_query_like_input(s in query_like()) {
        match parse_query(&s) {
            // The normal form parses to itself.
            Ok(parsed) => {
                let again = parse_query(&parsed.to_string());
                prop_assert_eq!(again.map(|p| p.to_string()), Ok(parsed.to_string()));
            }
            Err(e) => prop_assert!(e.offset <= s.len()),
        }
        if let Err(e) = parse_rules(&rule_file(&[("r", &s.replace('\'', ""))])) {
            prop_assert!(e.line >= 1 && e.column >= 1);
        }
    }

    #[test]
    fn evaluation_never_panics(title in any::<String>(), text in any::<String>(), url in any::<String>()) {
        let rules = sample_rules();
        let d = DocFields { title: &title, text: &text, source: &url, url: &url };
        for m in rules.evaluate(&d) {
            for (field, start, end) in m.offsets {
                prop_assert!(d.get(field).get(start..end).is_some());
            }
        }
    }

    #[test]
    fn evaluation_ignores_unicode_form(title in text_like(), text in text_like()) {
        let rules = sample_rules();
        let composed = fired(&rules, &doc(&title, &text));
        let (t, x) = (nfd(&title), nfd(&text));
        prop_assert_eq!(fired(&rules, &doc(&t, &x)), composed);
    }

    #[test]
    fn the_prefilter_never_drops_a_match(
        title in prop_oneof![text_like(), any::<String>(), numbers_and_words()],
        text in prop_oneof![text_like(), any::<String>(), numbers_and_words(), text_like().prop_map(|t| nfd(&t))],
        pick in proptest::collection::vec(any::<prop::sample::Index>(), 1..4),
        url in "[a-z0-9:/._-]{0,40}",
    ) {
        // Rules made of the document's own words (so that they fire), fixed ones, and a
        // prefix rule: the prefilter may only pass over documents no rule fires on.
        let words: Vec<&str> = crate::text::tokens(&text)
            .chain(crate::text::tokens(&title))
            .map(|t| t.text)
            .collect();
        let mut rules = vec![
            ("s1", "bão OR \"cá độ\" OR nhacai*".to_string()),
            ("s2", "(a OR b) NEAR/2 (c OR bão) NOT x".to_string()),
            ("s3", "\"25.000 đồng\" OR title:báo".to_string()),
        ];
        if !words.is_empty() {
            let chosen: Vec<String> = pick
                .iter()
                .map(|i| format!("\"{}\"", words[i.index(words.len())].replace('"', "")))
                .collect();
            rules.push(("w1", chosen.join(" OR ")));
            rules.push(("w2", chosen.join(" NEAR/5 ")));
            rules.push(("w3", format!("\"{}\"", chosen.iter().map(|w| w.trim_matches('"')).collect::<Vec<_>>().join(" "))));
            let first = words[pick[0].index(words.len())];
            let prefix: String = first.chars().take(2).collect();
            if !prefix.is_empty() && prefix.chars().all(char::is_alphanumeric) {
                rules.push(("w4", format!("{prefix}*")));
            }
        }
        let file: Vec<(&str, &str)> = rules.iter().map(|(id, q)| (*id, q.as_str())).collect();
        // Words that make no valid rule leave the fixed rules, which always parse.
        let set = parse_rules(&rule_file(&file)).or_else(|_| parse_rules(&rule_file(&file[..3])));
        prop_assert!(set.is_ok(), "{:?}", set.err());
        if let Ok(set) = set {
            let d = DocFields { title: &title, text: &text, source: "", url: &url };
            let filtered: Vec<String> = set.engine.evaluate(&d, &set.rules).into_iter().map(|m| m.rule).collect();
            let full: Vec<String> = set.engine.evaluate_unfiltered(&d, &set.rules).into_iter().map(|m| m.rule).collect();
            prop_assert_eq!(filtered, full);
        }
    }

    #[test]
    fn arbitrary_queries_evaluate(s in query_like(), text in text_like()) {
        if let Ok(rules) = parse_rules(&rule_file(&[("r", &s.replace('\'', ""))])) {
            let _ = rules.evaluate(&doc(&text, &text));
        }
    }
}
