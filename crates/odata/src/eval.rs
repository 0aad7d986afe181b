//! Evaluation of [`Expr`] over a row of JSON (an entity as the emulator keeps it):
//! [`matches()`] for `$filter`; [`apply`] (in `paging`) for a whole entity set.
//!
//! JSON has fewer types than OData, so a row's strings are read as the literal they are
//! compared with asks: against a date-time literal a string is read as RFC 3339 and compared
//! as an instant; against a GUID, as a GUID (so case does not matter); two strings that both
//! read as date-times (or both as GUIDs) compare that way too. A string that cannot be read as
//! the other side's type is an [`EvalError::TypeMismatch`], never a silent `false`.
//!
//! Nulls follow OData: `eq null` is true for null or a missing property; a comparison with one
//! null side is false (`ne` true; `ge`/`le` of two nulls true); `and`/`or`/`not` are
//! three-valued and a filter keeps only rows where it is true.

use std::cmp::Ordering;

use serde_json::Value;

use crate::error::EvalError;
use crate::expr::{CompareOp, Expr, Function, LambdaKind, Literal};
use crate::literal::{Date, DateTimeOffset, Guid};

pub use crate::paging::{Page, Paging, apply, apply_paged};

/// Whether `row` satisfies `filter` (a null result is not a match).
pub fn matches(filter: &Expr, row: &Value) -> Result<bool, EvalError> {
    let scope = Scope {
        row,
        variables: Vec::new(),
    };
    Ok(truth(filter, &scope)? == Some(true))
}

/// The value of `expr` for `row` as JSON (what `$orderby` sorts by): dates, date-times and
/// GUIDs become their text.
pub fn value_of(expr: &Expr, row: &Value) -> Result<Value, EvalError> {
    let scope = Scope {
        row,
        variables: Vec::new(),
    };
    Ok(eval(expr, &scope)?.into_json())
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    Guid(Guid),
    DateTime(DateTimeOffset),
    Date(Date),
    /// An array or object of the row.
    Json(Value),
}

impl Val {
    pub(crate) fn from_json(value: &Value) -> Val {
        match value {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map_or_else(|| Val::Num(n.as_f64().unwrap_or(f64::NAN)), Val::Int),
            Value::String(s) => Val::Str(s.clone()),
            other => Val::Json(other.clone()),
        }
    }

    pub(crate) fn into_json(self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(b),
            Val::Int(i) => Value::from(i),
            Val::Num(n) => serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
            Val::Str(s) => Value::String(s),
            Val::Guid(g) => Value::String(g.to_string()),
            Val::DateTime(d) => Value::String(d.to_string()),
            Val::Date(d) => Value::String(d.to_string()),
            Val::Json(v) => v,
        }
    }

    fn type_name(&self) -> String {
        match self {
            Val::Null => "null".into(),
            Val::Bool(b) => format!("boolean {b}"),
            Val::Int(i) => format!("integer {i}"),
            Val::Num(n) => format!("number {n}"),
            Val::Str(s) => format!("string {s:?}"),
            Val::Guid(g) => format!("GUID {g}"),
            Val::DateTime(d) => format!("date-time {d}"),
            Val::Date(d) => format!("date {d}"),
            Val::Json(Value::Array(_)) => "a collection".into(),
            Val::Json(_) => "an object".into(),
        }
    }
}

/// The row and the lambda variables in scope (innermost last).
struct Scope<'a> {
    row: &'a Value,
    variables: Vec<(&'a str, &'a Value)>,
}

fn literal(literal: &Literal) -> Val {
    match literal {
        Literal::Null => Val::Null,
        Literal::Boolean(b) => Val::Bool(*b),
        Literal::Integer(i) => Val::Int(*i),
        Literal::Decimal(text) => Val::Num(text.parse().unwrap_or(f64::NAN)),
        Literal::String(s) => Val::Str(s.clone()),
        Literal::Guid(g) => Val::Guid(*g),
        Literal::DateTimeOffset(d) => Val::DateTime(*d),
        Literal::Date(d) => Val::Date(*d),
    }
}

/// The JSON a path names (`None` when a segment is missing or not an object).
fn resolve<'a>(path: &[String], scope: &Scope<'a>) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut current = if first == "$it" {
        scope.row
    } else if let Some((_, value)) = scope.variables.iter().rev().find(|(v, _)| v == first) {
        value
    } else {
        scope.row.get(first)?
    };
    for segment in rest {
        current = current.get(segment)?;
    }
    Some(current)
}

