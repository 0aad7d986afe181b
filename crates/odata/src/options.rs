//! The system query options of one request: [`QueryOptions::parse`] reads a raw query string
//! (`$filter=…&$top=10&…`, without the `?`), splitting on `&` and `=` before percent-decoding
//! each name and value; [`QueryOptions::to_query_string`] writes them back, encoded, in a fixed
//! order (what a `@odata.nextLink` carries).
//!
//! `+` is a plus sign, not a space (RFC 3986 and the OData ABNF; `2026-12-01T08:00:00+01:00`
//! needs it): a client encodes a space as `%20`. System option names are matched without
//! regard to case (OData 4.01); parameters without a `$` are kept as `custom`.

use std::fmt::Write as _;

use crate::error::QueryError;
use crate::expr::Expr;
use crate::parser::{Parser, parse_expr};

/// The parsed system query options (and the custom parameters) of a request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryOptions {
    pub filter: Option<Expr>,
    /// `None`: no `$select` (every property).
    pub select: Option<Vec<SelectItem>>,
    pub orderby: Vec<OrderBy>,
    pub top: Option<u64>,
    pub skip: Option<u64>,
    pub count: bool,
    pub expand: Vec<ExpandItem>,
    pub skiptoken: Option<String>,
    pub format: Option<String>,
    /// Parameters whose name does not start with `$`, decoded, in order.
    pub custom: Vec<(String, String)>,
}

/// One item of `$select`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectItem {
    /// `*`: every structural property.
    All,
    /// A property, or a property of a complex property (`Address/City`).
    Path(Vec<String>),
}

/// One key of `$orderby`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub expr: Expr,
    pub descending: bool,
}

/// One navigation property of `$expand` with its own options (`$filter`, `$select`,
/// `$orderby`, `$top`, `$skip`, `$count`; one level: no nested `$expand`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExpandItem {
    /// The navigation path; `["*"]` expands every navigation property.
    pub path: Vec<String>,
    pub options: QueryOptions,
}

const FILTER: &str = "$filter";
const SELECT: &str = "$select";
const ORDERBY: &str = "$orderby";
const TOP: &str = "$top";
const SKIP: &str = "$skip";
const COUNT: &str = "$count";
const EXPAND: &str = "$expand";
const SKIPTOKEN: &str = "$skiptoken";
const FORMAT: &str = "$format";

/// The options a request may give, and those an `$expand` item may give.
const TOP_LEVEL: [&str; 9] = [
    FILTER, SELECT, ORDERBY, TOP, SKIP, COUNT, EXPAND, SKIPTOKEN, FORMAT,
];
const NESTED: [&str; 6] = [FILTER, SELECT, ORDERBY, TOP, SKIP, COUNT];

impl QueryOptions {
    /// Reads a raw query string (what follows `?`).
    pub fn parse(query: &str) -> Result<QueryOptions, QueryError> {
        let mut options = QueryOptions::default();
        let mut seen: Vec<&'static str> = Vec::new();
        let mut offset = 0;
        for pair in query.split('&') {
            let start = offset;
            offset += pair.len() + 1;
            if pair.is_empty() {
                continue;
            }
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode(raw_name, start)?;
            let value = percent_decode(raw_value, start + raw_name.len() + 1)?;
            if !name.starts_with('$') {
                options.custom.push((name, value));
                continue;
            }
            let Some(known) = TOP_LEVEL.iter().find(|k| k.eq_ignore_ascii_case(&name)) else {
                return Err(QueryError::UnknownOption(name));
            };
            if seen.contains(known) {
                return Err(QueryError::Repeated(known.to_string()));
            }
            seen.push(known);
            options.set(known, &value)?;
        }
        Ok(options)
    }

