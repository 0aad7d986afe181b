//! Unit tests of CSV input: dialect, delimiters and decimal commas, line numbers in errors,
//! option parsers, and requests built from CSV.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::api::{AnalyzeResponse, ChartKind, analyze};
use crate::rules::RuleSet;

#[test]
fn reads_named_columns_with_quotes_and_crlf() {
    let t = "lot,\"weight, g\",n\r\nA,1.5,10\r\n\r\n\"B\",\"2.5\",10\r\n";
    let tab = parse_csv(t, &ColumnSpec::named(["weight, g", "n"])).unwrap();
    assert_eq!(tab.columns, vec![vec![1.5, 2.5], vec![10.0, 10.0]]);
    assert_eq!(tab.lines, vec![2, 4]);
}

#[test]
fn errors_name_line_and_column() {
    let t = "x,y\n1,2\n3,abc\n";
    assert_eq!(
        parse_csv(t, &ColumnSpec::named(["y"])).unwrap_err(),
        CsvError::NotANumber {
            line: 3,
            column: "y".into(),
            text: "abc".into()
        }
    );
    assert!(matches!(
        parse_csv(t, &ColumnSpec::named(["z"])).unwrap_err(),
        CsvError::MissingColumn { line: 1, .. }
    ));
    let t = "x,y\n1,2\n3\n";
    assert!(matches!(
        parse_csv(t, &ColumnSpec::named(["y"])).unwrap_err(),
        CsvError::ShortRow { line: 3, .. }
    ));
    let t = "x,y\n1,\n";
    assert!(matches!(
        parse_csv(t, &ColumnSpec::named(["y"])).unwrap_err(),
        CsvError::NotANumber { line: 2, .. }
    ));
}

#[test]
fn semicolons_and_decimal_commas_read_as_numbers() {
    // The defect: this file charted the values 1 and 2 as if comma-separated.
    let t = "x;y\n1,5;2,1\n1,7;-2,3e1\n";
    assert_eq!(detect_delimiter(t), ';');
    let spec = ColumnSpec {
        delimiter: ';',
        ..ColumnSpec::named(["x", "y"])
    };
    let tab = parse_csv(t, &spec).unwrap();
    assert_eq!(tab.columns, vec![vec![1.5, 1.7], vec![2.1, -23.0]]);
    assert_eq!(tab.lines, vec![2, 3]);
    // Read as comma-separated, the row is too long for the header: refused, line named.
    assert_eq!(
        parse_csv(t, &ColumnSpec::named(["x;y"])).unwrap_err(),
        CsvError::LongRow {
            line: 2,
            expected: 1,
            found: 3,
            delimiter: ','
        }
    );
    // A quoted decimal comma in a comma-separated file is refused by name.
    let e = parse_csv("x,y\n\"1,5\",2\n", &ColumnSpec::named(["x"])).unwrap_err();
    assert!(matches!(e, CsvError::DecimalComma { line: 2, .. }), "{e:?}");
    assert!(e.to_string().contains("decimal comma"), "{e}");
    // Thousands separators and two commas are not numbers.
    for cell in ["1.234,5", "1,2,3"] {
        let t = format!("x;y\n{cell};1\n");
        let spec = ColumnSpec {
            delimiter: ';',
            ..ColumnSpec::named(["x"])
        };
        assert!(matches!(
            parse_csv(&t, &spec).unwrap_err(),
            CsvError::NotANumber { line: 2, .. }
        ));
    }
}

#[test]
fn the_delimiter_is_detected_or_given() {
    assert_eq!(detect_delimiter("a,b\n1,2\n"), ',');
    assert_eq!(detect_delimiter("a\tb\n1\t2,5\n"), '\t');
    assert_eq!(detect_delimiter("a|b\n1|2\n"), '|');
    assert_eq!(detect_delimiter("\"a;b\",c\n1,2\n"), ',');
    assert_eq!(detect_delimiter("1,5;2,1\n1,7;2,3\n"), ';');
    assert_eq!(detect_delimiter("x\n1\n"), ',');
    // Uneven semicolons do not make a delimiter.
    assert_eq!(detect_delimiter("a,b\n1;2,3\n4,5\n"), ',');
    let opts = |delimiter| CsvOptions {
        chart: Some(ChartKind::Imr),
        delimiter,
        ..CsvOptions::default()
    };
    let t = "x;y\n1,5;0\n2,5;0\n2,0;0\n";
    let req = request_from_csv(t, &opts(None)).unwrap();
    assert_eq!(req.data["values"], json!([1.5, 2.5, 2.0]));
    assert!(matches!(
        request_from_csv(t, &opts(Some(','))),
        Err(CsvError::LongRow { line: 2, .. })
    ));
    assert!(matches!(
        request_from_csv(t, &opts(Some('"'))),
        Err(CsvError::BadOption {
            option: "--delimiter",
            ..
        })
    ));
}

