//! `rules.toml`: reading the file, with line and column for every error.

use std::borrow::Cow;
use std::collections::HashMap;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Field, Rule, RuleError, RuleSet, Severity, compile, parse_query};
use crate::error::line_column;

pub(super) const ID_MESSAGE: &str =
    "`id` must be lower-case letters, digits and `-` (as in `scam-recruitment`)";

const KEYS: &str = "id, category, severity, query, fields";

pub(super) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Parses and compiles a `rules.toml` file:
///
/// ```toml
/// [[rule]]
/// id = "scam-recruitment"        # [a-z0-9-]+, unique
/// category = "fraud"
/// severity = "high"              # low | medium | high
/// query = '"việc nhẹ lương cao" NEAR/8 "chuyển khoản" NOT "cảnh báo"'
/// fields = ["title", "text"]     # optional, default both
/// ```
///
/// Any error (TOML syntax, unknown or missing key, bad value, duplicate id,
/// query syntax) rejects the whole file; the error names the rule when known
/// and the line and column in the file (for a query, of the offending
/// character inside the query string).
pub fn parse_rules(toml_text: &str) -> Result<RuleSet, RuleError> {
    let doc = DeTable::parse(toml_text).map_err(|err| {
        let offset = err.span().map_or(0, |s| s.start);
        let (line, column) = line_column(toml_text, offset);
        RuleError {
            rule_id: guess_rule_id(toml_text, offset),
            line,
            column,
            message: err.message().trim().to_owned(),
        }
    })?;
    let at = |offset: usize, rule_id: Option<&str>, message: String| {
        let (line, column) = line_column(toml_text, offset);
        RuleError {
            rule_id: rule_id.map(str::to_owned),
            line,
            column,
            message,
        }
    };
    let mut entries = Vec::new();
    for (key, value) in doc.get_ref().iter() {
        if key.get_ref() != "rule" {
            return Err(at(
                key.span().start,
                None,
                format!(
                    "unknown key `{}`: a rules file holds only [[rule]] tables",
                    key.get_ref()
                ),
            ));
        }
        let DeValue::Array(items) = value.get_ref() else {
            return Err(at(
                value.span().start,
                None,
                "`rule` must be an array of tables: write each rule as [[rule]]".to_owned(),
            ));
        };
        for item in items.iter() {
            let DeValue::Table(table) = item.get_ref() else {
                return Err(at(
                    item.span().start,
                    None,
                    "each rule must be a table ([[rule]])".to_owned(),
                ));
            };
            entries.push((item.span().start, table));
        }
    }
    // File order (the map may be sorted by key).
    entries.sort_by_key(|(start, _)| *start);

    let mut rules = Vec::with_capacity(entries.len());
    let mut queries = Vec::with_capacity(entries.len());
    let mut ids = HashMap::new();
    for (start, table) in entries {
        let rule = read_rule(toml_text, start, table, &mut ids)?;
        let query = table_get(table, "query")
            .ok_or_else(|| at(start, Some(&rule.id), "missing `query`".to_owned()))?;
        let parsed = parse_query(&rule.query).map_err(|e| {
            let offset =
                query.span().start + raw_offset(toml_text, query.span(), &rule.query, e.offset);
            at(offset, Some(&rule.id), e.message)
        })?;
        rules.push(rule);
        queries.push(parsed);
    }
    let engine = compile::Engine::build(&rules, &queries).map_err(|message| RuleError {
        rule_id: None,
        line: 1,
        column: 1,
        message,
    })?;
    Ok(RuleSet { rules, engine })
}

type Table<'i> = DeTable<'i>;

fn table_get<'t, 'i>(table: &'t Table<'i>, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(_, v)| v)
}

