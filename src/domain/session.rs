//! Sessions of a conference and the reading of their times in the conference's time zone.

use chrono::{
    DateTime, LocalResult, NaiveDate, NaiveDateTime, SecondsFormat, SubsecRound, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::input::{offset_date_time, Errors, Invalid, Obj};
use super::{Mode, SESSION_KINDS};

/// The most delegations one session may list.
pub const MAX_SESSION_DELEGATIONS: usize = 500;

/// A session as returned by the API; times carry the conference's UTC offset at that instant.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Session {
    /// UUID v7.
    pub id: Uuid,
    /// The conference.
    pub conference_id: Uuid,
    /// 1..300 characters.
    pub title: String,
    /// One of [`SESSION_KINDS`].
    pub kind: String,
    /// RFC 3339 with the conference zone's offset (`2025-09-17T09:00:00+08:00`).
    pub starts_at: String,
    /// RFC 3339, after `starts_at`.
    pub ends_at: String,
    /// Room, if any.
    pub room: Option<String>,
    /// Chair, if any.
    pub chair: Option<String>,
    /// Delegations taking part (same conference).
    pub delegation_ids: Vec<Uuid>,
    /// RFC 3339.
    pub created_at: DateTime<Utc>,
    /// RFC 3339.
    pub updated_at: DateTime<Utc>,
}

