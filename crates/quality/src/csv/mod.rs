//! CSV input for the SPC engine, as pure functions over `&str` (the caller reads the file).
//!
//! Two stages, as for the JSON contract: [`parse_csv`] turns text into named numeric columns
//! (errors name the 1-based line and the column), then [`request_from_csv`] shapes those
//! columns into an [`AnalyzeRequest`](crate::AnalyzeRequest) for a chart kind, with the options of
//! `mixplane spc analyze FILE.csv --chart KIND [--subgroup-size N | --size-column C]
//! [--phase1 RANGE] [--rules SET] [--lsl X] [--usl Y]`.
//!
//! Dialect: read by the `csv` crate in strict mode: every row has as many fields as the first
//! line (a row with more or fewer is an error naming its line). The delimiter is given
//! ([`CsvOptions::delimiter`]) or detected ([`detect_delimiter`]: `;`, tab or `|` when every
//! line splits on it into the same number of fields, else `,`). Optional double quotes with
//! `""` escapes, CRLF or LF, blank lines ignored, a header line unless told otherwise (then the
//! columns are named `1`, `2`, ...). Numbers use a decimal point; with a delimiter other than
//! the comma a decimal comma (`1,5`) reads as 1.5, and in a comma-separated file a quoted
//! decimal comma is refused by name. Empty cells and text in a numeric column are errors.
//!
//! Code map: `read` (text to numeric columns: delimiter, strict field counts, decimal
//! commas), `request` (columns and options to a request; `--phase1` and `--rules`).

use thiserror::Error;

mod read;
mod request;

pub use read::{ColumnSpec, CsvTable, detect_delimiter, parse_csv};
pub use request::{CsvOptions, analyze_csv, parse_range, parse_rules, request_from_csv};

/// Why CSV input could not be turned into data.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CsvError {
    /// No header line (or no line at all).
    #[error("empty input: no header line")]
    Empty,
    /// A requested column is not in the header.
    #[error("line {line}: column `{column}` not found (columns: {available})")]
    MissingColumn {
        /// The header line.
        line: usize,
        /// Requested column.
        column: String,
        /// Comma-separated header names.
        available: String,
    },
    /// A row has fewer fields than the first line.
    #[error("line {line}: no value in column `{column}` (row has {found} fields)")]
    ShortRow {
        /// Line of the row.
        line: usize,
        /// The first column the row has no field for.
        column: String,
        /// Number of fields in the row.
        found: usize,
    },
    /// A row has more fields than the first line.
    #[error(
        "line {line}: {found} fields where the first line has {expected} \
         (delimiter `{delimiter}`: a decimal comma, or another delimiter? see --delimiter)"
    )]
    LongRow {
        /// Line of the row.
        line: usize,
        /// Fields of the first line.
        expected: usize,
        /// Fields of this row.
        found: usize,
        /// The delimiter the file was read with.
        delimiter: char,
    },
    /// The CSV reader failed otherwise.
    #[error("line {line}: {reason}")]
    Unreadable {
        /// Line where reading stopped.
        line: usize,
        /// The reader's message.
        reason: String,
    },
    /// A cell of a numeric column is not a finite number.
    #[error("line {line}, column `{column}`: `{text}` is not a number")]
    NotANumber {
        /// Line of the row.
        line: usize,
        /// Column name.
        column: String,
        /// Cell text.
        text: String,
    },
    /// A number written with a decimal comma in a comma-separated file.
    #[error(
        "line {line}, column `{column}`: `{text}` has a decimal comma, which a comma-separated \
         file cannot carry: write a decimal point, or separate the fields with `;` \
         (--delimiter ';')"
    )]
    DecimalComma {
        /// Line of the row.
        line: usize,
        /// Column name.
        column: String,
        /// Cell text.
        text: String,
    },
    /// The rows do not fill whole subgroups.
    #[error("line {line}: {rows} data rows do not split into subgroups of {size}")]
    IncompleteSubgroup {
        /// Line of the last row.
        line: usize,
        /// Data rows read.
        rows: usize,
        /// Subgroup size.
        size: usize,
    },
    /// An option is invalid or missing for the chosen chart.
    #[error("option `{option}`: {reason}")]
    BadOption {
        /// Option name (`--phase1`, `--subgroup-size`, ...).
        option: &'static str,
        /// What is wrong.
        reason: String,
    },
}

#[cfg(test)]
mod tests;
