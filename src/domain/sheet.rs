//! Spreadsheets of nominations: a CSV file (RFC 4180, UTF-8, a header row) or the first
//! worksheet of an XLSX workbook (ECMA-376, read by `calamine`), one member per data row, with
//! the member columns of `participants.csv`. Each row is read by the one member parser
//! ([`parse_member_item`]), and errors name the row as the sheet numbers it (the header is row
//! 1) and the column by its header: `{"field": "row 17, full_name", ...}`.

use std::collections::BTreeSet;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::{Map, Value};

use super::delegation::{parse_member_item, MemberPost, MAX_MEMBER_BATCH};
use super::input::{Errors, Invalid};

/// The media type of a CSV sheet (RFC 7111).
pub const CSV: &str = "text/csv";
/// The media type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The columns a sheet of members may have: the member columns of `participants.csv`, each
/// the field of the JSON member body of the same name (`member_position`, the export's name
/// of `position`, is read as `position`).
pub const MEMBER_COLUMNS: &[&str] = &[
    "honorific",
    "full_name",
    "family_name",
    "native_name",
    "title",
    "position",
    "category",
    "is_head",
    "email",
    "gender",
    "nomination_status",
    "nomination_note",
];

/// A sheet as text: its header row and its data rows, each with its row number in the sheet
/// (1-based; the header is row `header_row`).
#[derive(Debug, Default)]
pub struct Sheet {
    /// The row number of the header.
    pub header_row: usize,
    /// The header cells, trimmed.
    pub headers: Vec<String>,
    /// The data rows: their row number and cells.
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Reads a CSV document. Errors: 422 (`body`) when it is not UTF-8 or not CSV, naming the row.
pub fn read_csv(bytes: &[u8]) -> Result<Sheet, Invalid> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut sheet = Sheet::default();
    // Rows as a spreadsheet program numbers them: a blank line is a row too (the reader skips
    // it), a quoted cell over several lines is one row.
    let (mut row, mut next_line) = (0usize, 1u64);
    loop {
        let mut record = csv::StringRecord::new();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(next_line, csv::Position::line);
                let at = row + 1 + line.saturating_sub(next_line) as usize;
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => {
                        "is not UTF-8 text (save the sheet as \"CSV UTF-8\")".to_string()
                    }
                    _ => format!("is not CSV (RFC 4180): {e}"),
                };
                return Err(Invalid(vec![super::input::FieldError::new(
                    format!("row {at}"),
                    message,
                )]));
            }
        }
        // The reader's position after a record is the line after it (unless the text ends
        // without a line break); the record's first line is that less its own line breaks.
        let after = reader.position();
        let ended = after.byte() > 0 && bytes.get(after.byte() as usize - 1) == Some(&b'\n');
        let last = after.line() - u64::from(ended);
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        let breaks: usize = cells.iter().map(|c| c.matches('\n').count()).sum();
        let first = last.saturating_sub(breaks as u64);
        row += 1 + first.saturating_sub(next_line) as usize;
        next_line = last + 1;
        if sheet.header_row == 0 {
            // A sheet saved with semicolons (spreadsheet programs in many locales do) reads
            // as one column: say so instead of naming an unknown column.
            if cells.len() == 1 && cells[0].contains(';') {
                return Err(Invalid(vec![super::input::FieldError::new(
                    format!("row {row}"),
                    "the columns are separated by semicolons; a CSV here separates them by \
                     commas (RFC 4180)",
                )]));
            }
            sheet.header_row = row;
            sheet.headers = cells.iter().map(|c| c.trim().to_string()).collect();
        } else {
            sheet.rows.push((row, cells));
        }
    }
    Ok(sheet)
}

/// Reads the first worksheet of an XLSX workbook; its first used row is the header. Errors:
/// 422 (`body`) when the bytes are not an XLSX workbook or it has no worksheet.
pub fn read_xlsx(bytes: &[u8]) -> Result<Sheet, Invalid> {
    let fail = |m: String| Invalid(vec![super::input::FieldError::new("body", m)]);
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        fail(format!(
            "is not an XLSX workbook (an Excel 2007 or later .xlsx file): {e}"
        ))
    })?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| fail("the workbook has no worksheet".to_string()))?
        .map_err(|e| fail(format!("its first worksheet cannot be read: {e}")))?;
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    // Columns before the first used one are empty: the header keeps their places.
    let pad = first_col as usize;
    let mut sheet = Sheet::default();
    for (i, row) in range.rows().enumerate() {
        let number = first_row as usize + i + 1;
        let cells: Vec<String> = std::iter::repeat_n(String::new(), pad)
            .chain(row.iter().map(cell_text))
            .collect();
        if i == 0 {
            sheet.header_row = number;
            sheet.headers = cells.iter().map(|c| c.trim().to_string()).collect();
        } else {
            sheet.rows.push((number, cells));
        }
    }
    Ok(sheet)
}

/// A cell as the text a user sees in it (a whole number without `.0`).
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// A column's name for errors: its header, or its position when it has none.
fn column_name(header: &str, i: usize) -> String {
    if header.is_empty() {
        format!("column {}", i + 1)
    } else {
        header.to_string()
    }
}

