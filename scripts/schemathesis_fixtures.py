"""Test data for scripts/schemathesis.sh: what the fuzzed path ids and body ids point at.

Usage: schemathesis_fixtures.py BASE ORGANISER_TOKEN DICT_DIR

Creates, through the API and as the fuzzing organiser, the resources that every operation
with a path id (and every body field that must name an existing resource) is pointed at by
scripts/schemathesis.toml: conferences, organisations, delegations, members, sessions,
focal-point invitations, a letter of credentials, an edition, and a focal point (whose token
the focal-point run uses). Prints `export NAME=value`
lines for the single ids (read by the config as `${NAME}`) and writes the lists of
throw-away ids (what DELETE operations consume, invitation codes ...) as libFuzzer
dictionaries into DICT_DIR, which the config binds with `dictionary = ...`.

Every id is one the run itself created; nothing depends on data/.
"""

import json
import os
import sys
import urllib.error
import urllib.request

from minimal_pdf import minimal_pdf

BASE, TOKEN, DICT_DIR = sys.argv[1:4]

# How many throw-away resources each DELETE (and each one-use code) gets.
SPARE = 12


def call(method, path, body=None, token=TOKEN, content_type="application/json"):
    headers = {"content-type": content_type}
    if token:
        headers["authorization"] = "Bearer " + token
    if body is None:
        data = None
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as e:
        sys.exit(f"fixture {method} {path} failed: {e.code} {e.read().decode(errors='replace')}")
    return json.loads(raw) if raw else None


def conference(title, start, end, tz="Asia/Shanghai", country="CN", **extra):
    body = {
        "title": title,
        "start_date": start,
        "end_date": end,
        "time_zone": tz,
        "venue": {"city": "Lianyungang", "country": country},
        "status": "published",
        **extra,
    }
    return call("POST", "/api/v1/conferences", body)["id"]


def organisation(name, kind="intergovernmental"):
    return call("POST", "/api/v1/organisations", {"name": name, "kind": kind})["id"]


def delegation(conf, **body):
    return call("POST", f"/api/v1/conferences/{conf}/delegations", body)["id"]


def member(conf, dlg, name, token=TOKEN, **body):
    path = f"/api/v1/conferences/{conf}/delegations/{dlg}/members"
    return call("POST", path, {"full_name": name, **body}, token=token)["id"]


def invite(conf, dlg, email, name):
    path = f"/api/v1/conferences/{conf}/delegations/{dlg}/focal-points"
    return call("POST", path, {"email": email, "name": name})


def session(conf, title, starts_at, ends_at, delegation_ids=()):
    body = {"title": title, "starts_at": starts_at, "ends_at": ends_at,
            "delegation_ids": list(delegation_ids)}
    return call("POST", f"/api/v1/conferences/{conf}/sessions", body)["id"]


def dictionary(name, values):
    with open(os.path.join(DICT_DIR, name + ".dict"), "w", encoding="utf-8") as f:
        for v in values:
            f.write(json.dumps(v, ensure_ascii=True) + "\n")


os.makedirs(DICT_DIR, exist_ok=True)
out = {}

# Organisations: one that the organisation operations read and change, a few that request
# bodies name (organisation_id, host_organisation_id), spares for DELETE.
out["FZ_ORGANISATION"] = organisation("Fuzz Organisation (read and changed)")
kept_orgs = [organisation(f"Fuzz Organisation {i} (named in bodies)") for i in range(1, 5)]
dictionary("organisations", kept_orgs)
dictionary("deletable_organisations",
           [organisation(f"Fuzz Organisation {i} (deleted)", "other") for i in range(SPARE)])

# The main conference: everything under /conferences/{id} except its sessions, its PATCH
# and its DELETE. Published, no quotas and no deadline, so that member writes get through.
main = conference("Fuzz: main conference", "2026-09-14", "2026-09-18")
out["FZ_CONFERENCE"] = main
# Delegations that stay (protocol order and presence name them); not Cambodia, Laos or
# China, which the spec's examples register ...
kept = {code: delegation(main, country=code, size=3) for code in ("FR", "DE", "IT", "ES")}
kept["org"] = delegation(main, organisation_id=kept_orgs[0], role="observer")
out["FZ_DELEGATION"] = kept["FR"]
dictionary("delegations", list(kept.values()))
# ... and spares for DELETE.
spare_countries = ["JP", "KR", "PH", "MY", "ID", "SG", "BN", "MM", "IN", "PK", "BD", "NP"]
dictionary("deletable_delegations", [delegation(main, country=c) for c in spare_countries[:SPARE]])

dlg = kept["FR"]
# Not the head: a delegation PATCH of `head` is 409 while a member is the head.
out["FZ_MEMBER"] = member(main, dlg, "Marie Dupont", category="representative")
dictionary("deletable_members", [member(main, dlg, f"Fuzz Member {i}") for i in range(SPARE)])
dictionary("deletable_focal_points",
           [invite(main, dlg, f"revoked.{i}@plenary.example", f"Revoked {i}")["id"]
            for i in range(SPARE)])
# Invitation codes for POST /auth/invitations/accept (each works once; new accounts).
codes = [invite(main, kept["IT"], f"accepted.{i}@plenary.example", f"Accepted {i}")["invitation_code"]
         for i in range(SPARE)]
