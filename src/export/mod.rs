//! File exports of a conference: spreadsheets (CSV, RFC 4180, [`table`]), calendars
//! (iCalendar, RFC 5545, [`calendar`]) and the printable List of Participants (HTML,
//! [`participants`]). Routes load the data through the store and hand it to these renderers,
//! which only format.

pub mod calendar;
pub mod participants;
pub mod table;
