#!/usr/bin/env python3
"""The meeting day's set-up for benches/run.sh --focus check-in (standard library only).

  checkin.py setup BASE TOKEN N WORKDIR STAFF_EMAIL STAFF_PASSWORD
      makes a published conference with 20 registered state delegations and N accepted members
      (POST .../members, 8 at a time) and gives the existing account STAFF_EMAIL the role
      check_in on it; then times
      GET .../badges.html of all N badges 5 times (the first issues every badge, the others
      render them again) and prints one JSON line (`"kind": "badges_html"`); reads every
      badge's token (GET .../badge) into WORKDIR/tokens.txt, the conference id into
      WORKDIR/conference and the staff's access token into WORKDIR/staff_token.
"""
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts" / "lib"))
from harness import request  # noqa: E402

COUNTRIES = ["KH", "LA", "MM", "TH", "VN", "MY", "SG", "ID", "PH", "BN",
             "CN", "JP", "KR", "MN", "IN", "BD", "NP", "LK", "PK", "AU"]


def call(base, method, path, token, body=None):
    status, raw = request(method, base + "/api/v1" + path, body, token, timeout=120, raw=True)
    if status >= 300:
        sys.exit(f"{method} {path}: {status} {raw.decode(errors='replace')}")
    return raw


def setup(base, token, n, workdir, staff_email, staff_password):
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    j = lambda *a, **k: json.loads(call(base, *a, **k))
    conf = j("POST", "/conferences", token, {
        "title": "Check-in benchmark", "status": "published", "start_date": "2026-10-20",
        "end_date": "2026-10-21", "time_zone": "Asia/Bangkok",
        "venue": {"city": "Bangkok", "country": "TH"}})
    c = f"/conferences/{conf['id']}"
    dels = j("POST", f"{c}/delegations", token,
             {"items": [{"country": k, "status": "registered"} for k in COUNTRIES]})["items"]

    def member(i):
        d = dels[i % len(dels)]["id"]
        m = j("POST", f"{c}/delegations/{d}/members", token, {
            "honorific": "Mr.", "full_name": f"Member{i:04d} Benchmark", "family_name": "Benchmark",
            "native_name": "王伟" if i % 3 == 0 else None, "title": "Adviser"})
        return d, m["id"]

    t0 = time.time()
    with ThreadPoolExecutor(8) as pool:
        members = list(pool.map(member, range(n)))
    made = time.time() - t0

    timings, size = [], 0
    for _ in range(5):
        t = time.perf_counter()
        page = call(base, "GET", f"{c}/badges.html", token)
        timings.append((time.perf_counter() - t) * 1000)
        size = len(page)
        count = page.count(b'<article class="badge"')
    if count != n:
        sys.exit(f"badges.html printed {count} badges for {n} members")

    def badge(dm):
        d, m = dm
        return j("GET", f"{c}/delegations/{d}/members/{m}/badge", token)["token"]

    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(badge, members))
    (work / "tokens.txt").write_text("\n".join(tokens) + "\n")
    (work / "conference").write_text(conf["id"])

    # Check-in staff: the account run.sh made (STAFF_EMAIL, STAFF_PASSWORD), given the role
    # check_in on this conference only.
    call(base, "POST", f"{c}/organisers", token, {"email": staff_email, "role": "check_in"})
    staff = json.loads(call(base, "POST", "/auth/token", None,
                            {"email": staff_email, "password": staff_password}))["access_token"]
    (work / "staff_token").write_text(staff)
    print(json.dumps({"kind": "badges_html", "members": n, "members_made_s": round(made, 1),
                      "first_ms": round(timings[0], 1),
                      "median_ms": round(statistics.median(timings[1:]), 1),
                      "all_ms": [round(t, 1) for t in timings], "bytes": size}))


if __name__ == "__main__":
    if len(sys.argv) != 8 or sys.argv[1] != "setup":
        sys.exit(__doc__)
    setup(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7])