/// Formats an instant as RFC 3339 with the offset of `tz` at that instant.
pub fn format_in_zone(instant: DateTime<Utc>, tz: Tz) -> String {
    instant
        .with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Reads a session time: RFC 3339 with an offset, or a local date-time without one, read in
/// `tz`. A local time inside a DST gap is an error; inside an overlap it is the earlier instant.
/// The result is rounded to whole microseconds, the precision PostgreSQL stores, so that the
/// checks made on it (`ends_at > starts_at`) hold for the stored values too.
pub fn parse_instant(input: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    parse_unrounded(input, tz).map(|t| t.round_subsecs(6))
}

fn parse_unrounded(input: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let s = input.trim();
    if let Some(dt) = offset_date_time(s) {
        return Ok(dt.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .ok_or_else(|| {
        "must be a date-time such as 2025-09-17T09:00:00+08:00 or 2025-09-17T09:00:00".to_string()
    })?;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(dt) => Ok(dt.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, later) => Ok(earlier.min(later).with_timezone(&Utc)),
        LocalResult::None => Err(format!(
            "{local} does not exist in {} (it falls in a daylight-saving gap)",
            tz.name()
        )),
    }
}

/// The date of an instant in `tz`.
pub fn local_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// The fields a session `POST` or `PATCH` sets. Times stay as text until the conference's
/// zone is known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionChanges {
    /// Title.
    pub title: Option<String>,
    /// Kind.
    pub kind: Option<&'static str>,
    /// Start, as given.
    pub starts_at: Option<String>,
    /// End, as given.
    pub ends_at: Option<String>,
    /// Room or null.
    pub room: Option<Option<String>>,
    /// Chair or null.
    pub chair: Option<Option<String>>,
    /// Delegations taking part.
    pub delegation_ids: Option<Vec<Uuid>>,
}

/// Reads a session body. Errors: 422 listing every invalid or unknown field.
pub fn parse_session(body: &Value, mode: Mode) -> Result<SessionChanges, Invalid> {
    let mut errors = Errors::new();
    let Some(mut o) = Obj::new(body, "", &mut errors) else {
        return errors.finish(SessionChanges::default());
    };
    let title = o.string("title", 1, 300, &mut errors);
    let kind = o.one_of("kind", SESSION_KINDS, &mut errors);
    let starts_at = o.string("starts_at", 1, 64, &mut errors);
    let ends_at = o.string("ends_at", 1, 64, &mut errors);
    let room = o.text("room", 300, &mut errors);
    let chair = o.text("chair", 300, &mut errors);
    let delegation_ids = o.uuid_list("delegation_ids", MAX_SESSION_DELEGATIONS, &mut errors);
    let changes = match mode {
        Mode::Create => SessionChanges {
            title: o.required("title", title, &mut errors),
            kind: Some(o.not_null("kind", kind, &mut errors).unwrap_or("plenary")),
            starts_at: o.required("starts_at", starts_at, &mut errors),
            ends_at: o.required("ends_at", ends_at, &mut errors),
            room: Some(room.value()),
            chair: Some(chair.value()),
            delegation_ids: Some(
                o.not_null("delegation_ids", delegation_ids, &mut errors)
                    .unwrap_or_default(),
            ),
        },
        Mode::Patch => SessionChanges {
            title: o.not_null("title", title, &mut errors),
            kind: o.not_null("kind", kind, &mut errors),
            starts_at: o.not_null("starts_at", starts_at, &mut errors),
            ends_at: o.not_null("ends_at", ends_at, &mut errors),
            room: room.patch(),
            chair: chair.patch(),
            delegation_ids: o.not_null("delegation_ids", delegation_ids, &mut errors),
        },
    };
    o.finish(&mut errors);
    errors.finish(changes)
}

/// Checks resolved times against the conference: `ends_at > starts_at` and both within
/// `start_date..=end_date` in `tz`. Records errors on `starts_at`/`ends_at`.
pub fn check_times(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    tz: Tz,
    start_date: NaiveDate,
    end_date: NaiveDate,
    errors: &mut Errors,
) {
    if ends_at <= starts_at {
        errors.push("ends_at", "must be after starts_at");
    }
    let outside = |d: NaiveDate| d < start_date || d > end_date;
    if outside(local_date(starts_at, tz)) {
        errors.push(
            "starts_at",
            format!(
                "must lie within the conference dates {start_date}..{end_date} in {}",
                tz.name()
            ),
        );
    }
    if outside(local_date(ends_at, tz)) {
        errors.push(
            "ends_at",
            format!(
                "must lie within the conference dates {start_date}..{end_date} in {}",
                tz.name()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_offset_times_agree() {
        let tz: Tz = chrono_tz::Asia::Shanghai;
        let a = parse_instant("2025-09-17T09:00:00", tz);
        let b = parse_instant("2025-09-17T09:00:00+08:00", tz);
        assert_eq!(a, b);
        let formatted = a.map(|a| format_in_zone(a, tz));
        assert_eq!(formatted.as_deref(), Ok("2025-09-17T09:00:00+08:00"));
    }

    /// `2026-10-20T10:30+09:00` was once refused while `2026-10-20T10:30` was taken.
    #[test]
    fn an_offset_without_seconds_is_read_like_the_local_form() {
        let tz: Tz = chrono_tz::Asia::Tokyo;
        let want = parse_instant("2026-10-20T10:30:00+09:00", tz);
        assert!(want.is_ok());
        assert_eq!(parse_instant("2026-10-20T10:30+09:00", tz), want);
        assert_eq!(parse_instant("2026-10-20T10:30", tz), want);
        assert_eq!(parse_instant("2026-10-20T01:30Z", tz), want);
        assert_eq!(parse_instant("2026-10-20 01:30+00:00", tz), want);
        for bad in [
            "2026-10-20T10:30+9",
            "2026-10-20T10+09:00",
            "2026-10-20T10:30:+09:00",
        ] {
            assert!(parse_instant(bad, tz).is_err(), "{bad}");
        }
    }

    #[test]
    fn dst_gap_is_refused_and_overlap_takes_the_earlier_instant() {
        let tz: Tz = chrono_tz::Europe::Berlin;
        assert!(parse_instant("2025-03-30T02:30:00", tz).is_err());
        let earlier = parse_instant("2025-10-26T02:30:00", tz).map(|t| format_in_zone(t, tz));
        assert_eq!(earlier.as_deref(), Ok("2025-10-26T02:30:00+02:00"));
    }

    #[test]
    fn times_are_rounded_to_the_microseconds_postgresql_stores() {
        let tz: Tz = chrono_tz::UTC;
        let a = parse_instant("2026-06-01T09:00:00.1234561Z", tz);
        let b = parse_instant("2026-06-01T09:00:00.1234562Z", tz);
        assert_eq!(a, b);
        let micros = a.map(|t| t.timestamp_subsec_nanos());
        assert_eq!(micros, Ok(123_456_000));
    }
}
