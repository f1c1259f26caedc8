#!/usr/bin/env python3
"""Scale-out check: a PostgreSQL primary, a streaming replica of it (`pg_basebackup -R`), and two
Plenary instances reading public data from the replica (DATABASE_READ_URL) and writing to the
primary (DATABASE_URL), while the replica is paused, resumed and stopped under them.

Writers (alternating instances) register delegations of organisations named
scale-<writer>-<n> in one published conference, each POST with an Idempotency-Key and retried
(same key, either instance) until acknowledged. Anonymous readers on both instances read
`GET /api/v1/conferences/{id}/attendance` continuously and note, per read, its start and end,
the instance, the response header `X-Plenary-Source` (`cache`, `replica`, `primary`; missing
counts as `unknown`) and which scale-* organisations it lists.

Phases (writers and readers run through all of them): normal (10 s); revisions cut (5 s: every
0.3 s, the instances' connections that ask the primary for changed revisions are terminated,
so their invalidation channel keeps being lost and re-made); replica
replay paused with `pg_wal_replay_pause()` (8 s), replay resumed (5 s), replica stopped with
`pg_ctl stop -m fast` (8 s).

Invariants (the script exits 1 when one fails):
- every acknowledged write is in the primary database exactly once (`lost`, `duplicated`: 0);
- no stale read: a read that started more than 1 s after a write was acknowledged lists it
  (`stale_reads_past_1s`: 0), whatever the replica is doing;
- reads are monotonic per instance: a read lists every write that an earlier read on the same
  instance (one that completed before it started) listed (`non_monotonic_reads`: 0);
- reads fall back to the primary when the replica lags, pauses or stops: in each phase at most
  max(2, 1 %) of the reads fail (`read_errors` counts them, with samples): a read whose query
  was running on the replica when it stopped gets 503, and the reads after it go to the
  primary;
- with --require-replica (the default), some reads of the normal phase came from the replica;
- no writer gave up, and pausing replay really left the replica behind (the harness works).

Usage: scripts/scaleout.py [--binary target/debug/plenary] [--writers 4] [--readers 4]
                           [--write-interval 0.1] [--no-require-replica]
Needs the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, psql); runs as root or
not (as root, PostgreSQL runs as the `postgres` user). Standard library only. Takes about a
minute; everything it starts (in its own temporary folder under /tmp) is stopped and removed
on exit, also on failure.
"""
import argparse, bisect, json, os, shutil, signal, subprocess, sys, tempfile, threading, time
import urllib.request, urllib.error

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cluster import Cluster  # noqa: E402
from harness import free_port, request  # noqa: E402

SECRET = "scaleout-script-secret-scaleout-script-secret-0123"
PASSWORD = "scaleout script password"
EMAIL = "scaleout@example.org"
DB = "scale"
PHASES = [("normal", 10.0), ("revisions_cut", 5.0), ("replay_paused", 8.0), ("replay_resumed", 5.0),
          ("replica_stopped", 8.0)]
SOURCES = ("cache", "replica", "primary", "unknown")
STALE_AFTER = 1.0  # seconds after its acknowledgement a write must be visible to every read


