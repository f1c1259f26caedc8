#!/usr/bin/env python3
"""Fault script: concurrent writers against two Plenary instances over one PostgreSQL,
PostgreSQL restarted in the middle, instance 1 aborted right after COMMITting a write (before
answering it) and restarted, instance 2 killed with SIGKILL; then every acknowledged write must
be in the database exactly once, and nothing else.

Writers create organisations named fault-<writer>-<n>, each with an Idempotency-Key, and retry
(same key, either instance) until the write is acknowledged: 201 (fresh or a replay), or a 409
saying the name exists. That 409 means an earlier attempt committed but its retry ran again
instead of replaying: with the response stored in the write's own transaction it must never
happen, and the report counts it (with a crashed write not acknowledged by a replay) as
`retries_not_replayed`, which must be 0.

The abort is the debug build's failpoint: a request carrying `Plenary-Failpoint:
after-commit-abort` aborts the process right after its write's COMMIT. A release binary
ignores the header, and the script then fails ("failpoint never fired").

Usage: scripts/fault.py [--writers 8] [--writes 40] [--binary target/debug/plenary]
Needs the PostgreSQL server binaries (as for `plenary serve`); runs as root or not.
Standard library only.
"""
import argparse, json, os, random, shutil, signal, subprocess, sys, tempfile, threading, time
import urllib.request, urllib.error

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cluster import Cluster  # noqa: E402
from harness import free_port, request  # noqa: E402

