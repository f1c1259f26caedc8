//! CSV files (RFC 4180) written with the `csv` crate: UTF-8 without byte-order mark, a header
//! row, CRLF line ends, fields quoted when they contain a comma, quote or line break.
//!
//! Every data cell that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`,
//! `@`, a tab or a carriage return; OWASP "CSV injection") is made inert by a leading
//! apostrophe `'`; the rest of the text, Unicode included, is written unchanged.

use std::borrow::Cow;

use crate::domain::delegation::display_name;
use crate::error::ApiError;
use crate::store::participants::ParticipantDelegation;

/// The media type of CSV responses.
pub const CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// A cell made inert for spreadsheets: `'` before a leading `=`, `+`, `-`, `@`, tab or CR.
pub fn inert(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Writes `header` and `rows` as a CSV document; every row must have as many cells as the
/// header. Data cells go through [`inert`]. Errors: 500 when a row has the wrong width (a bug).
pub fn to_csv<I>(header: &[&str], rows: I) -> Result<Vec<u8>, ApiError>
where
    I: IntoIterator<Item = Vec<String>>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(header).map_err(ApiError::internal)?;
    for row in rows {
        writer
            .write_record(row.iter().map(|c| inert(c).into_owned()))
            .map_err(ApiError::internal)?;
    }
    writer
        .into_inner()
        .map_err(|e| ApiError::internal(e.error()))
}

/// An optional value as a cell (empty when null).
pub fn opt<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// The columns of `participants.csv` (API.md, "Details that clients rely on"; `email` only
/// for the conference's organisers): what secretariats mail-merge badges, place cards and
/// letters from, and the columns a spreadsheet of nominations may have.
pub const PARTICIPANT_COLUMNS: &[&str] = &[
    "section",
    "delegation",
    "honorific",
    "full_name",
    "family_name",
    "native_name",
    "title",
    "position",
    "category",
    "is_head",
    "email",
];

/// The list of participants as a CSV document ([`PARTICIPANT_COLUMNS`]): one row per member
/// (a delegation without members has one row with its section and name, the member cells
/// empty), in the order of `delegations` (sections, protocol order), members in their order
/// (head first). `delegation` is the state's UN English short name or the organisation's name
/// with its acronym in brackets. The `email` column only `with_email` (the conference's
/// organisers). This one writer serves the live list (`participants.csv`) and every edition
/// (`participants/editions/{number}.csv`, read back from its snapshot). Errors: 500 only on a
/// bug (a row of the wrong width).
pub fn participants_csv(
    delegations: Vec<ParticipantDelegation>,
    with_email: bool,
) -> Result<Vec<u8>, ApiError> {
    let columns: Vec<&str> = PARTICIPANT_COLUMNS
        .iter()
        .copied()
        .filter(|c| with_email || *c != "email")
        .collect();
    let mut rows = Vec::new();
    for d in delegations {
        let delegation = vec![
            d.section.to_string(),
            display_name(&d.name, d.acronym.as_deref()),
        ];
        if d.members.is_empty() {
            let mut row = delegation.clone();
            row.extend(std::iter::repeat_n(
                String::new(),
                columns.len() - row.len(),
            ));
            rows.push(row);
        }
        for m in d.members {
            let mut row = delegation.clone();
            row.extend([
                opt(&m.honorific),
                m.full_name,
                opt(&m.family_name),
                opt(&m.native_name),
                opt(&m.title),
                opt(&m.position),
                m.category.to_string(),
                m.is_head.to_string(),
            ]);
            if with_email {
                row.push(m.email.flatten().unwrap_or_default());
            }
            rows.push(row);
        }
    }
    to_csv(&columns, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_inert_and_unicode_is_kept() {
        assert_eq!(inert("=1+1"), "'=1+1");
        assert_eq!(inert("-2"), "'-2");
        assert_eq!(inert("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert("Türkiye"), "Türkiye");
        let out = to_csv(
            &["a", "b"],
            vec![vec!["x,\"y\"".to_string(), "+z".to_string()]],
        );
        let text = out.map(|b| String::from_utf8_lossy(&b).into_owned());
        assert_eq!(text.ok().as_deref(), Some("a,b\r\n\"x,\"\"y\"\"\",'+z\r\n"));
    }

    #[test]
    fn a_row_of_the_wrong_width_is_an_error() {
        assert!(to_csv(&["a", "b"], vec![vec!["x".to_string()]]).is_err());
    }
}
