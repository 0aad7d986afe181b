//! The `$filter` (and `$orderby`) expression tree, typed so that a walker — the in-memory
//! evaluator here, a SQL translator later — matches on what an expression is rather than
//! re-reading text; and its rendering back to OData text (`Display`), which the parser reads
//! back to the same tree (parentheses only where precedence needs them).

use std::fmt;

use crate::literal::{Date, DateTimeOffset, Guid};

/// A filter or ordering expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Literal),
    /// A member path `A/B/C`: a property of the row (or of a lambda variable when the first
    /// segment names one in scope; `$it` names the row itself).
    Path(Vec<String>),
    Compare {
        op: CompareOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `value in (a, b, …)`: at least one item.
    In {
        value: Box<Expr>,
        list: Vec<Expr>,
    },
    Call {
        function: Function,
        args: Vec<Expr>,
    },
    /// `Path/any(v: predicate)`, `Path/all(v: predicate)`, or `Path/any()` (not empty).
    Lambda {
        path: Vec<String>,
        kind: LambdaKind,
        body: Option<LambdaBody>,
    },
}

/// The variable and predicate of a lambda.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaBody {
    pub variable: String,
    pub predicate: Box<Expr>,
}

/// A primitive literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Boolean(bool),
    /// An `Edm.Int64` (or narrower) integer.
    Integer(i64),
    /// An `Edm.Decimal`/`Edm.Double` number as written (`1.5`, `-0.25`, `1e3`, `2.5E-3`):
    /// kept as text so that nothing is rounded before the consumer decides how to compare.
    Decimal(String),
    /// `'…'` with `''` for a quote; this is the unescaped value.
    String(String),
    Guid(Guid),
    DateTimeOffset(DateTimeOffset),
    Date(Date),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub fn keyword(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    pub fn from_keyword(word: &str) -> Option<CompareOp> {
        Some(match word {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }

    /// `eq`/`ne` bind looser than `gt ge lt le` (the OData precedence table).
    fn precedence(self) -> u8 {
        match self {
            CompareOp::Eq | CompareOp::Ne => PREC_EQUALITY,
            _ => PREC_RELATIONAL,
        }
    }
}

/// `any` or `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LambdaKind {
    Any,
    All,
}

impl LambdaKind {
    pub fn keyword(self) -> &'static str {
        match self {
            LambdaKind::Any => "any",
            LambdaKind::All => "all",
        }
    }
}

/// The canonical functions this implementation knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Contains,
    StartsWith,
    EndsWith,
    ToLower,
    ToUpper,
    Length,
    IndexOf,
    Substring,
    Trim,
    Concat,
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

impl Function {
    pub const ALL: [Function; 16] = [
        Function::Contains,
        Function::StartsWith,
        Function::EndsWith,
        Function::ToLower,
        Function::ToUpper,
        Function::Length,
        Function::IndexOf,
        Function::Substring,
        Function::Trim,
        Function::Concat,
        Function::Year,
        Function::Month,
        Function::Day,
        Function::Hour,
        Function::Minute,
        Function::Second,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Function::Contains => "contains",
            Function::StartsWith => "startswith",
            Function::EndsWith => "endswith",
            Function::ToLower => "tolower",
            Function::ToUpper => "toupper",
            Function::Length => "length",
            Function::IndexOf => "indexof",
            Function::Substring => "substring",
            Function::Trim => "trim",
            Function::Concat => "concat",
            Function::Year => "year",
            Function::Month => "month",
            Function::Day => "day",
            Function::Hour => "hour",
            Function::Minute => "minute",
            Function::Second => "second",
        }
    }

    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The argument counts it accepts (inclusive range).
    pub fn arity(self) -> (usize, usize) {
        match self {
            Function::Contains
            | Function::StartsWith
            | Function::EndsWith
            | Function::IndexOf
            | Function::Concat => (2, 2),
            Function::Substring => (2, 3),
            _ => (1, 1),
        }
    }
}

const PREC_OR: u8 = 1;
const PREC_AND: u8 = 2;
const PREC_EQUALITY: u8 = 3;
const PREC_RELATIONAL: u8 = 4;
const PREC_UNARY: u8 = 5;
const PREC_PRIMARY: u8 = 6;

impl Expr {
    /// How tightly the expression binds (higher binds tighter), per the OData table.
    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => PREC_OR,
            Expr::And(..) => PREC_AND,
            Expr::Compare { op, .. } => op.precedence(),
            Expr::Not(_) => PREC_UNARY,
            _ => PREC_PRIMARY,
        }
    }

    /// A path expression from `/`-separated segments (`"A/B"`).
    pub fn path(path: &str) -> Expr {
        Expr::Path(path.split('/').map(str::to_owned).collect())
    }

    /// `left op right`.
    pub fn compare(left: Expr, op: CompareOp, right: Expr) -> Expr {
        Expr::Compare {
            op,
            left: Box::new(left),
            right: Box::new(right),
        }
    }
}

/// Writes `expr`, in parentheses when it binds looser than `min`.
fn write_child(f: &mut fmt::Formatter<'_>, expr: &Expr, min: u8) -> fmt::Result {
    if expr.precedence() < min {
        write!(f, "({expr})")
    } else {
        write!(f, "{expr}")
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal(literal) => write!(f, "{literal}"),
            Expr::Path(segments) => f.write_str(&segments.join("/")),
            Expr::Compare { op, left, right } => {
                let p = op.precedence();
                write_child(f, left, p)?;
                write!(f, " {} ", op.keyword())?;
                write_child(f, right, p + 1)
            }
            Expr::And(left, right) | Expr::Or(left, right) => {
                let (p, word) = match self {
                    Expr::And(..) => (PREC_AND, "and"),
                    _ => (PREC_OR, "or"),
                };
                write_child(f, left, p)?;
                write!(f, " {word} ")?;
                write_child(f, right, p + 1)
            }
            Expr::Not(inner) => {
                f.write_str("not ")?;
                write_child(f, inner, PREC_UNARY)
            }
            Expr::In { value, list } => {
                write_child(f, value, PREC_PRIMARY)?;
                f.write_str(" in (")?;
                write_list(f, list)?;
                f.write_str(")")
            }
            Expr::Call { function, args } => {
                write!(f, "{}(", function.name())?;
                write_list(f, args)?;
                f.write_str(")")
            }
            Expr::Lambda { path, kind, body } => {
                write!(f, "{}/{}(", path.join("/"), kind.keyword())?;
                if let Some(body) = body {
                    write!(f, "{}:{}", body.variable, body.predicate)?;
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Boolean(b) => write!(f, "{b}"),
            Literal::Integer(i) => write!(f, "{i}"),
            Literal::Decimal(text) => f.write_str(text),
            Literal::String(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Literal::Guid(g) => write!(f, "{g}"),
            Literal::DateTimeOffset(d) => write!(f, "{d}"),
            Literal::Date(d) => write!(f, "{d}"),
        }
    }
}
