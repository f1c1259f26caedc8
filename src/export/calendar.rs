//! iCalendar files (RFC 5545) of a conference's sessions, written with the `icalendar` crate.
//!
//! One `VCALENDAR` (`VERSION:2.0`, `PRODID:-//Plenary//Plenary API//EN`, `CALSCALE:GREGORIAN`,
//! `NAME`/`X-WR-CALNAME` the conference title) holding:
//! - one `VTIMEZONE` whose `TZID` is the conference's IANA zone, built from the chrono-tz
//!   transitions of every year the conference spans: an observance in force on 1 January of
//!   the first year, then one `STANDARD` or `DAYLIGHT` per transition up to the end of the
//!   last year (`DTSTART` in local time before the change, `TZOFFSETFROM`, `TZOFFSETTO`,
//!   `TZNAME`) — explicit dates, no `RRULE`, so any reader gets the same offsets as chrono-tz;
//! - one `VEVENT` per session: `UID:<session id>@plenary` (stable across exports),
//!   `DTSTAMP` and `LAST-MODIFIED` the session's last change, `CREATED`,
//!   `DTSTART;TZID=<zone>`/`DTEND;TZID=<zone>` in local time (a local time repeated by a DST
//!   overlap, either occurrence, in UTC, `...Z`: see [`date_time`]), `SUMMARY` the title,
//!   `LOCATION` room and venue, `DESCRIPTION` kind and chair, `CATEGORIES` the kind, `STATUS`
//!   `CONFIRMED` (or `CANCELLED` for a cancelled conference).
//!
//! Lines end in CRLF and are folded at 75 octets (never inside a UTF-8 character); every text
//! value is escaped by the crate (`\\`, `\;`, `\,`, `\n`; `NAME` with `VALUE=TEXT`, the
//! crate's way to escape a property it does not type), after [`text`] has turned other line
//! breaks into line feeds and dropped other controls, so no stored text can start a content
//! line of its own. The `VTIMEZONE` lines hold only zone names and abbreviations from chrono-tz.

use crate::domain::vocab::ConferenceStatus;
use std::borrow::Cow;
use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use icalendar::{Calendar, CalendarDateTime, Component, Event, EventLike, EventStatus, Property};

use crate::store::conferences::ConferenceRow;
use crate::store::sessions::SessionRow;

/// The media type of iCalendar responses.
pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

/// The product identifier written in `PRODID`.
pub const PRODID: &str = "-//Plenary//Plenary API//EN";

/// The stable `UID` of a session's `VEVENT`.
pub fn uid(session_id: uuid::Uuid) -> String {
    format!("{session_id}@plenary")
}

/// A UTC date-time in RFC 5545 form (`20250917T010000Z`).
fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A UTC offset in RFC 5545 form (`+0800`, `-0330`, `+002130` with seconds).
fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

/// The observable state of a zone at an instant: UTC offset and DST part (seconds), name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ZoneState {
    utc_offset: i32,
    dst: bool,
    name: String,
}

fn state_at(tz: Tz, t: DateTime<Utc>) -> ZoneState {
    let offset = tz.offset_from_utc_datetime(&t.naive_utc());
    let utc_offset = offset.fix().local_minus_utc();
    ZoneState {
        utc_offset,
        dst: !offset.dst_offset().is_zero(),
        name: offset
            .abbreviation()
            .map(str::to_string)
            .unwrap_or_else(|| offset_text(utc_offset)),
    }
}

/// One observance of the `VTIMEZONE`: from `starts` (UTC) on, `to`; before it, `from_offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observance {
    starts: DateTime<Utc>,
    from_offset: i32,
    to: ZoneState,
}

/// The observances of `tz` from 1 January of `first.year()` to the end of `last.year()`
/// (UTC): the one in force at the start, then every transition, found by scanning in
/// three-hour steps and bisecting to the second.
fn observances(tz: Tz, first: NaiveDate, last: NaiveDate) -> Vec<Observance> {
    let year_start = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
    };
    let (Some(start), Some(end)) = (year_start(first.year()), year_start(last.year() + 1)) else {
        return Vec::new();
    };
    let initial = state_at(tz, start);
    let mut out = vec![Observance {
        starts: start,
        from_offset: initial.utc_offset,
        to: initial.clone(),
    }];
    let step = Duration::hours(3);
    let (mut t, mut current) = (start, initial);
    while t < end {
        let next = t + step;
        let state = state_at(tz, next);
        if state != current {
            // The change lies in (t, next]: bisect to the first second of the new state.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if state_at(tz, mid) == current {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let to = state_at(tz, hi);
            out.push(Observance {
                starts: hi,
                from_offset: current.utc_offset,
                to: to.clone(),
            });
            current = to;
        }
        t = next;
    }
    out
}

