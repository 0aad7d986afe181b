//! The OData v4 query language, pure: system query options parsed from a request's query
//! string ([`QueryOptions::parse`]) into a typed expression tree ([`Expr`]), evaluated over
//! in-memory rows of JSON ([`eval::matches`], [`eval::apply`] with server-driven paging), and
//! the service's description: the CSDL `$metadata` document, the service document and the
//! error body ([`csdl`]).
//!
//! *Invariant:* it must not do I/O or read a clock or the environment: text and rows in,
//! values out; the same inputs give the same outputs (a skiptoken resumes the same way on
//! every run). It knows nothing of HTTP, SQL or the rest of mixplane; the edges (the MES
//! emulator, the connectors, later an OData read surface over SQL) translate.
pub mod csdl;
pub mod error;
pub mod eval;
pub mod expr;
mod lexer;
pub mod literal;
pub mod options;
mod paging;
mod parser;

pub use error::{EvalError, QueryError};
pub use eval::{Page, Paging};
pub use expr::{CompareOp, Expr, Function, LambdaKind, Literal};
pub use literal::{Date, DateTimeOffset, Guid};
pub use options::{ExpandItem, OrderBy, QueryOptions, SelectItem};
