//! The search query language of the contract: words (all must match), `"exact phrase"`,
//! `OR`, `NOT` or `-word`, parentheses, `title:`, `source:` (and `text:`).
//!
//! Parsing gives an [`Expr`]; errors carry the 1-based column and a hint.

use std::fmt;

/// Which field a word or phrase is searched in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Title and text.
    Any,
    Title,
    Text,
    Source,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Word { scope: Scope, text: String },
    Phrase { scope: Scope, text: String },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// 1-based column (in characters) in the query.
    pub column: usize,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "query error at column {}: {} (hint: {})",
            self.column, self.message, self.hint
        )
    }
}

impl std::error::Error for QueryError {}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Phrase(String),
    Field(Scope),
    Minus,
    And,
    Or,
    Not,
    Open,
    Close,
}

fn field_scope(name: &str) -> Option<Scope> {
    match name {
        "title" => Some(Scope::Title),
        "text" => Some(Scope::Text),
        "source" => Some(Scope::Source),
        _ => None,
    }
}

fn lex(input: &str) -> Result<Vec<(Tok, usize)>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => {
                out.push((Tok::Open, column));
                i += 1;
            }
            ')' => {
                out.push((Tok::Close, column));
                i += 1;
            }
            '"' | '“' | '”' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && !matches!(chars[end], '"' | '“' | '”') {
                    end += 1;
                }
                if end >= chars.len() {
                    return Err(QueryError {
                        column,
                        message: "unclosed quote".into(),
                        hint: "close the phrase with \" or remove the quote".into(),
                    });
                }
                let phrase: String = chars[start..end].iter().collect();
                out.push((Tok::Phrase(phrase), column));
                i = end + 1;
            }
            '-' if i + 1 < chars.len()
                && !chars[i + 1].is_whitespace()
                && out_allows_prefix(&out) =>
            {
                out.push((Tok::Minus, column));
                i += 1;
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '(' | ')' | '"' | '“' | '”')
                {
                    if chars[i] == ':' {
                        let name: String = chars[start..i].iter().collect();
                        if let Some(scope) = field_scope(&name.to_lowercase()) {
                            out.push((Tok::Field(scope), start + 1));
                            i += 1;
                            break;
                        }
                    }
                    i += 1;
                }
                if matches!(out.last(), Some((Tok::Field(_), col)) if *col == start + 1) {
                    continue;
                }
                let word: String = chars[start..i].iter().collect();
                let tok = match word.as_str() {
                    "AND" => Tok::And,
                    "OR" => Tok::Or,
                    "NOT" => Tok::Not,
                    _ => Tok::Word(word),
                };
                out.push((tok, start + 1));
            }
        }
    }
    Ok(out)
}