/// The `VTIMEZONE` of `tz` for the given `years` (each consecutive run scanned once), as folded
/// CRLF content lines. Only the years the calendar's events fall in: the work grows with the
/// events, not with the conference's dates (a conference from year 1 to 9999 once took minutes
/// of CPU to export).
pub fn vtimezone(tz: Tz, years: &BTreeSet<i32>) -> String {
    let mut out = String::new();
    let mut line = |key: &str, value: &str| {
        out.push_str(&icalendar::parser::Property::new_ref(key, value).to_string());
    };
    line("BEGIN", "VTIMEZONE");
    line("TZID", tz.name());
    line("X-LIC-LOCATION", tz.name());
    let mut runs: Vec<(i32, i32)> = Vec::new();
    for &year in years {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == year => *last = year,
            _ => runs.push((year, year)),
        }
    }
    let dates = runs.into_iter().filter_map(|(first, last)| {
        Some((
            NaiveDate::from_ymd_opt(first, 1, 1)?,
            NaiveDate::from_ymd_opt(last, 1, 1)?,
        ))
    });
    for o in dates.flat_map(|(first, last)| observances(tz, first, last)) {
        let kind = if o.to.dst { "DAYLIGHT" } else { "STANDARD" };
        // DTSTART of an observance is the local time, in the offset before it, of its onset.
        let local = (o.starts + Duration::seconds(i64::from(o.from_offset))).naive_utc();
        line("BEGIN", kind);
        line("DTSTART", &local.format("%Y%m%dT%H%M%S").to_string());
        line("TZOFFSETFROM", &offset_text(o.from_offset));
        line("TZOFFSETTO", &offset_text(o.to.utc_offset));
        line("TZNAME", &o.to.name);
        line("END", kind);
    }
    line("END", "VTIMEZONE");
    out
}

/// A stored text made fit for the crate's TEXT escaping (RFC 5545 §3.3.11), which escapes
/// `\\`, `;`, `,` and line feed but leaves every other character as it is: a carriage return
/// (alone or before a line feed) and U+2028/U+2029 become a line feed (escaped `\n`, so no
/// reader sees a new content line), other control characters but tab (which TEXT may not
/// hold) are dropped. Input validation refuses them in one-line fields; this guards rows stored
/// before that rule or by other means.
fn text(value: &str) -> Cow<'_, str> {
    let unsafe_char =
        |c: char| (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}');
    if !value.chars().any(|c| unsafe_char(c) && c != '\n') {
        return Cow::Borrowed(value);
    }
    let unified = value
        .replace("\r\n", "\n")
        .replace(['\r', '\u{2028}', '\u{2029}'], "\n");
    Cow::Owned(
        unified
            .chars()
            .filter(|c| *c == '\n' || !unsafe_char(*c))
            .collect(),
    )
}

/// `DTSTART`/`DTEND` of an instant: local time with `TZID` (RFC 5545 §3.3.5 form 3), except
/// for a local time that a DST overlap repeats, which is written in UTC (form 2, `...Z`). RFC
/// 5545 reads a repeated local time as its first occurrence, so the second one cannot be
/// written with `TZID`; the first is written in UTC too because readers differ (Mozilla's
/// ical.js reads a repeated local time as its second occurrence), and UTC means one instant
/// to all of them.
fn date_time(t: DateTime<Utc>, tz: Tz) -> CalendarDateTime {
    let local = t.with_timezone(&tz).naive_local();
    match tz.from_local_datetime(&local) {
        LocalResult::Ambiguous(..) => CalendarDateTime::Utc(t),
        _ => CalendarDateTime::WithTimezone {
            date_time: local,
            tzid: tz.name().to_string(),
        },
    }
}