/// Reads the keys of one `[[rule]]` table (`header` is the offset of its
/// header) except the query's syntax.
fn read_rule(
    text: &str,
    header: usize,
    table: &Table<'_>,
    ids: &mut HashMap<String, usize>,
) -> Result<Rule, RuleError> {
    let at = |offset: usize, rule_id: Option<&str>, message: String| {
        let (line, column) = line_column(text, offset);
        RuleError {
            rule_id: rule_id.map(str::to_owned),
            line,
            column,
            message,
        }
    };
    let string = |key: &str, id: Option<&str>| -> Result<Option<(String, usize)>, RuleError> {
        match table_get(table, key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Ok(Some((s.to_string(), v.span().start))),
                other => Err(at(
                    v.span().start,
                    id,
                    format!("`{key}` must be a string, not {}", other.type_str()),
                )),
            },
        }
    };

    let id = match string("id", None)? {
        None => return Err(at(header, None, "missing `id`".to_owned())),
        Some((id, offset)) => {
            if !valid_id(&id) {
                return Err(at(offset, Some(&id), ID_MESSAGE.to_owned()));
            }
            let line = line_column(text, header).0;
            if let Some(first) = ids.insert(id.clone(), line) {
                return Err(at(
                    offset,
                    Some(&id),
                    format!("duplicate rule id (first used by the rule on line {first})"),
                ));
            }
            id
        }
    };
    let rid = Some(id.as_str());
    // Unknown keys, in file order.
    let mut keys: Vec<&Spanned<Cow<'_, str>>> = table.iter().map(|(k, _)| k).collect();
    keys.sort_by_key(|k| k.span().start);
    for key in keys {
        if !matches!(
            key.get_ref().as_ref(),
            "id" | "category" | "severity" | "query" | "fields"
        ) {
            return Err(at(
                key.span().start,
                rid,
                format!("unknown key `{}` (expected {KEYS})", key.get_ref()),
            ));
        }
    }
    let category = match string("category", rid)? {
        None => return Err(at(header, rid, "missing `category`".to_owned())),
        Some((c, offset)) if c.trim().is_empty() => {
            return Err(at(offset, rid, "`category` must not be empty".to_owned()));
        }
        Some((c, _)) => c,
    };
    let severity = match string("severity", rid)? {
        None => return Err(at(header, rid, "missing `severity`".to_owned())),
        Some((s, offset)) => Severity::parse(&s).ok_or_else(|| {
            at(
                offset,
                rid,
                format!("unknown severity `{s}` (expected low, medium or high)"),
            )
        })?,
    };
    let query = match string("query", rid)? {
        None => return Err(at(header, rid, "missing `query`".to_owned())),
        Some((q, _)) => q,
    };
    let fields = match table_get(table, "fields") {
        None => vec![Field::Title, Field::Text],
        Some(v) => {
            let DeValue::Array(items) = v.get_ref() else {
                return Err(at(
                    v.span().start,
                    rid,
                    "`fields` must be an array of field names".to_owned(),
                ));
            };
            let mut fields = Vec::new();
            for item in items.iter() {
                let field = match item.get_ref() {
                    DeValue::String(name) => Field::parse(name),
                    _ => None,
                };
                let Some(field) = field else {
                    return Err(at(
                        item.span().start,
                        rid,
                        "unknown field (expected \"title\", \"text\", \"source\" or \"url\")"
                            .to_owned(),
                    ));
                };
                if !fields.contains(&field) {
                    fields.push(field);
                }
            }
            if fields.is_empty() {
                return Err(at(
                    v.span().start,
                    rid,
                    "`fields` must name at least one field".to_owned(),
                ));
            }
            fields
        }
    };
    Ok(Rule {
        id,
        category,
        severity,
        query,
        fields,
        line: line_column(text, header).0,
    })
}

/// Offset in the file text of byte `offset` of the string value whose literal
/// (with quotes) is `file[span]` and whose value is `value`: accounts for the
/// opening quotes, a newline trimmed after `'''`/`"""`, escapes and
/// line-ending backslashes. Falls back to the literal's start.
fn raw_offset(file: &str, span: std::ops::Range<usize>, value: &str, offset: usize) -> usize {
    let Some(raw) = file.get(span) else {
        return 0;
    };
    match decode_with_offsets(raw) {
        Some((decoded, map)) if decoded == value => {
            map.get(offset).or(map.last()).copied().unwrap_or(0)
        }
        _ => 0,
    }
}

