"""Reads an iCalendar document (RFC 5545) on stdin with the `icalendar` package from PyPI and
prints what it understood as JSON: calendar properties, each VTIMEZONE with its observances,
and each VEVENT with its times resolved twice: by the system's zone database and by the
document's own VTIMEZONE."""
import datetime
import json
import sys

import icalendar

# NAME (RFC 7986) and X-WR-CALNAME are TEXT values; this library does not know them, so tell
# its type factory to read them as TEXT (unescaping backslash, semicolon, comma, newline).
for prop in ("NAME", "X-WR-CALNAME"):
    icalendar.Calendar.types_factory.types_map[prop] = "text"

cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
out = {
    "version": str(cal.get("VERSION")),
    "prodid": str(cal.get("PRODID")),
    "calscale": str(cal.get("CALSCALE")),
    "name": str(cal.get("NAME")),
    "x_wr_calname": str(cal.get("X-WR-CALNAME")),
    "x_wr_timezone": str(cal.get("X-WR-TIMEZONE")),
    "timezones": [],
    "events": [],
}
own_zones = {}
for vtz in cal.walk("VTIMEZONE"):
    tzid = str(vtz["TZID"])
    own_zones[tzid] = vtz.to_tz()
    out["timezones"].append({
        "tzid": tzid,
        "observances": [
            {
                "kind": sub.name,
                "dtstart": sub["DTSTART"].dt.isoformat(),
                "from": int(sub["TZOFFSETFROM"].td.total_seconds()),
                "to": int(sub["TZOFFSETTO"].td.total_seconds()),
                "name": str(sub.get("TZNAME")),
            }
            for sub in vtz.subcomponents
        ],
    })


def resolved(prop):
    dt = prop.dt
    tzid = prop.params.get("TZID")
    naive = dt.replace(tzinfo=None)
    own = naive.replace(tzinfo=own_zones[tzid]) if tzid in own_zones else None
    return {
        "tzid": tzid,
        "local": naive.isoformat(),
        "iso": dt.isoformat(),
        "utc": dt.astimezone(datetime.timezone.utc).isoformat(),
        "own_offset": int(own.utcoffset().total_seconds()) if own else None,
        "offset": int(dt.utcoffset().total_seconds()),
    }


for ev in cal.walk("VEVENT"):
    out["events"].append({
        "uid": str(ev["UID"]),
        "summary": str(ev["SUMMARY"]),
        "location": str(ev.get("LOCATION")),
        "description": str(ev.get("DESCRIPTION")),
        "status": str(ev.get("STATUS")),
        "dtstamp": ev["DTSTAMP"].dt.astimezone(datetime.timezone.utc).isoformat(),
        "created": ev["CREATED"].dt.astimezone(datetime.timezone.utc).isoformat(),
        "last_modified": ev["LAST-MODIFIED"].dt.astimezone(datetime.timezone.utc).isoformat(),
        "categories": [str(c) for c in ev["CATEGORIES"].cats],
        "start": resolved(ev["DTSTART"]),
        "end": resolved(ev["DTEND"]),
    })
json.dump(out, sys.stdout, ensure_ascii=False)