    /// Reads one option's decoded value into `self`.
    fn set(&mut self, option: &'static str, value: &str) -> Result<(), QueryError> {
        match option {
            FILTER => self.filter = Some(parse_expr(option, value)?),
            SELECT => {
                let mut parser = Parser::new(option, value)?;
                let items = parser.select_items()?;
                let items = items
                    .into_iter()
                    .map(|item| item.map_or(SelectItem::All, SelectItem::Path))
                    .collect();
                self.select = Some(items);
            }
            ORDERBY => {
                let mut parser = Parser::new(option, value)?;
                self.orderby = parser
                    .order_items()?
                    .into_iter()
                    .map(|(expr, descending)| OrderBy { expr, descending })
                    .collect();
            }
            TOP => self.top = Some(non_negative(option, value)?),
            SKIP => self.skip = Some(non_negative(option, value)?),
            COUNT => {
                self.count = match value {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(QueryError::syntax(option, 0, "true or false", quote(other)));
                    }
                }
            }
            EXPAND => self.expand = parse_expand(value)?,
            SKIPTOKEN if value.is_empty() => {
                return Err(QueryError::invalid(option, "the token is empty"));
            }
            SKIPTOKEN => self.skiptoken = Some(value.to_owned()),
            FORMAT => self.format = Some(value.to_owned()),
            _ => return Err(QueryError::UnknownOption(option.to_owned())),
        }
        Ok(())
    }

    /// The options as a query string (without `?`), percent-encoded, in a fixed order:
    /// `QueryOptions::parse` reads it back to the same options.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(filter) = &self.filter {
            pairs.push((FILTER.into(), filter.to_string()));
        }
        if let Some(select) = &self.select {
            pairs.push((SELECT.into(), render_select(select)));
        }
        if !self.orderby.is_empty() {
            pairs.push((ORDERBY.into(), render_orderby(&self.orderby)));
        }
        if let Some(top) = self.top {
            pairs.push((TOP.into(), top.to_string()));
        }
        if let Some(skip) = self.skip {
            pairs.push((SKIP.into(), skip.to_string()));
        }
        if self.count {
            pairs.push((COUNT.into(), "true".into()));
        }
        if !self.expand.is_empty() {
            pairs.push((EXPAND.into(), render_expand(&self.expand)));
        }
        if let Some(token) = &self.skiptoken {
            pairs.push((SKIPTOKEN.into(), token.clone()));
        }
        if let Some(format) = &self.format {
            pairs.push((FORMAT.into(), format.clone()));
        }
        pairs.extend(self.custom.iter().cloned());
        let mut out = String::new();
        for (i, (name, value)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(&percent_encode(name));
            out.push('=');
            out.push_str(&percent_encode(value));
        }
        out
    }
}

fn quote(text: &str) -> String {
    format!("'{text}'")
}

fn non_negative(option: &str, value: &str) -> Result<u64, QueryError> {
    if !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = value.parse::<u64>()
    {
        return Ok(n);
    }
    Err(QueryError::syntax(
        option,
        0,
        "a non-negative integer",
        quote(value),
    ))
}

/// `$select`'s text.
pub(crate) fn render_select(items: &[SelectItem]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|item| match item {
            SelectItem::All => "*".to_owned(),
            SelectItem::Path(path) => path.join("/"),
        })
        .collect();
    parts.join(",")
}

/// `$orderby`'s text.
pub(crate) fn render_orderby(items: &[OrderBy]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|o| format!("{}{}", o.expr, if o.descending { " desc" } else { "" }))
        .collect();
    parts.join(",")
}

fn render_expand(items: &[ExpandItem]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item.path.join("/"));
        let nested = item.options.to_query_string();
        if !nested.is_empty() {
            // The nested options are decoded here: the whole `$expand` value is encoded once.
            let decoded: Vec<String> = nested
                .split('&')
                .map(|pair| percent_decode(pair, 0).unwrap_or_default())
                .collect();
            let _ = write!(out, "({})", decoded.join(";"));
        }
    }
    out
}

