//! CSV text to named numeric columns, through the `csv` crate in strict mode: the delimiter
//! (given or detected), the line of every row, and numbers with a decimal point or, when the
//! fields are not comma-separated, a decimal comma.

use super::CsvError;

/// Which columns to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Column names, in the order wanted (header names, or `1`, `2`, ... without header).
    pub columns: Vec<String>,
    /// Whether the first non-blank line is a header.
    pub has_header: bool,
    /// Field delimiter (one ASCII character; see [`detect_delimiter`]).
    pub delimiter: char,
}

impl ColumnSpec {
    /// Named columns of a comma-separated file with a header.
    pub fn named<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        ColumnSpec {
            columns: columns.into_iter().map(Into::into).collect(),
            has_header: true,
            delimiter: ',',
        }
    }
}

/// Numeric columns read from CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvTable {
    /// All header names (or `1`, `2`, ...).
    pub headers: Vec<String>,
    /// The requested columns, in [`ColumnSpec::columns`] order.
    pub columns: Vec<Vec<f64>>,
    /// 1-based line of each data row.
    pub lines: Vec<usize>,
}

/// Delimiters [`detect_delimiter`] considers besides the comma, in order of preference.
const OTHER_DELIMITERS: [char; 3] = [';', '\t', '|'];

/// Lines [`detect_delimiter`] looks at.
const SNIFF_RECORDS: usize = 50;

fn reader(text: &str, delimiter: u8, strict: bool) -> ::csv::Reader<&[u8]> {
    ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(!strict)
        .from_reader(text.as_bytes())
}

/// The delimiter of a CSV text: `;`, tab or `|` (in that order of preference) when the first
/// lines all split on it into the same number (more than one) of fields, otherwise `,`.
/// A semicolon wins over the comma even when both split evenly, since the comma may be a
/// decimal comma (`1,5;2,1`) while a semicolon is never part of a number.
pub fn detect_delimiter(text: &str) -> char {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let splits_evenly = |d: char| {
        let Ok(byte) = u8::try_from(d) else {
            return false;
        };
        let mut widths = reader(text, byte, false)
            .into_records()
            .take(SNIFF_RECORDS)
            .map(|r| r.map(|r| r.len()).unwrap_or(0));
        let first = widths.next().unwrap_or(0);
        first > 1 && widths.all(|w| w == first)
    };
    OTHER_DELIMITERS
        .into_iter()
        .find(|&d| splits_evenly(d))
        .unwrap_or(',')
}

/// One record: its starting line and its fields.
type Record = (usize, Vec<String>);

/// 1-based line numbers of byte offsets, read forwards (the `csv` crate's own line count
/// includes the blank lines before a record and miscounts CRLF line ends).
struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line of the first field at or after `byte` (empty lines are skipped, as the
    /// reader skips them); offsets must not go backwards.
    fn of_record_at(&mut self, byte: u64) -> usize {
        let target = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        self.advance_to(target);
        while matches!(self.text.get(self.at), Some(b'\n' | b'\r')) {
            self.advance_to(self.at + 1);
        }
        self.line
    }

    fn advance_to(&mut self, target: usize) {
        while self.at < target {
            let byte = self.text[self.at];
            let crlf = byte == b'\r' && self.text.get(self.at + 1) == Some(&b'\n');
            if (byte == b'\n' || byte == b'\r') && !crlf {
                self.line += 1;
            }
            self.at += 1;
        }
    }
}