/// Reads the members of a sheet: one item per data row that has a cell that is not blank (blank
/// rows are skipped), named `row N` ([`MemberPost::Batch`]), and the member fields the rows set
/// (for the access rule of review fields). `is_head` reads `true`/`false`, `yes`/`no`, `1`/`0`
/// in any letter case. Errors: 422 listing every problem: an unknown, repeated or missing
/// (`full_name`) column (`row 1, <header>`), a cell under no header, no data rows or more than
/// [`MAX_MEMBER_BATCH`], and each invalid cell (`row 17, full_name`).
pub fn parse_member_sheet(sheet: &Sheet) -> Result<(MemberPost, Vec<String>), Invalid> {
    let mut errors = Errors::new();
    let header = format!("row {}", sheet.header_row.max(1));
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    for h in &sheet.headers {
        let canonical = if h == "member_position" {
            Some("position")
        } else {
            MEMBER_COLUMNS.iter().copied().find(|c| *c == h.as_str())
        };
        match canonical {
            _ if h.is_empty() => {}
            Some(c) if columns.contains(&Some(c)) => {
                errors.push(format!("{header}, {h}"), "this column is given twice")
            }
            Some(_) => {}
            None => errors.push(
                format!("{header}, {h}"),
                format!(
                    "unknown column; the columns are {}",
                    MEMBER_COLUMNS.join(", ")
                ),
            ),
        }
        columns.push(canonical);
    }
    if sheet.headers.iter().all(String::is_empty) {
        errors.push(
            header.clone(),
            "the first row must name the columns (full_name, ...)",
        );
        return errors.finish((MemberPost::Batch(Vec::new()), Vec::new()));
    }
    if !columns.contains(&Some("full_name")) {
        errors.push(header.clone(), "a full_name column is required");
    }
    let rows: Vec<&(usize, Vec<String>)> = sheet
        .rows
        .iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .collect();
    if rows.is_empty() {
        errors.push("body", "the sheet has no rows of members under its header");
    } else if rows.len() > MAX_MEMBER_BATCH {
        errors.push(
            "body",
            format!(
                "the sheet has {} rows of members; at most {MAX_MEMBER_BATCH} at once",
                rows.len()
            ),
        );
    }
    if !errors.is_empty() {
        return errors.finish((MemberPost::Batch(Vec::new()), Vec::new()));
    }
    let header_of = |field: &str| -> String {
        columns
            .iter()
            .position(|c| *c == Some(field))
            .map_or(field.to_string(), |i| sheet.headers[i].clone())
    };
    let mut fields = BTreeSet::new();
    let mut items = Vec::with_capacity(rows.len());
    for (number, cells) in rows {
        let name = format!("row {number}");
        let mut object = Map::new();
        for (i, cell) in cells.iter().enumerate() {
            let text = cell.trim();
            if text.is_empty() {
                continue;
            }
            let Some(Some(field)) = columns.get(i) else {
                errors.push(
                    format!("{name}, column {}", i + 1),
                    "this cell is under no column header",
                );
                continue;
            };
            let value = if *field == "is_head" {
                match text.to_lowercase().as_str() {
                    "true" | "yes" | "1" => Value::Bool(true),
                    "false" | "no" | "0" => Value::Bool(false),
                    _ => {
                        errors.push(
                            format!("{name}, {}", column_name(&sheet.headers[i], i)),
                            "must be true or false (or yes, no, 1, 0)",
                        );
                        continue;
                    }
                }
            } else {
                Value::String(cell.clone())
            };
            fields.insert(field.to_string());
            object.insert(field.to_string(), value);
        }
        let changes =
            parse_member_item(&Value::Object(object), &name, ", ", header_of, &mut errors);
        items.push((name, changes));
    }
    errors.finish((MemberPost::Batch(items), fields.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(r: Result<(MemberPost, Vec<String>), Invalid>) -> Vec<String> {
        match r {
            Err(Invalid(e)) => e.into_iter().map(|f| f.field).collect(),
            Ok(_) => Vec::new(),
        }
    }

    #[test]
    fn rows_are_numbered_as_in_the_sheet_and_blank_rows_are_skipped() {
        let csv = "full_name,is_head,member_position\nA B,yes,Minister\n,,\n\"\",maybe,\n";
        let sheet = read_csv(csv.as_bytes()).expect("csv");
        assert_eq!(
            fields(parse_member_sheet(&sheet)),
            ["row 4, is_head", "row 4, full_name"]
        );
        let ok = read_csv(
            b"\xEF\xBB\xBFfull_name,nomination_note\r\nA B,\"Seen,\nagreed\"\r\n\r\n,\nC D,",
        )
        .expect("csv");
        let Ok((MemberPost::Batch(items), set)) = parse_member_sheet(&ok) else {
            panic!("not a batch");
        };
        let names: Vec<&str> = items.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["row 2", "row 5"]);
        assert_eq!(
            items[0].1.nomination_note,
            Some(Some("Seen,\nagreed".to_string()))
        );
        assert_eq!(set, ["full_name", "nomination_note"]);
    }

    #[test]
    fn unknown_and_missing_columns_are_named_on_the_header_row() {
        let sheet = read_csv(b"name,badge_colour\nA,red\n").expect("csv");
        assert_eq!(
            fields(parse_member_sheet(&sheet)),
            ["row 1, name", "row 1, badge_colour", "row 1"]
        );
    }

    #[test]
    fn bytes_that_are_not_a_workbook_are_named_as_the_body() {
        let Err(Invalid(e)) = read_xlsx(b"PK\x03\x04 not really") else {
            panic!("read");
        };
        assert_eq!(e[0].field, "body");
        assert!(e[0].message.starts_with("is not an XLSX workbook"), "{e:?}");
    }

    #[test]
    fn semicolons_and_other_encodings_are_named_with_what_to_do() {
        let Err(Invalid(e)) = read_csv(b"full_name;category\nA B;adviser\n") else {
            panic!("read");
        };
        assert_eq!(e[0].field, "row 1");
        assert!(e[0].message.contains("semicolons"), "{e:?}");
        // "Müller" in Windows-1252.
        let Err(Invalid(e)) = read_csv(b"full_name\nM\xfcller\n") else {
            panic!("read");
        };
        assert_eq!(e[0].field, "row 2");
        assert!(e[0].message.contains("CSV UTF-8"), "{e:?}");
    }
}
