#!/usr/bin/env python3
"""Scores drafted attendance (POST /api/v1/conferences/{id}/attendance/draft) against the
corpus of data/drafting/ (corpus.json: each text's expected parties, roles, people and
unresolved names).

For each text it creates a conference (with the text's host country, if any), drafts the
text, and prints parties precision and recall, role accuracy (over the parties found that
were expected), people found with the right party, and whether every ambiguous name stayed
unresolved; then the totals over the corpus.

Usage: scripts/drafting-score.py --base http://127.0.0.1:8080 --token TOKEN
       (or --email and --password to sign in). Standard library only.
"""

import argparse
import json
import pathlib
import sys
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "drafting"


def call(base, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8080")
    ap.add_argument("--token")
    ap.add_argument("--email")
    ap.add_argument("--password")
    ap.add_argument("--json", help="write the drafts here")
    args = ap.parse_args()
    base = args.base.rstrip("/") + "/api/v1"
    token = args.token
    if not token:
        code, body = call(base, "POST", "/auth/token", body={"email": args.email, "password": args.password})
        if code != 200:
            sys.exit(f"sign-in failed: {code} {body}")
        token = body["access_token"]
    corpus = json.loads((CORPUS / "corpus.json").read_text())["texts"]
    names = {}

    def key_of(p):
        if "country" in p and p["country"]:
            return p["country"]
        if "organisation" in p and p["organisation"]:
            return p["organisation"]["name"].lower()
        oid = p.get("organisation_id")
        if oid not in names:
            _, o = call(base, "GET", f"/organisations/{oid}", token)
            names[oid] = (o or {}).get("name", oid).lower()
        return names[oid]

    totals = dict(tp=0, found=0, expected=0, roles_ok=0, roles=0, people_ok=0, people=0, ambiguous_bad=0, ambiguous=0)
    drafts = {}
    print(f"{'text':40} {'P':>6} {'R':>6} {'roles':>6} {'people':>7} {'ambig':>6}")
    for t in corpus:
        text = (CORPUS / t["file"]).read_text()
        conf = {"title": f"Scoring {t['file']}", "status": "draft", "start_date": "2026-01-01",
                "end_date": "2026-01-02", "time_zone": "UTC", "venue": {"city": "Anywhere", "country": t.get("host_country") or "AQ"}}
        if t.get("host_country"):
            conf["host_country"] = t["host_country"]
        code, c = call(base, "POST", "/conferences", token, conf)
        if code != 201:
            sys.exit(f"creating a conference: {code} {c}")
        code, d = call(base, "POST", f"/conferences/{c['id']}/attendance/draft", token,
                       {"text": text, "language": t["language"]})
        if code != 200:
            sys.exit(f"{t['file']}: {code} {d}")
        drafts[t["file"]] = d
        got = {key_of(p): p["role"] for p in d["parties"]}
        want = {(p["party"] if len(p["party"]) == 2 and p["party"].isupper() else p["party"].lower()): p["role"]
                for p in t["parties"]}
        tp = [k for k in got if k in want]
        roles_ok = sum(1 for k in tp if got[k] == want[k])
        people_ok = 0
        for person in t["people"]:
            pw = person["party"]
            pw = pw if len(pw) == 2 and pw.isupper() else pw.lower()
            if any(p["full_name"] == person["full_name"] and p["party"] and key_of(p["party"]) == pw
                   for p in d["people"]):
                people_ok += 1
        unresolved = [u["text"] for u in d["unresolved"]]
        amb_bad = sum(1 for a in t["unresolved"] if a not in unresolved)
        prec = len(tp) / len(got) if got else 1.0
        rec = len(tp) / len(want) if want else 1.0
        racc = roles_ok / len(tp) if tp else 1.0
        pacc = f"{people_ok}/{len(t['people'])}"
        print(f"{t['file'][:40]:40} {prec:6.3f} {rec:6.3f} {racc:6.3f} {pacc:>7} {len(t['unresolved']) - amb_bad}/{len(t['unresolved'])}")
        for k in got:
            if k not in want:
                print(f"    extra: {k} ({got[k]})")
        for k in want:
            if k not in got:
                print(f"    missed: {k}")
            elif got[k] != want[k]:
                print(f"    role of {k}: {got[k]}, expected {want[k]}")
        totals["tp"] += len(tp)
        totals["found"] += len(got)
        totals["expected"] += len(want)
        totals["roles_ok"] += roles_ok
        totals["roles"] += len(tp)
        totals["people_ok"] += people_ok
        totals["people"] += len(t["people"])
        totals["ambiguous_bad"] += amb_bad
        totals["ambiguous"] += len(t["unresolved"])
    T = totals
    print()
    print(f"texts: {len(corpus)}")
    print(f"parties precision: {T['tp'] / T['found']:.4f} ({T['tp']}/{T['found']})")
    print(f"parties recall:    {T['tp'] / T['expected']:.4f} ({T['tp']}/{T['expected']})")
    print(f"roles correct:     {T['roles_ok'] / T['roles']:.4f} ({T['roles_ok']}/{T['roles']})")
    print(f"people, right party: {T['people_ok'] / max(T['people'], 1):.4f} ({T['people_ok']}/{T['people']})")
    print(f"ambiguous names left unresolved: {T['ambiguous'] - T['ambiguous_bad']}/{T['ambiguous']}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(drafts, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