def wait_until(what, check, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def stale_reads(reads, acked, t0):
    """Reads that started more than STALE_AFTER after some write's acknowledgement and do not
    list it: (count, up to 10 samples). `reads`: (start, end, instance, phase, source, visible);
    `acked`: name -> acknowledgement time."""
    ack_order = sorted((t, nm) for nm, t in acked.items())
    ack_times = [t for t, _ in ack_order]
    count, samples = 0, []
    for start, end, inst, at, source, visible in reads:
        due = ack_order[:bisect.bisect_left(ack_times, start - STALE_AFTER)]
        missing = [nm for _, nm in due if nm not in visible]
        if missing:
            count += 1
            if len(samples) < 10:
                samples.append({"instance": inst + 1, "phase": at, "source": source,
                                "at_s": round(start - t0, 2), "missing": len(missing),
                                "oldest_missing_acked_s_before": round(start - acked[missing[0]], 2)})
    return count, samples


def non_monotonic_reads(reads, t0):
    """Reads that miss a write listed by an earlier read on the same instance, one that completed
    before this one started (writes are never deleted, so that is a read going back in time):
    (count, up to 10 samples)."""
    count, samples = 0, []
    for inst in sorted({x[2] for x in reads}):
        mine = [x for x in reads if x[2] == inst]
        by_end = sorted(mine, key=lambda x: x[1])
        seen, k = set(), 0
        for start, end, _, at, source, visible in sorted(mine, key=lambda x: x[0]):
            while k < len(by_end) and by_end[k][1] < start:
                seen |= by_end[k][5]
                k += 1
            gone = seen - visible
            if gone:
                count += 1
                if len(samples) < 10:
                    samples.append({"instance": inst + 1, "phase": at, "source": source,
                                    "at_s": round(start - t0, 2), "vanished": len(gone)})
    return count, samples


def main():
    ap = argparse.ArgumentParser(description="Scale-out check (see the docstring).")
    ap.add_argument("--binary", default="target/debug/plenary")
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--readers", type=int, default=4)
    ap.add_argument("--write-interval", type=float, default=0.1,
                    help="seconds each writer waits between two writes")
    ap.add_argument("--require-replica", action=argparse.BooleanOptionalAction, default=True,
                    help="fail unless some reads of the normal phase came from the replica")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.path.exists(binary):
        sys.exit(f"{binary} not found: run `cargo build` first")

    # SIGTERM (a CI timeout) unwinds through the finally below like Ctrl-C does.
    def on_sigterm(*_):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_sigterm)

    root = tempfile.mkdtemp(prefix="plenary-scale-", dir="/tmp")
    clusters = []
    procs = []
    logs = []
    stop = threading.Event()
    threads = []
    started = time.monotonic()
    try:
        primary = Cluster(root, "primary", db=DB)
        clusters.append(primary)
        primary.init()
        primary.start("wal_level=replica", "max_wal_senders=5", "wal_keep_size=256MB")
        primary.psql(f"CREATE DATABASE {DB}", db="postgres")

        replica = Cluster(root, "replica", db=DB)
        clusters.append(replica)
        replica.basebackup_from(primary)
        # hot_standby_feedback: the replica's queries are not cancelled by the primary's
        # cleanup when replay resumes (the configuration README recommends).
        replica.start("hot_standby=on", "hot_standby_feedback=on")
        wait_until("the replica to stream from the primary", lambda: primary.psql(
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").strip() == "1")
        if replica.psql("SELECT pg_is_in_recovery()").strip() != "t":
            raise RuntimeError("the replica is not in recovery")

        env = dict(os.environ, DATABASE_URL=primary.url(), DATABASE_READ_URL=replica.url(),
                   PLENARY_REPLICA_MAX_LAG_MS="1000", PLENARY_JWT_SECRET=SECRET,
                   RUST_LOG="warn", PLENARY_DB_TIMEOUT_MS="1000")
        for cmd, stdin in (([binary, "migrate"], None),
                           ([binary, "organiser", "add", "--email", EMAIL, "--name", "Scale-out"],
                            PASSWORD + "\n")):
            r = subprocess.run(cmd, env=dict(env, DATABASE_READ_URL=""), input=stdin, text=True,
                               capture_output=True, timeout=120)
            if r.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd[1:3])} failed: {r.stderr}")

        ports = [free_port(), free_port()]
        for i, p in enumerate(ports):
            log = open(os.path.join(root, f"plenary-{i + 1}.log"), "w")
            logs.append(log)
            procs.append(subprocess.Popen([binary, "serve"], env=dict(env, BIND_ADDR=f"127.0.0.1:{p}"),
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for b in bases:
            wait_until(b + "/health/ready", lambda: request("GET", b + "/health/ready")[0] == 200)
        status, tok = request("POST", bases[0] + "/api/v1/auth/token", {"email": EMAIL, "password": PASSWORD})
        if status != 200:
            raise RuntimeError(f"login failed: {status} {tok}")
        token = tok["access_token"]
        status, conf = request("POST", bases[0] + "/api/v1/conferences", {
            "title": "Scale-out Check Conference", "status": "published",
            "start_date": "2025-09-17", "end_date": "2025-09-18", "time_zone": "Asia/Shanghai",
            "venue": {"city": "Lianyungang", "region": "Jiangsu", "country": "CN"}}, token, key="scale-conf")
        if status != 201:
            raise RuntimeError(f"creating the conference failed: {status} {conf}")
        cid = conf["id"]
        attendance = f"/api/v1/conferences/{cid}/attendance"
        # The conference must be visible anonymously on both instances before the clock starts.
        for b in bases:
            wait_until("the conference on " + b, lambda: request("GET", b + attendance)[0] == 200)

        lock = threading.Lock()
        phase = {"name": PHASES[0][0]}
        acked = {}          # name -> monotonic time of acknowledgement
        wstats = {"attempts": 0, "failed_attempts": 0, "gave_up": 0, "replayed": 0,
                  "acked_by_conflict": 0}
        reads = []          # (start, end, instance, phase, source, visible frozenset or None)
        read_error_samples = []

        def post_until_acknowledged(w, n, path, body, key):
            """The body of a 201 (or of the conflict a committed earlier attempt causes), or None."""
            deadline = time.monotonic() + 60
            attempt = 0
            while True:
                base = bases[(w + n + attempt) % 2]
                attempt += 1
                headers = {}
                try:
                    status, resp = request("POST", base + path, body, token, key=key, headers=headers)
                except Exception:
                    status, resp = 0, None
                detail = resp.get("detail", "") if isinstance(resp, dict) else ""
                with lock:
                    wstats["attempts"] += 1
                    if status == 201:
                        if headers.get("idempotent-replayed") == "true":
                            wstats["replayed"] += 1
                        return resp
                    if status == 409 and "already" in detail:
                        wstats["acked_by_conflict"] += 1
                        return {}
                    wstats["failed_attempts"] += 1
                if time.monotonic() > deadline:
                    with lock:
                        wstats["gave_up"] += 1
                    return None
                time.sleep(min(0.05 * attempt, 1.0))

        def writer(w):
            n = 0
            while not stop.is_set():
                name = f"scale-{w}-{n}"
                org = post_until_acknowledged(w, n, "/api/v1/organisations",
                                              {"name": name, "kind": "other"}, "org-" + name)
                if org is not None and "id" not in org:  # a 409: it exists, find its id
                    s, found = request("GET", bases[0] + "/api/v1/organisations?q=" + name, token=token)
                    org = next((o for o in (found or {}).get("items", []) if o["name"] == name), None)
                if org is None:
                    break
                d = post_until_acknowledged(w, n, f"/api/v1/conferences/{cid}/delegations",
                                            {"organisation_id": org["id"], "status": "registered"},
                                            "delegation-" + name)
                if d is None:
                    break
                with lock:
                    acked[name] = time.monotonic()
                n += 1
                stop.wait(args.write_interval)

        def reader(r):
            instance = r % 2
            url = bases[instance] + attendance
            while not stop.is_set():
                start = time.monotonic()
                at = phase["name"]
                headers = {}
                try:
                    status, body = request("GET", url, headers=headers)
                except Exception as e:
                    status, body = 0, repr(e)
                end = time.monotonic()
                source = headers.get("x-plenary-source", "unknown")
                if status == 200 and isinstance(body, dict):
                    visible = frozenset(o["name"] for o in body.get("organisations", [])
                                        if o.get("name", "").startswith("scale-"))
                    reads.append((start, end, instance, at, source, visible))
                else:
                    reads.append((start, end, instance, at, "error", None))
                    with lock:
                        if len(read_error_samples) < 10:
                            read_error_samples.append({"instance": instance + 1, "phase": at,
                                                       "status": status, "body": str(body)[:200]})
                stop.wait(0.02)

        threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(args.writers)]
        threads += [threading.Thread(target=reader, args=(r,), daemon=True) for r in range(args.readers)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        replica_behind = None
        paused_confirmed = None
        watcher_cuts = 0
        for name, seconds in PHASES:
            phase["name"] = name
            print(f"scaleout: phase {name} ({seconds:.0f} s) at {time.monotonic() - t0:.1f} s, "
                  f"{len(acked)} writes acknowledged, {len(reads)} reads", flush=True)
            if name == "replay_paused":
                replica.psql("SELECT pg_wal_replay_pause()")
                paused_confirmed = replica.psql("SELECT pg_is_wal_replay_paused()").strip() == "t"
            elif name == "replay_resumed":
                # How far the paused replica fell behind: the harness must really have made it lag.
                sql = f"SELECT count(*) FROM delegations WHERE conference_id = '{cid}'"
                replica_behind = int(primary.psql(sql)) - int(replica.psql(sql))
                replica.psql("SELECT pg_wal_replay_resume()")
            elif name == "replica_stopped":
                replica.stop("fast")
            if name == "revisions_cut":
                # The instances' invalidation channel, lost again and again: they must serve
                # uncached while unsure, and miss nothing when they are back.
                until = time.monotonic() + seconds
                while time.monotonic() < until:
                    out = primary.psql(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = 'plenary-revisions'")
                    watcher_cuts += int(out.strip() or 0)
                    time.sleep(0.3)
            else:
                time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join(90)
        elapsed_load = time.monotonic() - t0

        # Every acknowledged write, in the primary, exactly once.
        rows = primary.psql(
            "SELECT o.name, count(*) FROM delegations d JOIN organisations o ON o.id = d.organisation_id "
            f"WHERE d.conference_id = '{cid}' AND o.name LIKE 'scale-%' GROUP BY o.name")
        stored = {}
        for line in rows.splitlines():
            nm, c = line.rsplit("|", 1)
            stored[nm] = int(c)
        org_rows = primary.psql("SELECT name, count(*) FROM organisations WHERE name LIKE 'scale-%' "
                                "GROUP BY name HAVING count(*) > 1").split()
        found = sum(1 for nm in acked if nm in stored)
        lost = len(acked) - found
        duplicated = sum(1 for nm in acked if stored.get(nm, 0) > 1) + len(org_rows)
        unacknowledged_stored = len(set(stored) - set(acked))

        ok_reads = [x for x in reads if x[5] is not None]
        stale, stale_samples = stale_reads(ok_reads, acked, t0)
        non_monotonic, monotonic_samples = non_monotonic_reads(ok_reads, t0)

        by_phase = {name: {s: 0 for s in (*SOURCES, "other", "errors")} for name, _ in PHASES}
        for _, _, _, at, source, visible in reads:
            key = "errors" if visible is None else source if source in SOURCES else "other"
            by_phase[at][key] += 1
        read_errors = sum(p["errors"] for p in by_phase.values())

        report = {
            "writers": args.writers,
            "readers": args.readers,
            "writes_acknowledged": len(acked),
            "found": found,
            "lost": lost,
            "duplicated": duplicated,
            "stored_but_not_acknowledged": unacknowledged_stored,
            "write_attempts": wstats["attempts"],
            "write_attempts_failed": wstats["failed_attempts"],
            "writes_replayed": wstats["replayed"],
            "writes_acknowledged_by_conflict": wstats["acked_by_conflict"],
            "writers_gave_up": wstats["gave_up"],
            "reads": len(reads),
            "stale_reads_past_1s": stale,
            "non_monotonic_reads": non_monotonic,
            "reads_by_phase_and_source": by_phase,
            "read_errors": read_errors,
            "revision_connections_cut": watcher_cuts,
            "replay_pause_confirmed": paused_confirmed,
            "replica_delegations_behind_at_end_of_pause": replica_behind,
            "require_replica": args.require_replica,
            "stale_samples": stale_samples,
            "non_monotonic_samples": monotonic_samples,
            "read_error_samples": read_error_samples,
            "load_seconds": round(elapsed_load, 1),
            "seconds": round(time.monotonic() - started, 1),
        }
        print("scaleout report: " + json.dumps(report, indent=1))
        failures = []
        if lost or duplicated:
            failures.append(f"{lost} acknowledged writes lost, {duplicated} duplicated")
        if wstats["gave_up"]:
            failures.append(f"{wstats['gave_up']} writers gave up")
        if stale:
            failures.append(f"{stale} stale reads (a write acknowledged more than 1 s before missing)")
        if non_monotonic:
            failures.append(f"{non_monotonic} non-monotonic reads")
        for name, counts in by_phase.items():
            total = sum(counts.values())
            if counts["errors"] > max(2, total // 100):
                failures.append(f"{counts['errors']} of {total} reads failed in phase {name} "
                                "(reads must fall back to the primary)")
        if args.require_replica and by_phase["normal"]["replica"] == 0:
            failures.append("no read of the normal phase came from the replica "
                            "(X-Plenary-Source: replica); --no-require-replica skips this")
        if not paused_confirmed or not replica_behind:
            failures.append("pausing replay did not leave the replica behind (harness broken)")
        if not acked:
            failures.append("no write was acknowledged")
        if watcher_cuts == 0:
            failures.append("no revision connection was cut (harness broken)")
        if failures:
            for f in failures:
                print("scaleout: " + f, file=sys.stderr)
            sys.exit("scale-out check FAILED")
        print("scale-out check passed")
    except BaseException:
        for i, log in enumerate(logs):
            try:
                log.flush()
                with open(log.name, errors="replace") as f:
                    tail = f.readlines()[-15:]
                if tail:
                    print(f"--- plenary instance {i + 1} log (tail)\n" + "".join(tail), file=sys.stderr)
            except Exception:
                pass
        raise
    finally:
        stop.set()
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)
        for log in logs:
            log.close()
        for c in clusters:
            c.stop("immediate")
            c.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:
        sys.exit(f"scale-out check FAILED: {e}")
    except KeyboardInterrupt:
        sys.exit("scale-out check interrupted")