fn records(text: &str, delimiter: char) -> Result<Vec<Record>, CsvError> {
    let byte = u8::try_from(delimiter)
        .ok()
        .filter(|b| b.is_ascii() && !matches!(b, b'"' | b'\n' | b'\r'))
        .ok_or_else(|| CsvError::BadOption {
            option: "--delimiter",
            reason: format!("`{delimiter}` cannot separate fields (one ASCII character other than a quote or a line break)"),
        })?;
    let mut out: Vec<Record> = Vec::new();
    let mut lines = Lines::new(text);
    for record in reader(text, byte, true).into_records() {
        match record {
            Ok(record) => {
                let line = lines.of_record_at(record.position().map_or(0, |p| p.byte()));
                let fields: Vec<String> = record.iter().map(str::to_owned).collect();
                // A line of blanks only is a blank line (the crate skips empty ones).
                if fields.len() == 1 && fields[0].trim().is_empty() {
                    continue;
                }
                out.push((line, fields));
            }
            Err(e) => {
                let line = lines.of_record_at(e.position().map_or(0, |p| p.byte()));
                let message = e.to_string();
                return Err(match e.into_kind() {
                    ::csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } if len < expected_len => CsvError::ShortRow {
                        line,
                        column: out
                            .first()
                            .and_then(|(_, first)| first.get(len as usize))
                            .map_or_else(|| (len + 1).to_string(), |h| h.trim().to_owned()),
                        found: len as usize,
                    },
                    ::csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => CsvError::LongRow {
                        line,
                        expected: expected_len as usize,
                        found: len as usize,
                        delimiter,
                    },
                    _ => CsvError::Unreadable {
                        line,
                        reason: message,
                    },
                });
            }
        }
    }
    Ok(out)
}

/// A cell (trimmed) as a finite number: with a decimal point, or with a decimal comma when
/// the fields are not comma-separated.
fn number(cell: &str, delimiter: char, line: usize, column: &str) -> Result<f64, CsvError> {
    let finite = |t: &str| t.parse::<f64>().ok().filter(|v| v.is_finite());
    let decimal_comma = cell.matches(',').count() == 1 && !cell.contains('.');
    let value = match finite(cell) {
        Some(v) => Some(v),
        None if decimal_comma && delimiter == ',' => {
            return Err(CsvError::DecimalComma {
                line,
                column: column.to_owned(),
                text: cell.to_owned(),
            });
        }
        None if decimal_comma => finite(&cell.replacen(',', ".", 1)),
        None => None,
    };
    value.ok_or_else(|| CsvError::NotANumber {
        line,
        column: column.to_owned(),
        text: cell.to_owned(),
    })
}

/// Reads the requested numeric columns.
pub fn parse_csv(text: &str, spec: &ColumnSpec) -> Result<CsvTable, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let recs = records(text, spec.delimiter)?;
    let (header_line, headers, data) = if spec.has_header {
        let Some(((line, h), rest)) = recs.split_first() else {
            return Err(CsvError::Empty);
        };
        (
            *line,
            h.iter().map(|s| s.trim().to_string()).collect::<Vec<_>>(),
            rest,
        )
    } else {
        let width = recs.iter().map(|r| r.1.len()).max().unwrap_or(0);
        (1, (1..=width).map(|i| i.to_string()).collect(), &recs[..])
    };
    let mut idx = Vec::with_capacity(spec.columns.len());
    for col in &spec.columns {
        let want = col.trim();
        let pos = headers
            .iter()
            .position(|h| h == want)
            .or_else(|| headers.iter().position(|h| h.eq_ignore_ascii_case(want)));
        match pos {
            Some(p) => idx.push(p),
            None => {
                return Err(CsvError::MissingColumn {
                    line: header_line,
                    column: col.clone(),
                    available: headers.join(", "),
                });
            }
        }
    }
    let mut columns = vec![Vec::with_capacity(data.len()); idx.len()];
    let mut lines = Vec::with_capacity(data.len());
    for (line, fields) in data {
        for (k, &p) in idx.iter().enumerate() {
            let Some(cell) = fields.get(p) else {
                return Err(CsvError::ShortRow {
                    line: *line,
                    column: headers[p].clone(),
                    found: fields.len(),
                });
            };
            columns[k].push(number(cell.trim(), spec.delimiter, *line, &headers[p])?);
        }
        lines.push(*line);
    }
    Ok(CsvTable {
        headers,
        columns,
        lines,
    })
}