fn out_allows_prefix(out: &[(Tok, usize)]) -> bool {
    !matches!(out.last(), Some((Tok::Field(_), _)))
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end_column: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn column(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end_column, |(_, c)| *c)
    }

    fn error(&self, message: &str, hint: &str) -> QueryError {
        QueryError {
            column: self.column(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    fn parse_or(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut parts = vec![self.parse_and(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.parse_and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn parse_and(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                None | Some(Tok::Or) => break,
                Some(Tok::Close) if depth > 0 => break,
                Some(Tok::And) => {
                    if parts.is_empty() {
                        return Err(self.error(
                            "AND needs something before it",
                            "write words on both sides of AND",
                        ));
                    }
                    self.pos += 1;
                    if matches!(self.peek(), None | Some(Tok::Or) | Some(Tok::Close)) {
                        return Err(self.error(
                            "AND needs something after it",
                            "write words on both sides of AND",
                        ));
                    }
                }
                _ => parts.push(self.parse_unary(depth)?),
            }
        }
        if parts.is_empty() {
            return Err(self.error(
                "expected a word or phrase",
                "an OR or a parenthesis has nothing on one side",
            ));
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn parse_unary(&mut self, depth: usize) -> Result<Expr, QueryError> {
        match self.peek() {
            Some(Tok::Minus) | Some(Tok::Not) => {
                self.pos += 1;
                if matches!(
                    self.peek(),
                    None | Some(Tok::Or) | Some(Tok::Close) | Some(Tok::And)
                ) {
                    return Err(self.error(
                        "NOT needs a word or group after it",
                        "write NOT word or -word",
                    ));
                }
                Ok(Expr::Not(Box::new(self.parse_unary(depth)?)))
            }
            Some(Tok::Field(scope)) => {
                let scope = *scope;
                self.pos += 1;
                let inner = self.parse_atom(depth)?;
                Ok(rescope(inner, scope))
            }
            _ => self.parse_atom(depth),
        }
    }

    fn parse_atom(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let Some((tok, _)) = self.toks.get(self.pos).cloned() else {
            return Err(self.error("the query ends too early", "add a word"));
        };
        match tok {
            Tok::Word(text) => {
                self.pos += 1;
                Ok(Expr::Word {
                    scope: Scope::Any,
                    text,
                })
            }
            Tok::Phrase(text) => {
                self.pos += 1;
                if text.trim().is_empty() {
                    return Err(QueryError {
                        column: self.toks[self.pos - 1].1,
                        message: "empty phrase".into(),
                        hint: "write words between the quotes".into(),
                    });
                }
                Ok(Expr::Phrase {
                    scope: Scope::Any,
                    text,
                })
            }
            Tok::Open => {
                let open_column = self.column();
                self.pos += 1;
                let inner = self.parse_or(depth + 1)?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(QueryError {
                        column: open_column,
                        message: "unclosed parenthesis".into(),
                        hint: "add a closing )".into(),
                    });
                }
                self.pos += 1;
                Ok(inner)
            }
            Tok::Close => Err(self.error("unexpected )", "remove it or add the matching (")),
            Tok::Or | Tok::And => Err(self.error(
                "operator without a word before it",
                "write words on both sides",
            )),
            Tok::Not | Tok::Minus => Err(self.error("unexpected NOT", "write NOT word")),
            Tok::Field(_) => Err(self.error("field without a word", "write title:word")),
        }
    }
}

fn rescope(expr: Expr, scope: Scope) -> Expr {
    match expr {
        Expr::Word { text, .. } => Expr::Word { scope, text },
        Expr::Phrase { text, .. } => Expr::Phrase { scope, text },
        Expr::And(parts) => Expr::And(parts.into_iter().map(|p| rescope(p, scope)).collect()),
        Expr::Or(parts) => Expr::Or(parts.into_iter().map(|p| rescope(p, scope)).collect()),
        Expr::Not(inner) => Expr::Not(Box::new(rescope(*inner, scope))),
    }
}

/// Parses a search query.
pub fn parse(input: &str) -> Result<Expr, QueryError> {
    let toks = lex(input)?;
    if toks.is_empty() {
        return Err(QueryError {
            column: 1,
            message: "empty query".into(),
            hint: "type a word".into(),
        });
    }
    let mut parser = Parser {
        toks,
        pos: 0,
        end_column: input.chars().count() + 1,
    };
    let expr = parser.parse_or(0)?;
    if parser.pos < parser.toks.len() {
        return Err(parser.error("unexpected )", "remove it or add the matching ("));
    }
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str) -> Expr {
        Expr::Word {
            scope: Scope::Any,
            text: text.into(),
        }
    }

    #[test]
    fn words_phrases_and_operators() {
        assert_eq!(
            parse("a b").ok(),
            Some(Expr::And(vec![word("a"), word("b")]))
        );
        assert_eq!(
            parse("a OR b").ok(),
            Some(Expr::Or(vec![word("a"), word("b")]))
        );
        assert_eq!(
            parse("a -b").ok(),
            Some(Expr::And(vec![word("a"), Expr::Not(Box::new(word("b")))]))
        );
        assert_eq!(
            parse("a NOT b").ok(),
            Some(Expr::And(vec![word("a"), Expr::Not(Box::new(word("b")))]))
        );
        assert_eq!(
            parse("title:\"an toàn\"").ok(),
            Some(Expr::Phrase {
                scope: Scope::Title,
                text: "an toàn".into()
            })
        );
        assert_eq!(
            parse("(a OR b) c").ok(),
            Some(Expr::And(vec![
                Expr::Or(vec![word("a"), word("b")]),
                word("c")
            ]))
        );
        assert_eq!(parse("covid-19").ok(), Some(word("covid-19")));
    }

    #[test]
    fn errors_have_columns() {
        let err = parse("a \"b c").expect_err("stray quote");
        assert_eq!(err.column, 3);
        let err = parse("(a b").expect_err("paren");
        assert_eq!(err.column, 1);
        assert!(parse("a OR").is_err());
        assert!(parse("a )").is_err());
        assert!(parse("   ").is_err());
        assert!(parse("NOT").is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,40}") {
            let _ = parse(&input);
        }

        #[test]
        fn never_panics_on_operator_soup(input in "((a|b|OR|AND|NOT|-|\\(|\\)|\"|title:| ){0,12})") {
            let _ = parse(&input);
        }
    }
}