/// Splits `text` at `separator` where it is outside quotes and parentheses, with each
/// piece's byte offset.
fn split_top_level(text: &str, separator: u8) -> Vec<(usize, &str)> {
    let mut pieces = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0);
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth = depth.saturating_sub(1),
            _ if b == separator && !quoted && depth == 0 => {
                pieces.push((start, &text[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push((start, &text[start..]));
    pieces
}

/// Moves a nested option's syntax error to `$expand`'s text.
fn shift(error: QueryError, by: usize) -> QueryError {
    match error {
        QueryError::Syntax {
            option,
            position,
            expected,
            found,
        } => QueryError::Syntax {
            option: format!("{EXPAND} ({option})"),
            position: position + by,
            expected,
            found,
        },
        QueryError::Invalid { option, problem } => QueryError::Invalid {
            option: format!("{EXPAND} ({option})"),
            problem,
        },
        other => other,
    }
}

fn parse_expand(text: &str) -> Result<Vec<ExpandItem>, QueryError> {
    let mut items = Vec::new();
    for (start, item) in split_top_level(text, b',') {
        let (path_text, nested) = match item.find('(') {
            Some(open) => {
                if !item.ends_with(')') {
                    return Err(QueryError::syntax(
                        EXPAND,
                        start + item.len(),
                        "')' closing the options of the expanded property",
                        "end of the item",
                    ));
                }
                (
                    &item[..open],
                    Some((start + open + 1, &item[open + 1..item.len() - 1])),
                )
            }
            None => (item, None),
        };
        let mut parser = Parser::new(EXPAND, path_text).map_err(|e| shift(e, start))?;
        let path = match parser
            .select_items()
            .map_err(|e| shift(e, start))?
            .as_slice()
        {
            [None] => vec!["*".to_owned()],
            [Some(path)] => path.clone(),
            _ => {
                return Err(QueryError::syntax(
                    EXPAND,
                    start,
                    "one navigation path per item",
                    quote(path_text),
                ));
            }
        };
        let mut options = QueryOptions::default();
        if let Some((offset, nested)) = nested {
            parse_nested(&mut options, nested, offset)?;
        }
        items.push(ExpandItem { path, options });
    }
    Ok(items)
}

/// The `;`-separated options inside `Nav(…)`.
fn parse_nested(options: &mut QueryOptions, text: &str, offset: usize) -> Result<(), QueryError> {
    let mut seen: Vec<&'static str> = Vec::new();
    for (start, pair) in split_top_level(text, b';') {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(QueryError::syntax(
                EXPAND,
                offset + start,
                "a nested option name=value",
                quote(pair),
            ));
        };
        if name.eq_ignore_ascii_case(EXPAND) || name.eq_ignore_ascii_case("$levels") {
            return Err(QueryError::invalid(
                EXPAND,
                format!("nested {name} is not supported (one level of expansion)"),
            ));
        }
        let Some(known) = NESTED.iter().find(|k| k.eq_ignore_ascii_case(name)) else {
            return Err(QueryError::UnknownOption(format!(
                "{name} (inside $expand)"
            )));
        };
        if seen.contains(known) {
            return Err(QueryError::Repeated(format!("{known} (inside $expand)")));
        }
        seen.push(known);
        let value_offset = offset + start + name.len() + 1;
        options
            .set(known, value)
            .map_err(|e| shift(e, value_offset))?;
    }
    Ok(())
}

/// Decodes `%XX` escapes (UTF-8 afterwards); `start` is the text's offset in the query
/// string, for errors.
pub(crate) fn percent_decode(text: &str, start: usize) -> Result<String, QueryError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                let h = std::str::from_utf8(h).ok()?;
                u8::from_str_radix(h, 16).ok()
            });
            let Some(byte) = hex else {
                return Err(QueryError::Encoding {
                    position: start + i,
                    problem: "'%' must be followed by two hex digits".into(),
                });
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|e| QueryError::Encoding {
        position: start,
        problem: format!(
            "the decoded text is not UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// Encodes all but the unreserved characters and those OData text uses unencoded
/// (`' ( ) * , / : $ @ !`).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~'()*,/:$@!".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