#[test]
fn rows_of_the_wrong_width_name_their_line() {
    let e = parse_csv("x,y\n1,2\n3,4,5\n", &ColumnSpec::named(["x"])).unwrap_err();
    assert_eq!(
        e,
        CsvError::LongRow {
            line: 3,
            expected: 2,
            found: 3,
            delimiter: ','
        }
    );
    assert!(e.to_string().starts_with("line 3: 3 fields"), "{e}");
    // A short row is refused even when the requested column is present.
    let e = parse_csv("x,y\n1,2\n3\n", &ColumnSpec::named(["x"])).unwrap_err();
    assert_eq!(
        e,
        CsvError::ShortRow {
            line: 3,
            column: "y".into(),
            found: 1
        }
    );
    // Without a header the first row sets the width.
    let spec = ColumnSpec {
        columns: vec!["1".into()],
        has_header: false,
        delimiter: ',',
    };
    assert!(matches!(
        parse_csv("1,2\n\n3\n", &spec).unwrap_err(),
        CsvError::ShortRow { line: 3, .. }
    ));
    // Blank lines, also of spaces in a one-column file, are skipped.
    let tab = parse_csv("x\n1\n  \n\n2\n", &ColumnSpec::named(["x"])).unwrap();
    assert_eq!(tab.columns, vec![vec![1.0, 2.0]]);
    assert_eq!(tab.lines, vec![2, 5]);
}

#[test]
fn ranges_and_rules() {
    assert_eq!(parse_range("0..3").unwrap(), vec![0, 1, 2, 3]);
    assert_eq!(parse_range("0-3").unwrap(), vec![0, 1, 2, 3]);
    assert_eq!(parse_range("0-1, 5, 7..=8").unwrap(), vec![0, 1, 5, 7, 8]);
    assert!(parse_range("5-2").is_err());
    assert!(parse_range("a-2").is_err());
    assert_eq!(
        parse_rules("we").unwrap(),
        (RuleSet::WesternElectric, vec![1, 2, 3, 4])
    );
    assert_eq!(
        parse_rules("1,2,5").unwrap(),
        (RuleSet::Nelson, vec![1, 2, 5])
    );
    assert_eq!(
        parse_rules("we:1,3").unwrap(),
        (RuleSet::WesternElectric, vec![1, 3])
    );
    assert!(parse_rules("9").is_err());
}

#[test]
fn xbar_request_from_csv_matches_json_path() {
    let mut t = String::from("d\n");
    for i in 0..20 {
        t.push_str(&format!("{}\n", 10.0 + f64::from(i % 7) * 0.1));
    }
    let req = request_from_csv(
        &t,
        &CsvOptions {
            chart: Some(ChartKind::XbarR),
            subgroup_size: Some(4),
            phase1: Some("0-3".into()),
            rules: Some("we".into()),
            ..CsvOptions::default()
        },
    )
    .unwrap();
    assert_eq!(req.data["subgroups"].as_array().unwrap().len(), 5);
    let AnalyzeResponse::Shewhart(c) = analyze(&req).unwrap() else {
        panic!("expected a Shewhart chart");
    };
    assert_eq!(c.statistic.len(), 5);
    let bad = request_from_csv(
        "d\n1\n2\n3\n",
        &CsvOptions {
            chart: Some(ChartKind::XbarR),
            subgroup_size: Some(2),
            ..CsvOptions::default()
        },
    );
    assert!(matches!(
        bad,
        Err(CsvError::IncompleteSubgroup { line: 4, .. })
    ));
}

#[test]
fn p_chart_with_size_column() {
    let t = "defects,inspected\n3,50\n5,60\n2,40\n";
    let req = request_from_csv(
        t,
        &CsvOptions {
            chart: Some(ChartKind::P),
            size_column: Some("inspected".into()),
            ..CsvOptions::default()
        },
    )
    .unwrap();
    assert_eq!(req.data["sizes"], json!([50.0, 60.0, 40.0]));
    assert!(analyze(&req).is_ok());
    let e = analyze_csv(
        "defects\n1\nx\n",
        &CsvOptions {
            chart: Some(ChartKind::C),
            ..CsvOptions::default()
        },
    );
    assert!(matches!(
        e,
        Err(crate::error::QualityError::Csv(CsvError::NotANumber {
            line: 3,
            ..
        }))
    ));
}

proptest! {
    #[test]
    fn parser_never_panics(text in "\\PC*", col in "[a-z,\"]{0,3}") {
        let _ = parse_csv(&text, &ColumnSpec::named([col.clone()]));
        let _ = parse_csv(&text, &ColumnSpec { columns: vec!["1".into()], has_header: false, delimiter: ';' });
        let _ = parse_range(&text);
        let _ = parse_rules(&text);
    }

    #[test]
    fn csv_like_input_never_panics(
        text in "([0-9a-z.\",\\-]{0,6}(,|\n|\r\n)){0,30}",
        size in proptest::option::of(0usize..5),
    ) {
        for &chart in ChartKind::ALL.iter() {
            let opts = CsvOptions { chart: Some(chart), subgroup_size: size, ..CsvOptions::default() };
            if let Ok(req) = request_from_csv(&text, &opts) {
                let _ = analyze(&req);
            }
        }
    }
}