dictionary("invitation_codes", codes)
# Sessions of the main conference, for its calendar export (sessions.ics).
for day in ("15", "16"):
    session(main, f"Fuzz plenary on the {day}th", f"2026-09-{day}T09:00:00",
            f"2026-09-{day}T12:00:00", [kept["FR"], kept["DE"]])
# A letter of credentials, so that its document can be read, and a provisional edition.
call("PUT", f"/api/v1/conferences/{main}/delegations/{dlg}/credentials",
     minimal_pdf(b"fuzz fixture"), content_type="application/pdf")
out["FZ_EDITION"] = call("POST", f"/api/v1/conferences/{main}/participants/editions",
                         {"kind": "provisional"})["number"]

# Sessions live in a conference whose dates span every date a session time can name (years
# 0001 to 9999, UTC), so that generated times fall inside them; what is left to chance is
# `ends_at > starts_at` (api-spec/README.md).
sessions = conference("Fuzz: sessions", "0001-01-01", "9999-12-31", tz="UTC", country="CH")
out["FZ_SESSION_CONFERENCE"] = sessions
session_dlgs = [delegation(sessions, country=c) for c in ("KH", "LA", "VN", "TH")]
# One accepted member there: the badges printed of this conference (a handful, whatever the
# fuzzer adds to the main one).
member(sessions, session_dlgs[0], "Sok Chea")
dictionary("session_delegations", session_dlgs)
# Starting before the end that the spec's PATCH example gives (2025-09-17T10:00:00).
out["FZ_SESSION"] = session(sessions, "Fuzz plenary", "2025-09-17T08:00:00",
                            "2025-09-17T09:30:00", session_dlgs[:2])
dictionary("deletable_sessions",
           [session(sessions, f"Fuzz session {i}", "2026-09-16T09:00:00", "2026-09-16T10:00:00")
            for i in range(SPARE)])

# The conference PATCH changes (so that its dates and deadline do not starve the others),
# and spares for DELETE: half with a delegation (409 without ?cascade=true).
out["FZ_CONFERENCE_PATCHED"] = conference("Fuzz: changed", "2026-10-05", "2026-10-09")
deletable = []
for i in range(SPARE):
    c = conference(f"Fuzz: deleted {i}", "2026-11-02", "2026-11-03")
    if i % 2:
        delegation(c, country="FR")
    deletable.append(c)
dictionary("deletable_conferences", deletable)

# The focal point of the German delegation (invited, accepted through the API), with a
# nomination of its own and a letter of credentials, for the focal-point run.
fp = invite(main, kept["DE"], "focal.point@plenary.example", "Focal Point")
fp_token = call("POST", "/api/v1/auth/invitations/accept",
                {"code": fp["invitation_code"], "password": "focal point's passphrase"},
                token=None)["access_token"]
out["FP_TOKEN"] = fp_token
out["FP_CONFERENCE"] = main
out["FP_DELEGATION"] = kept["DE"]
out["FP_MEMBER"] = member(main, kept["DE"], "Anna Schmidt", token=fp_token)
call("PUT", f"/api/v1/conferences/{main}/delegations/{kept['DE']}/credentials",
     minimal_pdf(b"focal point's letter"), token=fp_token,
     content_type="application/pdf")

# Notifications: a webhook the webhook operations read, spares for DELETE (the server runs
# with PLENARY_WEBHOOK_ALLOW_PRIVATE=true; deliveries to the discard port just fail and are
# retried), and a sent e-mail of the main conference that resend may queue again (a
# nomination of the focal point's, accepted by the organiser: `nomination_decided`).
hook_url = "http://127.0.0.1:9/fuzz"
out["FZ_WEBHOOK"] = call("POST", f"/api/v1/conferences/{main}/webhooks",
                         {"url": hook_url, "events": ["*"]})["id"]
dictionary("deletable_webhooks",
           [call("POST", f"/api/v1/conferences/{main}/webhooks",
                 {"url": hook_url, "events": ["member.created"]})["id"] for _ in range(SPARE)])
decided = member(main, kept["DE"], "Hans Becker", token=fp_token)
call("PATCH", f"/api/v1/conferences/{main}/delegations/{kept['DE']}/members/{decided}",
     {"nomination_status": "accepted"})
messages = call("GET", f"/api/v1/conferences/{main}/messages?kind=nomination_decided")["items"]
if not messages:
    sys.exit("fixture: the accepted nomination queued no e-mail")
out["FZ_MESSAGE"] = messages[0]["id"]

# Badges: FZ_MEMBER (accepted, of a registered delegation) has one; its token and another
# member's are what check-in bodies scan most of the time.
badge_path = f"/api/v1/conferences/{main}/delegations/{dlg}/members"
tokens = [call("GET", f"{badge_path}/{m}/badge")["token"]
          for m in (out["FZ_MEMBER"], member(main, dlg, "Jean Martin"))]
dictionary("badge_tokens", tokens)

# The login's own credentials (the spec's example account, created by the script).
dictionary("login_emails", ["organiser@example.org"])
dictionary("login_passwords", ["correct horse battery staple"])
dictionary("new_passwords", ["a long passphrase of mine"])

for name, value in out.items():
    print(f"export {name}={value}")