/// Decodes a TOML string literal, returning the value and, for each byte of
/// the value plus one past the end, its offset in `raw`.
fn decode_with_offsets(raw: &str) -> Option<(String, Vec<usize>)> {
    let (quote, basic) = if raw.starts_with("\"\"\"") {
        (3, true)
    } else if raw.starts_with("'''") {
        (3, false)
    } else if raw.starts_with('"') {
        (1, true)
    } else if raw.starts_with('\'') {
        (1, false)
    } else {
        return None;
    };
    let body_end = raw.len().checked_sub(quote)?;
    let mut i = quote;
    if quote == 3 {
        // A newline right after the opening delimiter is trimmed.
        if raw[i..].starts_with("\r\n") {
            i += 2;
        } else if raw[i..].starts_with('\n') {
            i += 1;
        }
    }
    let mut out = String::new();
    let mut map = Vec::new();
    let push = |out: &mut String, map: &mut Vec<usize>, c: char, at: usize| {
        out.push(c);
        map.extend(std::iter::repeat_n(at, c.len_utf8()));
    };
    while i < body_end {
        let c = raw[i..].chars().next()?;
        if !(basic && c == '\\') {
            push(&mut out, &mut map, c, i);
            i += c.len_utf8();
            continue;
        }
        let esc = raw[i + 1..].chars().next()?;
        let simple = match esc {
            'b' => Some('\u{8}'),
            't' => Some('\t'),
            'n' => Some('\n'),
            'f' => Some('\u{c}'),
            'r' => Some('\r'),
            'e' => Some('\u{1b}'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            _ => None,
        };
        if let Some(v) = simple {
            push(&mut out, &mut map, v, i);
            i += 2;
            continue;
        }
        let hex = match esc {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => 0,
        };
        if hex > 0 {
            let digits = raw.get(i + 2..i + 2 + hex)?;
            let v = char::from_u32(u32::from_str_radix(digits, 16).ok()?)?;
            push(&mut out, &mut map, v, i);
            i += 2 + hex;
            continue;
        }
        // Line-ending backslash (multi-line basic strings): skip the
        // whitespace and newlines that follow.
        let rest = &raw[i + 1..body_end];
        let skipped = rest.len() - rest.trim_start().len();
        if quote == 3 && rest[..skipped].contains('\n') {
            i += 1 + skipped;
            continue;
        }
        return None;
    }
    map.push(body_end);
    Some((out, map))
}

/// The id of the `[[rule]]` table around `offset`, read from its `id = …`
/// line, for errors the TOML parser reports before rules are read.
fn guess_rule_id(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let mut start = text.get(..offset)?.rfind("[[rule]]")?;
    start += "[[rule]]".len();
    let end = text[start..].find("\n[").map_or(text.len(), |i| start + i);
    for line in text[start..end].lines() {
        let line = line.trim_start();
        let Some(rest) = line.strip_prefix("id") else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        let rest = rest.trim_start();
        let quote = rest.chars().next().filter(|c| matches!(c, '"' | '\''))?;
        let value = &rest[1..];
        let id = &value[..value.find(quote)?];
        return valid_id(id).then(|| id.to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_literals_with_offsets() {
        let (v, map) = decode_with_offsets("'a b'").expect("literal");
        assert_eq!(v, "a b");
        assert_eq!(map, [1, 2, 3, 4]);
        let (v, map) = decode_with_offsets("'''\nab'''").expect("multi-line literal");
        assert_eq!(v, "ab");
        assert_eq!(map, [4, 5, 6]);
        let (v, map) = decode_with_offsets(r#""\"x\" \u00e9y""#).expect("basic");
        assert_eq!(v, "\"x\" éy");
        assert_eq!(map, [1, 3, 4, 6, 7, 7, 13, 14]);
        let (v, map) = decode_with_offsets("\"\"\"\na \\\n   b\"\"\"").expect("multi-line basic");
        assert_eq!(v, "a b");
        assert_eq!(map, [4, 5, 11, 12]);
    }

    #[test]
    fn guesses_rule_ids() {
        let text = "[[rule]]\nid = \"a-1\"\nx = \n[[rule]]\nid='b'\n";
        assert_eq!(guess_rule_id(text, 22).as_deref(), Some("a-1"));
        assert_eq!(guess_rule_id(text, text.len()).as_deref(), Some("b"));
        assert_eq!(guess_rule_id(text, 0), None);
    }
}
