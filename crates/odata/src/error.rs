//! The errors of this crate: [`QueryError`] for a query string that cannot be read (naming the
//! option, the position in its decoded value and what was expected there), [`EvalError`] for
//! an expression that cannot be evaluated over a row (naming the operator and the values).

use thiserror::Error;

/// A query string that is not a valid set of OData system query options.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    /// The text of an option does not follow its grammar. `position` is the byte offset in
    /// the option's percent-decoded value (0 is its first character).
    #[error("{option}: at position {position}: expected {expected}, found {found}")]
    Syntax {
        option: String,
        position: usize,
        expected: String,
        found: String,
    },
    /// A `%` not followed by two hex digits, or bytes that are not UTF-8 once decoded.
    #[error("query string: at byte {position}: {problem}")]
    Encoding { position: usize, problem: String },
    /// A `$`-option this implementation does not define (or does not support).
    #[error("unknown system query option {0} (supported: {SUPPORTED})")]
    UnknownOption(String),
    /// A system query option given twice.
    #[error("system query option {0} given more than once")]
    Repeated(String),
    /// A value of the right shape but not allowed (a negative `$top`, a `$count` that is not
    /// `true`/`false`, a nested `$expand`).
    #[error("{option}: {problem}")]
    Invalid { option: String, problem: String },
}

const SUPPORTED: &str =
    "$filter, $select, $orderby, $top, $skip, $count, $expand, $skiptoken, $format";

impl QueryError {
    pub(crate) fn syntax(
        option: &str,
        position: usize,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> QueryError {
        QueryError::Syntax {
            option: option.to_owned(),
            position,
            expected: expected.into(),
            found: found.into(),
        }
    }

    pub(crate) fn invalid(option: &str, problem: impl Into<String>) -> QueryError {
        QueryError::Invalid {
            option: option.to_owned(),
            problem: problem.into(),
        }
    }
}

/// An expression that cannot be evaluated over a row.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvalError {
    /// Two values that have no order or equality between them (a string and a number, a
    /// string that is not a date-time against a date-time literal).
    #[error("{operator}: cannot compare {left} with {right}")]
    TypeMismatch {
        operator: String,
        left: String,
        right: String,
    },
    /// A function or operator given a value of a type it does not take.
    #[error("{operator}: expected {expected}, found {found}")]
    WrongType {
        operator: String,
        expected: String,
        found: String,
    },
    /// A lambda over a property that is neither an array nor null.
    #[error("{path}: any/all need a collection, found {found}")]
    NotACollection { path: String, found: String },
    /// A `$skiptoken` that this service did not hand out for this query.
    #[error("$skiptoken: {0}")]
    BadSkipToken(String),
}
