#!/usr/bin/env python3
"""The steady writer of benches/run.sh's `overload` scenario: for SECONDS, one
`POST /api/v1/conferences/{id}/delegations` every 1/RATE s (a random published conference of
IDS_FILE, a random country of COUNTRIES_FILE), one request at a time; prints one JSON line
with the statuses and the mean latency. Only the loopback server at BASE.

    writer.py BASE TOKEN IDS_FILE COUNTRIES_FILE SECONDS RATE
"""
import json
import random
import sys
import time
import urllib.error
import urllib.request


def main():
    base, token, ids_file, countries_file, seconds, rate = sys.argv[1:7]
    ids = [line.strip() for line in open(ids_file) if line.strip()]
    countries = [line.strip() for line in open(countries_file) if line.strip()]
    seconds, rate = float(seconds), float(rate)
    statuses, took = {}, []
    start = time.monotonic()
    n = 0
    while True:
        due = start + n / rate
        now = time.monotonic()
        if due - start >= seconds:
            break
        if due > now:
            time.sleep(due - now)
        body = json.dumps({"country": random.choice(countries), "role": "observer",
                           "status": "confirmed", "size": 2}).encode()
        req = urllib.request.Request(
            f"{base}/api/v1/conferences/{random.choice(ids)}/delegations", data=body,
            headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        except OSError:
            status = 0
        took.append(time.monotonic() - t0)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        n += 1
    print(json.dumps({"writes": n, "rate": rate, "statuses": statuses,
                      "mean_ms": round(sum(took) / len(took) * 1000, 2) if took else 0}))


if __name__ == "__main__":
    main()
