#!/usr/bin/env python3
"""Times drafting from a text: POST /api/v1/conferences/{id}/attendance/draft with a text of
100 000 characters (the texts of data/drafting/ repeated, English and Chinese mixed), one
request at a time, against a running server; beside it the same request with the seed
article alone and `GET /health/live`, so the figure can be read
against the HTTP round trip of the same run.

Prints the median, p90 and max in milliseconds of each, wall-clock at the client (the
server's drafting time is at most that). Run it against a release build:

    PLENARY_DATA_DIR=$(mktemp -d) target/release/plenary serve --demo &
    benches/draft.py --password <printed password> [--rounds 30]

Standard library only.
"""

import argparse
import json
import pathlib
import statistics
import sys
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "drafting"
LENGTH = 100_000


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


def timed(rounds, f):
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        code = f()
        out.append((time.perf_counter() - t) * 1000)
        if code != 200:
            sys.exit(f"answer {code}")
    out.sort()
    return statistics.median(out), out[int(len(out) * 0.9) - 1], out[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8080")
    ap.add_argument("--email", default="demo@plenary.example")
    ap.add_argument("--password", required=True)
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    base = args.base.rstrip("/")
    api = base + "/api/v1"
    code, body = call(api, "POST", "/auth/token", body={"email": args.email, "password": args.password})
    if code != 200:
        sys.exit(f"sign-in failed: {code} {body}")
    token = body["access_token"]
    conf = {"title": "Drafting benchmark", "status": "draft", "start_date": "2026-01-01",
            "end_date": "2026-01-02", "time_zone": "UTC", "venue": {"city": "Anywhere", "country": "CN"}}
    code, c = call(api, "POST", "/conferences", token, conf)
    if code != 201:
        sys.exit(f"creating a conference: {code} {c}")
    path = f"/conferences/{c['id']}/attendance/draft"
    texts = [p.read_text() for p in sorted(CORPUS.glob("*.txt"))]
    seed = texts[0]
    long = ""
    while len(long) < LENGTH:
        for t in texts:
            long += t + "\n\n"
    long = long[:LENGTH]
    rows = [
        ("GET /health/live", lambda: urllib.request.urlopen(base + "/health/live").status),
        (f"draft, seed article ({len(seed)} characters)",
         lambda: call(api, "POST", path, token, {"text": seed})[0]),
        (f"draft, {len(long)} characters",
         lambda: call(api, "POST", path, token, {"text": long})[0]),
    ]
    print(f"{'request':40} {'median ms':>10} {'p90 ms':>8} {'max ms':>8}  ({args.rounds} rounds, one at a time)")
    for name, f in rows:
        f()  # warm-up
        med, p90, mx = timed(args.rounds, f)
        print(f"{name:40} {med:10.2f} {p90:8.2f} {mx:8.2f}")


if __name__ == "__main__":
    main()