/// The iCalendar document of a conference's sessions (see the module documentation).
/// `location` is the venue as one line of text (`"Lianyungang, Jiangsu, China"`).
pub fn sessions_ics(conference: &ConferenceRow, location: &str, sessions: &[SessionRow]) -> String {
    let tz = conference.tz();
    let title = text(&conference.title);
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", PRODID))
        .append_property(("CALSCALE", "GREGORIAN"))
        // `Calendar::name` writes NAME unescaped (the crate has no value type for RFC 7986
        // NAME): `VALUE=TEXT` makes the crate escape it like SUMMARY. X-WR-CALNAME, an `X-`
        // property, the crate escapes as TEXT already.
        .append_property(Property::new("NAME", title.as_ref()).add_parameter("VALUE", "TEXT"))
        .append_property(("X-WR-CALNAME", title.as_ref()))
        .append_property(("X-WR-TIMEZONE", tz.name()));
    for s in sessions {
        let mut description = format!("Kind: {}", s.kind);
        if let Some(chair) = &s.chair {
            description.push_str(&format!("\nChair: {chair}"));
        }
        let place = match &s.room {
            Some(room) => format!("{room}, {location}"),
            None => location.to_string(),
        };
        let mut event = Event::new();
        event
            .uid(&uid(s.id))
            .timestamp(s.updated_at)
            .add_property("CREATED", utc_stamp(s.created_at))
            .add_property("LAST-MODIFIED", utc_stamp(s.updated_at))
            .summary(&text(&s.title))
            .starts(date_time(s.starts_at, tz))
            .ends(date_time(s.ends_at, tz))
            .location(&text(&place))
            .description(&text(&description))
            .categories([s.kind.to_uppercase()])
            .status(if conference.status == ConferenceStatus::Cancelled {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            });
        calendar.push(event.done());
    }
    let text = calendar.done().to_string();
    // The crate writes VCALENDAR properties, then the events: the VTIMEZONE goes in between.
    let mut years: BTreeSet<i32> = sessions
        .iter()
        .flat_map(|s| [s.starts_at, s.ends_at])
        .map(|t| t.with_timezone(&tz).year())
        .collect();
    if years.is_empty() {
        years.insert(conference.start_date.year());
    }
    let zone = vtimezone(tz, &years);
    let at = text
        .find("\r\nBEGIN:VEVENT\r\n")
        .map(|i| i + 2)
        .or_else(|| text.rfind("END:VCALENDAR\r\n"))
        .unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + zone.len());
    out.push_str(&text[..at]);
    out.push_str(&zone);
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_formatted_as_rfc_5545_utc_offsets() {
        assert_eq!(offset_text(8 * 3600), "+0800");
        assert_eq!(offset_text(-(3 * 3600 + 1800)), "-0330");
        assert_eq!(offset_text(0), "+0000");
        assert_eq!(offset_text(1172), "+001932");
    }

    #[test]
    fn berlin_2025_has_both_transitions_at_the_right_local_times() {
        let (Some(a), Some(b)) = (
            NaiveDate::from_ymd_opt(2025, 10, 25),
            NaiveDate::from_ymd_opt(2025, 10, 26),
        ) else {
            panic!("dates");
        };
        let z = vtimezone(
            chrono_tz::Europe::Berlin,
            &BTreeSet::from([a.year(), b.year()]),
        );
        assert!(z.contains(
            "BEGIN:DAYLIGHT\r\nDTSTART:20250330T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\n"
        ), "{z}");
        assert!(z.contains(
            "BEGIN:STANDARD\r\nDTSTART:20251026T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD\r\n"
        ), "{z}");
        assert!(z.contains("BEGIN:STANDARD\r\nDTSTART:20250101T010000\r\nTZOFFSETFROM:+0100"));
    }

    #[test]
    fn only_the_years_of_events_are_scanned() {
        // Years 1 and 9999 of a conference spanning them: two short scans, not 10 000 years.
        let z = vtimezone(
            chrono_tz::Europe::Berlin,
            &BTreeSet::from([1, 2025, 2026, 9999]),
        );
        assert!(z.contains("DTSTART:20250330T020000"), "{z}");
        assert!(z.contains("DTSTART:20261025T030000"), "{z}");
        assert!(!z.contains("DTSTART:2024"), "{z}");
        assert!(!z.contains("DTSTART:2027"), "{z}");
        assert!(z.matches("BEGIN:").count() < 20, "{z}");
    }

    #[test]
    fn shanghai_has_one_standard_observance() {
        let Some(d) = NaiveDate::from_ymd_opt(2025, 9, 17) else {
            panic!("date");
        };
        let z = vtimezone(chrono_tz::Asia::Shanghai, &BTreeSet::from([d.year()]));
        assert_eq!(z.matches("BEGIN:STANDARD").count(), 1, "{z}");
        assert_eq!(z.matches("BEGIN:DAYLIGHT").count(), 0, "{z}");
        assert!(z.starts_with("BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\n"));
        assert!(z.contains("TZOFFSETTO:+0800\r\nTZNAME:CST\r\n"));
    }
}