SECRET = "fault-script-secret-fault-script-secret-0123"
PASSWORD = "fault script password"
EMAIL = "fault@example.org"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--writes", type=int, default=40, help="writes per writer")
    ap.add_argument("--binary", default="target/debug/plenary")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.path.exists(binary):
        sys.exit(f"{binary} not found: run `cargo build` first")

    root = tempfile.mkdtemp(prefix="plenary-fault-", dir="/tmp")
    cluster = Cluster(root, "pg")
    procs = []
    try:
        cluster.init()
        cluster.start()
        cluster.psql("CREATE DATABASE fault", db="postgres")
        env = dict(os.environ, DATABASE_URL=cluster.url("fault"), PLENARY_JWT_SECRET=SECRET,
                   RUST_LOG="warn", PLENARY_DB_TIMEOUT_MS="1000")
        subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([binary, "organiser", "add", "--email", EMAIL, "--name", "Fault"], env=env,
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        ports = [free_port(), free_port()]

        def serve(p):
            return subprocess.Popen([binary, "serve"], env=dict(env, BIND_ADDR=f"127.0.0.1:{p}"),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def wait_ready(b):
            for _ in range(100):
                try:
                    if request("GET", b + "/health/ready")[0] == 200:
                        return
                except Exception:
                    pass
                time.sleep(0.1)

        for p in ports:
            procs.append(serve(p))
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for b in bases:
            wait_ready(b)
        status, tok = request("POST", bases[0] + "/api/v1/auth/token", {"email": EMAIL, "password": PASSWORD})
        if status != 200:
            sys.exit(f"login failed: {status} {tok}")
        token = tok["access_token"]

        lock = threading.Lock()
        stats = {"sent": 0, "attempts": 0, "acknowledged": 0, "gave_up": 0, "replayed": 0,
                 "acked_by_conflict": 0}
        acked = []
        # The after-commit abort: armed by the main thread, taken by the next write.
        crash = {"armed": False, "names": []}

        def writer(w):
            for n in range(args.writes):
                name = f"fault-{w}-{n}"
                with lock:
                    stats["sent"] += 1
                deadline = time.time() + 90
                attempt = 0
                while True:
                    base = bases[(w + n + attempt) % 2]
                    failpoint = None
                    with lock:
                        stats["attempts"] += 1
                        if crash["armed"] and attempt == 0:
                            crash["armed"] = False
                            base, failpoint = bases[0], "after-commit-abort"
                    attempt += 1
                    headers = {}
                    try:
                        status, body = request("POST", base + "/api/v1/organisations",
                                               {"name": name, "kind": "other"}, token, key=name,
                                               failpoint=failpoint, headers=headers)
                    except Exception:
                        status, body = 0, None
                    if failpoint:
                        with lock:
                            if status == 0:
                                crash["names"].append(name)
                            else:
                                crash["armed"] = True  # did not commit: the next write tries
                    detail = (body or {}).get("detail", "") if isinstance(body, dict) else ""
                    if status == 201 or (status == 409 and "already exists" in detail):
                        with lock:
                            stats["acknowledged"] += 1
                            acked.append(name)
                            if status == 409:
                                stats["acked_by_conflict"] += 1
                            elif headers.get("idempotent-replayed") == "true":
                                stats["replayed"] += 1
                            elif name in crash["names"]:
                                crash["names"].append(name + "#ran-again")
                        break
                    if time.time() > deadline:
                        with lock:
                            stats["gave_up"] += 1
                        break
                    time.sleep(min(0.05 * attempt, 1.0) + random.random() * 0.05)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(args.writers)]
        started = time.time()
        for t in threads:
            t.start()
        total = args.writers * args.writes

        def wait_for(fraction):
            # Faults strike at a point of progress, not of time, so that they always land
            # in the middle of the writes however fast the machine is.
            while True:
                with lock:
                    if stats["acknowledged"] >= total * fraction:
                        return
                time.sleep(0.01)

        wait_for(1 / 6)
        print(f"fault: aborting instance 1 after a COMMIT, after {stats['acknowledged']} "
              "acknowledged writes", flush=True)
        with lock:
            crash["armed"] = True
        try:
            aborted = procs[0].wait(60)
        except subprocess.TimeoutExpired:
            sys.exit("fault script FAILED: the after-commit failpoint never fired "
                     "(is the binary a debug build?)")
        procs[0] = serve(ports[0])
        wait_ready(bases[0])
        wait_for(1 / 3)
        print(f"fault: restarting PostgreSQL after {stats['acknowledged']} acknowledged writes", flush=True)
        cluster.stop("immediate")
        time.sleep(1.0)
        cluster.start()
        wait_for(2 / 3)
        print(f"fault: SIGKILL instance 2 after {stats['acknowledged']} acknowledged writes", flush=True)
        procs[1].send_signal(signal.SIGKILL)
        for t in threads:
            t.join()
        elapsed = time.time() - started

        rows = cluster.psql("SELECT name FROM organisations WHERE name LIKE 'fault-%'", db="fault").split()
        found = len(rows)
        distinct = set(rows)
        acked_set = set(acked)
        lost = len(acked_set - distinct)
        duplicated = found - len(distinct)
        unexpected = len(distinct - acked_set)
        crashed = [n for n in crash["names"] if not n.endswith("#ran-again")]
        ran_again = len(crash["names"]) - len(crashed)
        not_replayed = stats["acked_by_conflict"] + ran_again
        report = {
            "writers": args.writers,
            "requests_sent": stats["sent"],
            "http_attempts": stats["attempts"],
            "acknowledged": stats["acknowledged"],
            "found_in_database": found,
            "lost": lost,
            "duplicated": duplicated,
            "unexpected": unexpected,
            "gave_up": stats["gave_up"],
            "after_commit_aborts": len(crashed),
            "abort_exit_status": aborted,
            "replayed": stats["replayed"],
            "retries_not_replayed": not_replayed,
            "seconds": round(elapsed, 1),
        }
        print("fault report: " + json.dumps(report))
        ok = lost == 0 and duplicated == 0 and unexpected == 0 and stats["gave_up"] == 0 \
            and stats["acknowledged"] == stats["sent"] == found \
            and not_replayed == 0 and len(crashed) == 1 and stats["replayed"] >= 1 \
            and aborted == -signal.SIGABRT
        if not ok:
            sys.exit("fault script FAILED")
        print("fault script passed")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except Exception:
                    p.kill()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:
        sys.exit(f"fault script FAILED: {e}")
