//! The tokens of OData expressions (`$filter`, `$orderby`, `$select`): identifiers (keywords
//! are identifiers the parser recognises), literals, punctuation; whitespace separates tokens
//! and is dropped. Unquoted literals are recognised by shape before identifiers and numbers:
//! a GUID (`8-4-4-4-12` hex), a date-time (`YYYY-MM-DDThh:mm…Z`), a date (`YYYY-MM-DD`).

use crate::error::QueryError;
use crate::expr::Literal;
use crate::literal::{Guid, parse_date_prefix, parse_date_time_prefix};

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned {
    pub token: Token,
    pub position: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    Ident(String),
    Literal(Literal),
    LParen,
    RParen,
    Comma,
    Slash,
    Colon,
    Star,
}

impl Token {
    /// How an error message shows it.
    pub fn describe(&self) -> String {
        match self {
            Token::Ident(name) => format!("'{name}'"),
            Token::Literal(literal) => format!("literal {literal}"),
            Token::LParen => "'('".into(),
            Token::RParen => "')'".into(),
            Token::Comma => "','".into(),
            Token::Slash => "'/'".into(),
            Token::Colon => "':'".into(),
            Token::Star => "'*'".into(),
        }
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `text` (the decoded value of `option`) into tokens.
pub(crate) fn tokenize(option: &str, text: &str) -> Result<Vec<Spanned>, QueryError> {
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(c) = text[at..].chars().next() {
        let start = at;
        let token = match c {
            ' ' | '\t' => {
                at += 1;
                continue;
            }
            '+' => {
                return Err(QueryError::syntax(
                    option,
                    at,
                    "an operand or operator ('+' is a plus sign in OData URLs: encode a space as %20)",
                    "'+'",
                ));
            }
            '(' => punct(&mut at, Token::LParen),
            ')' => punct(&mut at, Token::RParen),
            ',' => punct(&mut at, Token::Comma),
            '/' => punct(&mut at, Token::Slash),
            ':' => punct(&mut at, Token::Colon),
            '*' => punct(&mut at, Token::Star),
            '\'' => Token::Literal(Literal::String(string(option, text, &mut at)?)),
            _ => {
                if let Some(token) = shaped_literal(text, &mut at) {
                    token
                } else if c.is_ascii_digit() || (c == '-' && next_is_digit(text, at + 1)) {
                    number(option, text, &mut at)?
                } else if is_ident_start(c) || c == '$' {
                    at += c.len_utf8();
                    while let Some(c) = text[at..].chars().next().filter(|&c| is_ident_char(c)) {
                        at += c.len_utf8();
                    }
                    Token::Ident(text[start..at].to_owned())
                } else {
                    return Err(QueryError::syntax(
                        option,
                        at,
                        "an identifier, a literal, or one of ( ) , / : *",
                        format!("character {c:?}"),
                    ));
                }
            }
        };
        tokens.push(Spanned {
            token,
            position: start,
        });
    }
    Ok(tokens)
}

fn punct(at: &mut usize, token: Token) -> Token {
    *at += 1;
    token
}

fn next_is_digit(text: &str, at: usize) -> bool {
    text.as_bytes().get(at).is_some_and(u8::is_ascii_digit)
}

/// A quoted string from `'` to its closing `'`, with `''` read as one quote.
fn string(option: &str, text: &str, at: &mut usize) -> Result<String, QueryError> {
    let start = *at;
    let mut value = String::new();
    let mut i = start + 1;
    loop {
        let Some(c) = text[i..].chars().next() else {
            return Err(QueryError::syntax(
                option,
                start,
                "a closing quote for the string that starts here",
                "end of input",
            ));
        };
        i += c.len_utf8();
        if c == '\'' {
            if text[i..].starts_with('\'') {
                value.push('\'');
                i += 1;
            } else {
                *at = i;
                return Ok(value);
            }
        } else {
            value.push(c);
        }
    }
}

/// A GUID, date-time or date at `at`, when the text there has that shape and ends where an
/// identifier would.
fn shaped_literal(text: &str, at: &mut usize) -> Option<Token> {
    let rest = &text[*at..];
    // Every shape is ASCII, so where one ends is a character boundary.
    let ends_at = |len: usize| !rest[len..].chars().next().is_some_and(is_ident_char);
    if let Some(guid) = rest.get(..36).and_then(Guid::parse)
        && ends_at(36)
    {
        *at += 36;
        return Some(Token::Literal(Literal::Guid(guid)));
    }
    if let Some((value, len)) = parse_date_time_prefix(rest.as_bytes())
        && ends_at(len)
    {
        *at += len;
        return Some(Token::Literal(Literal::DateTimeOffset(value)));
    }
    if let Some((date, len)) = parse_date_prefix(rest.as_bytes())
        && ends_at(len)
    {
        *at += len;
        return Some(Token::Literal(Literal::Date(date)));
    }
    None
}

/// An integer (`Edm.Int64`) or a decimal/double (`1.5`, `1e3`, `-2.5E-3`).
fn number(option: &str, text: &str, at: &mut usize) -> Result<Token, QueryError> {
    let bytes = text.as_bytes();
    let start = *at;
    let mut i = start;
    if bytes[i] == b'-' {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let from = *i;
        while *i < bytes.len() && bytes[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - from
    };
    digits(&mut i);
    let mut integral = true;
    if bytes.get(i) == Some(&b'.') {
        integral = false;
        i += 1;
        if digits(&mut i) == 0 {
            return Err(QueryError::syntax(
                option,
                i,
                "digits after the decimal point",
                found_at(text, i),
            ));
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        integral = false;
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return Err(QueryError::syntax(
                option,
                i,
                "the digits of an exponent",
                found_at(text, i),
            ));
        }
    }
    if matches!(bytes.get(i), Some(b'-' | b':')) {
        return Err(QueryError::syntax(
            option,
            start,
            "a valid date (YYYY-MM-DD), date-time (YYYY-MM-DDThh:mm[:ss[.f]] with Z or ±hh:mm) or GUID (8-4-4-4-12 hex digits)",
            format!("'{}…'", &text[start..i]),
        ));
    }
    if text[i..].chars().next().is_some_and(is_ident_char) {
        return Err(QueryError::syntax(
            option,
            i,
            "a separator after the number (a date-time is YYYY-MM-DDThh:mm[:ss[.f]] with Z or ±hh:mm; a GUID is 8-4-4-4-12 hex digits)",
            found_at(text, i),
        ));
    }
    let literal = &text[start..i];
    *at = i;
    if integral {
        literal
            .parse::<i64>()
            .map(|n| Token::Literal(Literal::Integer(n)))
            .map_err(|_| QueryError::syntax(option, start, "an integer within Edm.Int64", literal))
    } else {
        Ok(Token::Literal(Literal::Decimal(literal.to_owned())))
    }
}

/// What is at `at`, for an error message.
pub(crate) fn found_at(text: &str, at: usize) -> String {
    match text.get(at..).and_then(|rest| rest.chars().next()) {
        Some(c) => format!("character {c:?}"),
        None => "end of input".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<Token> {
        tokenize("$filter", text)
            .unwrap()
            .into_iter()
            .map(|s| s.token)
            .collect()
    }

    #[test]
    fn unquoted_literals_are_told_apart_by_shape() {
        let t = tokens("Id eq 3f2b1c4d-0000-4a5b-9c8d-abcdef012345");
        assert!(matches!(t[2], Token::Literal(Literal::Guid(_))));
        let t = tokens("ModifiedOn gt 2026-12-01T08:00:00.000Z and D eq 2026-12-01");
        assert!(matches!(t[2], Token::Literal(Literal::DateTimeOffset(_))));
        assert!(matches!(t[6], Token::Literal(Literal::Date(_))));
        let t = tokens("Q eq -12 or Q eq 1.5e-3");
        assert_eq!(t[2], Token::Literal(Literal::Integer(-12)));
        assert_eq!(t[6], Token::Literal(Literal::Decimal("1.5e-3".into())));
    }

    #[test]
    fn strings_unescape_doubled_quotes() {
        assert_eq!(
            tokens("'it''s'"),
            vec![Token::Literal(Literal::String("it's".into()))]
        );
        assert_eq!(
            tokens("''''"),
            vec![Token::Literal(Literal::String("'".into()))]
        );
    }

    #[test]
    fn errors_name_the_position() {
        let err = tokenize("$filter", "Name eq 'abc").unwrap_err();
        assert!(
            matches!(err, QueryError::Syntax { position: 8, .. }),
            "{err}"
        );
        let err = tokenize("$filter", "A eq 1.").unwrap_err();
        assert!(
            matches!(err, QueryError::Syntax { position: 7, .. }),
            "{err}"
        );
        let err = tokenize("$filter", "A eq 99999999999999999999").unwrap_err();
        assert!(err.to_string().contains("Int64"), "{err}");
        let err = tokenize("$filter", "A eq 2026-12-01T25:00:00Z").unwrap_err();
        assert!(err.to_string().contains("date-time"), "{err}");
        let err = tokenize("$filter", "A+eq+1").unwrap_err();
        assert!(err.to_string().contains("%20"), "{err}");
    }
}
