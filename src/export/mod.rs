//! File exports of a conference: spreadsheets (CSV, RFC 4180, [`table`]) and calendars
//! (iCalendar, RFC 5545, [`calendar`]). Routes load the data through the store and hand it to
//! these renderers, which only format.

pub mod calendar;
pub mod table;