fn eval(expr: &Expr, scope: &Scope<'_>) -> Result<Val, EvalError> {
    Ok(match expr {
        Expr::Literal(l) => literal(l),
        Expr::Path(path) => resolve(path, scope).map_or(Val::Null, Val::from_json),
        Expr::Call { function, args } => call(*function, args, scope)?,
        _ => truth(expr, scope)?.map_or(Val::Null, Val::Bool),
    })
}

/// A boolean expression's value: `None` is null.
fn truth(expr: &Expr, scope: &Scope<'_>) -> Result<Option<bool>, EvalError> {
    Ok(match expr {
        Expr::Compare { op, left, right } => {
            Some(compare(*op, &eval(left, scope)?, &eval(right, scope)?)?)
        }
        Expr::And(left, right) => match (truth(left, scope)?, truth(right, scope)?) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Expr::Or(left, right) => match (truth(left, scope)?, truth(right, scope)?) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Expr::Not(inner) => truth(inner, scope)?.map(|b| !b),
        Expr::In { value, list } => {
            let value = eval(value, scope)?;
            let mut found = false;
            for item in list {
                if compare(CompareOp::Eq, &value, &eval(item, scope)?)? {
                    found = true;
                    break;
                }
            }
            Some(found)
        }
        Expr::Lambda { path, kind, body } => Some(lambda(path, *kind, body.as_ref(), scope)?),
        Expr::Literal(_) | Expr::Path(_) | Expr::Call { .. } => match eval(expr, scope)? {
            Val::Bool(b) => Some(b),
            Val::Null => None,
            other => {
                return Err(EvalError::WrongType {
                    operator: expr.to_string(),
                    expected: "a boolean".into(),
                    found: other.type_name(),
                });
            }
        },
    })
}

fn lambda(
    path: &[String],
    kind: LambdaKind,
    body: Option<&crate::expr::LambdaBody>,
    scope: &Scope<'_>,
) -> Result<bool, EvalError> {
    let items = match resolve(path, scope) {
        None | Some(Value::Null) => return Ok(kind == LambdaKind::All),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(EvalError::NotACollection {
                path: path.join("/"),
                found: Val::from_json(other).type_name(),
            });
        }
    };
    let Some(body) = body else {
        return Ok(!items.is_empty());
    };
    for item in items {
        let mut variables = scope.variables.clone();
        variables.push((body.variable.as_str(), item));
        let inner = Scope {
            row: scope.row,
            variables,
        };
        let holds = truth(&body.predicate, &inner)? == Some(true);
        match kind {
            LambdaKind::Any if holds => return Ok(true),
            LambdaKind::All if !holds => return Ok(false),
            _ => {}
        }
    }
    Ok(kind == LambdaKind::All)
}

/// `left op right` with OData's null rules.
pub(crate) fn compare(op: CompareOp, left: &Val, right: &Val) -> Result<bool, EvalError> {
    let ordering = match (left, right) {
        (Val::Null, Val::Null) => {
            return Ok(matches!(op, CompareOp::Eq | CompareOp::Ge | CompareOp::Le));
        }
        (Val::Null, _) | (_, Val::Null) => return Ok(op == CompareOp::Ne),
        _ => order(left, right).map_err(|_| EvalError::TypeMismatch {
            operator: op.keyword().into(),
            left: left.type_name(),
            right: right.type_name(),
        })?,
    };
    Ok(match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
    })
}

/// The order of two values (null first), or `Err` when they have none.
pub(crate) fn order(left: &Val, right: &Val) -> Result<Ordering, ()> {
    use Val::*;
    let instant = |d: &DateTimeOffset| d.instant();
    match (left, right) {
        (Null, Null) => Ok(Ordering::Equal),
        (Null, _) => Ok(Ordering::Less),
        (_, Null) => Ok(Ordering::Greater),
        (Bool(a), Bool(b)) => Ok(a.cmp(b)),
        (Int(a), Int(b)) => Ok(a.cmp(b)),
        (Int(a), Num(b)) => (*a as f64).partial_cmp(b).ok_or(()),
        (Num(a), Int(b)) => a.partial_cmp(&(*b as f64)).ok_or(()),
        (Num(a), Num(b)) => a.partial_cmp(b).ok_or(()),
        (Str(a), Str(b)) => Ok(typed_strings(a, b).unwrap_or_else(|| a.cmp(b))),
        (Guid(a), Guid(b)) => Ok(a.cmp(b)),
        (DateTime(a), DateTime(b)) => Ok(instant(a).cmp(&instant(b))),
        (Date(a), Date(b)) => Ok(a.cmp(b)),
        (Str(s), other) => order(&read_as(s, other)?, other),
        (other, Str(s)) => order(other, &read_as(s, other)?),
        _ => Err(()),
    }
}

/// Two strings that both read as date-times (or both as GUIDs) compare as such.
fn typed_strings(a: &str, b: &str) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (DateTimeOffset::parse(a), DateTimeOffset::parse(b)) {
        return Some(x.instant().cmp(&y.instant()));
    }
    if let (Some(x), Some(y)) = (Guid::parse(a), Guid::parse(b)) {
        return Some(x.cmp(&y));
    }
    None
}

/// A row's string read as the type of `like` (a GUID, date-time or date literal).
fn read_as(text: &str, like: &Val) -> Result<Val, ()> {
    match like {
        Val::Guid(_) => Guid::parse(text).map(Val::Guid).ok_or(()),
        Val::DateTime(_) => DateTimeOffset::parse(text).map(Val::DateTime).ok_or(()),
        Val::Date(_) => Date::parse(text).map(Val::Date).ok_or(()),
        _ => Err(()),
    }
}

fn call(function: Function, args: &[Expr], scope: &Scope<'_>) -> Result<Val, EvalError> {
    let values = args
        .iter()
        .map(|a| eval(a, scope))
        .collect::<Result<Vec<_>, _>>()?;
    if values.contains(&Val::Null) {
        return Ok(Val::Null);
    }
    let name = function.name();
    let text = |i: usize| -> Result<&str, EvalError> {
        match &values[i] {
            Val::Str(s) => Ok(s),
            other => Err(wrong(name, "a string", other)),
        }
    };
    let int = |i: usize| -> Result<i64, EvalError> {
        match &values[i] {
            Val::Int(n) => Ok(*n),
            other => Err(wrong(name, "an integer", other)),
        }
    };
    Ok(match function {
        Function::Contains => Val::Bool(text(0)?.contains(text(1)?)),
        Function::StartsWith => Val::Bool(text(0)?.starts_with(text(1)?)),
        Function::EndsWith => Val::Bool(text(0)?.ends_with(text(1)?)),
        Function::ToLower => Val::Str(text(0)?.to_lowercase()),
        Function::ToUpper => Val::Str(text(0)?.to_uppercase()),
        Function::Trim => Val::Str(text(0)?.trim().to_owned()),
        Function::Concat => Val::Str(format!("{}{}", text(0)?, text(1)?)),
        Function::Length => match &values[0] {
            Val::Json(Value::Array(items)) => Val::Int(items.len() as i64),
            _ => Val::Int(text(0)?.chars().count() as i64),
        },
        Function::IndexOf => {
            let (haystack, needle) = (text(0)?, text(1)?);
            Val::Int(
                haystack
                    .find(needle)
                    .map_or(-1, |byte| haystack[..byte].chars().count() as i64),
            )
        }
        Function::Substring => {
            let start = usize::try_from(int(1)?.max(0)).unwrap_or(usize::MAX);
            let chars = text(0)?.chars().skip(start);
            Val::Str(if values.len() == 3 {
                let len = usize::try_from(int(2)?.max(0)).unwrap_or(usize::MAX);
                chars.take(len).collect()
            } else {
                chars.collect()
            })
        }
        Function::Year | Function::Month | Function::Day => {
            let date = match &values[0] {
                Val::Date(d) => *d,
                Val::DateTime(d) => d.date,
                Val::Str(s) => match (DateTimeOffset::parse(s), Date::parse(s)) {
                    (Some(d), _) => d.date,
                    (None, Some(d)) => d,
                    _ => return Err(wrong(name, "a date or date-time", &values[0])),
                },
                other => return Err(wrong(name, "a date or date-time", other)),
            };
            Val::Int(i64::from(match function {
                Function::Year => date.year,
                Function::Month => u16::from(date.month),
                _ => u16::from(date.day),
            }))
        }
        Function::Hour | Function::Minute | Function::Second => {
            let time = match &values[0] {
                Val::DateTime(d) => *d,
                Val::Str(s) => DateTimeOffset::parse(s)
                    .ok_or_else(|| wrong(name, "a date-time", &values[0]))?,
                other => return Err(wrong(name, "a date-time", other)),
            };
            Val::Int(i64::from(match function {
                Function::Hour => time.hour,
                Function::Minute => time.minute,
                _ => time.second,
            }))
        }
    })
}

fn wrong(operator: &str, expected: &str, found: &Val) -> EvalError {
    EvalError::WrongType {
        operator: operator.into(),
        expected: expected.into(),
        found: found.type_name(),
    }
}
