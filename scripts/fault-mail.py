#!/usr/bin/env python3
"""Mail fault script: e-mail and webhook delivery through the outbox survives a killed instance
and a restarted PostgreSQL, loses nothing and sends nothing for a write that rolled back.

Two `plenary serve` instances on one database, both sending to one SMTP server (the aiosmtpd
sink tests/api/py/smtp_sink.py, run from .venv-ci, answering some recipients' first RCPT or
DATA with 451 and holding each message a few milliseconds), with a short outbox lease
(PLENARY_OUTBOX_LEASE_SECS) so that what a killed instance had claimed is taken again by the
other. Writers on both instances invite focal points (one e-mail each, a unique address),
invite some of those addresses again (a 409 that rolls back: its e-mail must never arrive),
and decide nominations (an organiser accepts a nominated member: one e-mail to the
delegation's focal point). Meanwhile instance 1 is SIGKILLed and restarted, and PostgreSQL is
stopped (immediate) and started. Every write is retried with its Idempotency-Key until it is
acknowledged.

Two webhooks of the conference receive the same writes at a receiver that verifies every
delivery with the Standard Webhooks reference library (tests/api/py/webhook_receiver.py,
`standardwebhooks` from PyPI): one subscribed to `member.created` and `nomination.decided`
(answering 200), one to every event (`["*"]`, answering 500 to the first attempt of each
delivery, so every delivery is retried). Per webhook the report gives committed (its outbox
rows), delivered (distinct `webhook-id`s received and verified), lost, delivered twice (allowed
only for a delivery in flight at the kill), unverified (must be 0) and out of order (a delivery
received before one committed earlier had been delivered: must be 0, deliveries of one webhook
leave in commit order).

At the end, once the outbox has nothing pending, the report compares: committed (outbox
e-mail rows, and the writers' acknowledged writes), delivered (distinct Message-IDs at the
sink), lost (committed, never received), delivered twice (one Message-ID received more than
once: allowed only for messages in flight at the kill, i.e. a first copy received before it and
the next after; reported), rolled back (an e-mail received for a write that was refused, or a
Message-ID that is no outbox row). Exits non-zero when anything is lost, failed, sent twice
other than by the kill, or sent for a rolled-back write.

Usage: scripts/fault-mail.py [--writers 6] [--writes 30] [--binary target/debug/plenary]
Needs the PostgreSQL server binaries and .venv-ci with aiosmtpd and standardwebhooks
(tests/api/py/requirements.txt).
"""
import argparse, email, email.policy, json, os, random, shutil, signal, subprocess, sys, tempfile
import threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cluster import Cluster  # noqa: E402
from harness import free_port, request  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "fault-mail-script-secret-fault-mail-script-0123"
PASSWORD = "fault script password"
EMAIL = "fault@example.org"
LEASE_SECS = 10


def venv_python():
    """.venv-ci's Python with aiosmtpd and standardwebhooks, made as .ci/run and the tests
    make it when missing."""
    python = os.path.join(ROOT, ".venv-ci", "bin", "python")
    ok = lambda: os.path.exists(python) and subprocess.run(  # noqa: E731
        [python, "-c", "import aiosmtpd, standardwebhooks"], capture_output=True).returncode == 0
    if not ok():
        subprocess.run([sys.executable, "-m", "venv", os.path.join(ROOT, ".venv-ci")], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", os.path.join(ROOT, "tests/api/py/requirements.txt")], check=True)
    return python


def received(folder):
    """(Message-ID, To address, X-Plenary-Kind, message, when received) of every message the
    sink kept, in the order received (the file's modification time is when it arrived)."""
    out = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".eml"):
            continue
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            raw = f.read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        to = msg["To"].addresses[0].addr_spec if msg["To"] is not None else ""
        out.append((str(msg["Message-ID"]), to, str(msg["X-Plenary-Kind"]), msg, os.stat(path).st_mtime))
    return out


def code_in(msg):
    text = msg.get_body(("plain",)).get_content()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "usable once" in line:
            return next(l.strip() for l in lines[i + 1:] if l.strip())
    raise RuntimeError("no code in the invitation")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--writers", type=int, default=6)
    ap.add_argument("--writes", type=int, default=30, help="writes per writer")
    ap.add_argument("--binary", default="target/debug/plenary")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.path.exists(binary):
        sys.exit(f"{binary} not found: run `cargo build` first")
    python = venv_python()

    root = tempfile.mkdtemp(prefix="plenary-fault-mail-", dir="/tmp")
    cluster = Cluster(root, "pg")
    procs, sink, receiver = [], None, None
    try:
        cluster.init()
        cluster.start()
        cluster.psql("CREATE DATABASE fault", db="postgres")
        folder = os.path.join(root, "sink")
        sink_log = open(os.path.join(root, "sink.log"), "w")
        # A few recipients are refused for now (451 at RCPT or DATA, then retried); every
        # message is held 5 ms, so that some are in flight when an instance dies.
        rules = ["rcpt:fp-0-0@mail.test:451:2", "data:fp-1-4@mail.test:451:1",
                 "rcpt:fp-2-9@mail.test:451:1", "data:fp-3-15@mail.test:451:2"]
        sink = subprocess.Popen([python, os.path.join(ROOT, "tests/api/py/smtp_sink.py"), "--dir", folder,
                                 "--delay-ms", "5", *[a for r in rules for a in ("--rule", r)]],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sink_log, text=True)
        smtp_port = json.loads(sink.stdout.readline())["port"]
        hooks_dir = os.path.join(root, "hooks")
        os.makedirs(hooks_dir)
        receiver = subprocess.Popen([python, os.path.join(ROOT, "tests/api/py/webhook_receiver.py"), hooks_dir],
                                    stdout=subprocess.PIPE, stderr=sink_log, text=True)
        hook_port = int(receiver.stdout.readline())
        env = dict(os.environ, DATABASE_URL=cluster.url("fault"), PLENARY_JWT_SECRET=SECRET,
                   RUST_LOG="warn", PLENARY_DB_TIMEOUT_MS="1000", PLENARY_WEBHOOK_ALLOW_PRIVATE="true",
                   PLENARY_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
                   PLENARY_OUTBOX_LEASE_SECS=str(LEASE_SECS), PLENARY_OUTBOX_RETRY_BASE_MS="200")
        subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([binary, "organiser", "add", "--email", EMAIL, "--name", "Fault"], env=env,
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        ports = [free_port(), free_port()]
        logs = [open(os.path.join(root, f"serve-{i}.log"), "a") for i in range(2)]

        def serve(i):
            return subprocess.Popen([binary, "serve"], env=dict(env, BIND_ADDR=f"127.0.0.1:{ports[i]}"),
                                    stdout=logs[i], stderr=logs[i])

        def wait_ready(b):
            for _ in range(100):
                try:
                    if request("GET", b + "/health/ready")[0] == 200:
                        return
                except Exception:
                    pass
                time.sleep(0.1)

        for i in range(2):
            procs.append(serve(i))
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for b in bases:
            wait_ready(b)
        status, tok = request("POST", bases[0] + "/api/v1/auth/token", {"email": EMAIL, "password": PASSWORD})
        if status != 200:
            sys.exit(f"login failed: {status} {tok}")
        token = tok["access_token"]

        def ok(status, body, what):
            if status not in (200, 201):
                raise RuntimeError(f"{what}: {status} {body}")
            return body

        conf = ok(*request("POST", bases[0] + "/api/v1/conferences", {
            "title": "Hội nghị về thư điện tử", "status": "draft", "start_date": "2027-03-01",
            "end_date": "2027-03-03", "time_zone": "Asia/Ho_Chi_Minh",
            "venue": {"city": "Hà Nội", "country": "VN"}}, token), "conference")
        cpath = f"/api/v1/conferences/{conf['id']}"
        invited = ok(*request("POST", bases[0] + cpath + "/delegations", {"country": "LA"}, token), "delegation")
        decided = ok(*request("POST", bases[0] + cpath + "/delegations", {"country": "VN"}, token), "delegation")
        # Two webhooks; each one's secret is handed to the receiver before any write it gets.
        hooks = {}
        for name, events, behaviour in [("decisions", ["member.created", "nomination.decided"], "ok"),
                                        ("everything", ["*"], "flaky")]:
            h = ok(*request("POST", bases[0] + cpath + "/webhooks", {
                "url": f"http://127.0.0.1:{hook_port}/{name}/{behaviour}", "events": events}, token), "webhook")
            with open(os.path.join(hooks_dir, name + ".secret"), "w") as f:
                f.write(h["secret"])
            hooks[name] = h["id"]
        ipath = f"{cpath}/delegations/{invited['id']}/focal-points"
        mpath = f"{cpath}/delegations/{decided['id']}/members"
        # The decided delegation's focal point, made active with the code from its e-mail.
        fp_addr = "focal.point@mofa.gov.vn"
        ok(*request("POST", bases[0] + f"{cpath}/delegations/{decided['id']}/focal-points",
                    {"email": fp_addr, "name": "Trần Văn Minh"}, token), "focal point")
        deadline = time.time() + 30
        while not [m for m in received(folder) if m[1] == fp_addr]:
            if time.time() > deadline:
                raise RuntimeError("the setup invitation never arrived")
            time.sleep(0.1)
        code = code_in(next(m[3] for m in received(folder) if m[1] == fp_addr))
        ok(*request("POST", bases[0] + "/api/v1/auth/invitations/accept",
                    {"code": code, "password": "a long enough password"}), "accept")

        lock = threading.Lock()
        stats = {"acknowledged": 0, "gave_up": 0, "invitations": 0, "decisions": 0,
                 "refused": 0, "refused_not_409": 0}
        refused_addresses = []
        errors = []

        def until_acked(w, n, method, path, body, key, accept=(200, 201)):
            """Retries one write (same key, either instance) until acknowledged; its body."""
            deadline = time.time() + 90
            attempt = 0
            while True:
                base = bases[(w + n + attempt) % 2]
                attempt += 1
                try:
                    status, resp = request(method, base + path, body, token, key=key)
                except Exception:
                    status, resp = 0, None
                detail = resp.get("detail", "") if isinstance(resp, dict) else ""
                if status == 409 and "Idempotency-Key" in detail:
                    pass  # a concurrent attempt with this key answered first: retry for it
                elif status in accept:
                    return status, resp
                elif status in (400, 403, 404, 409, 412, 422):
                    return status, resp
                if time.time() > deadline:
                    with lock:
                        stats["gave_up"] += 1
                    return status, resp
                time.sleep(min(0.05 * attempt, 1.0) + random.random() * 0.05)

        def writer(w):
            try:
                for n in range(args.writes):
                    addr = f"fp-{w}-{n}@mail.test"
                    s, b = until_acked(w, n, "POST", ipath, {"email": addr, "name": f"Phạm Thị {w}-{n}"},
                                       f"invite-{w}-{n}")
                    if s != 201:
                        raise RuntimeError(f"invitation {addr}: {s} {b}")
                    with lock:
                        stats["acknowledged"] += 1
                        stats["invitations"] += 1
                    if n % 5 == 2:
                        # The same address again, a new write: refused, rolled back.
                        s, b = until_acked(w, n, "POST", ipath, {"email": addr, "name": "Again"},
                                           f"again-{w}-{n}", accept=(409,))
                        with lock:
                            stats["refused"] += 1
                            refused_addresses.append(addr)
                            if s != 409:
                                stats["refused_not_409"] += 1
                    if n % 3 == 1:
                        s, m = until_acked(w, n, "POST", mpath, {"full_name": f"Delegate {w}-{n}",
                                                                 "nomination_status": "nominated"},
                                           f"member-{w}-{n}")
                        if s != 201:
                            raise RuntimeError(f"member: {s} {m}")
                        s, b = until_acked(w, n, "PATCH", f"{mpath}/{m['id']}",
                                           {"nomination_status": "accepted"}, f"decide-{w}-{n}")
                        if s != 200:
                            raise RuntimeError(f"decision: {s} {b}")
                        with lock:
                            stats["acknowledged"] += 1
                            stats["decisions"] += 1
            except Exception as e:  # reported below
                with lock:
                    errors.append(f"writer {w}: {e}")

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(args.writers)]
        started = time.time()
        for t in threads:
            t.start()
        total = args.writers * (args.writes + len([n for n in range(args.writes) if n % 3 == 1]))

        def wait_for(fraction):
            while True:
                with lock:
                    if stats["acknowledged"] >= total * fraction or not any(t.is_alive() for t in threads):
                        return
                time.sleep(0.01)

        wait_for(1 / 3)
        in_flight = cluster.psql("SELECT count(*) FROM outbox WHERE leased_until > now()", db="fault").strip()
        print(f"fault-mail: SIGKILL instance 1 after {stats['acknowledged']} acknowledged writes "
              f"({in_flight} messages leased)", flush=True)
        killed_at = time.time()
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait()
        procs[0] = serve(0)
        wait_ready(bases[0])
        wait_for(2 / 3)
        print(f"fault-mail: restarting PostgreSQL after {stats['acknowledged']} acknowledged writes", flush=True)
        restart_at = time.time()
        cluster.stop("immediate")
        time.sleep(1.0)
        cluster.start()
        restarted_in = time.time() - restart_at
        for t in threads:
            t.join()
        writes_done = time.time()

        # Wait until nothing is pending (the killed instance's leases run out first; every
        # delivery to the "everything" webhook is refused once, then retried, one at a time).
        deadline = time.time() + 240
        while True:
            try:
                pending = int(cluster.psql("SELECT count(*) FROM outbox WHERE status = 'pending'", db="fault"))
            except RuntimeError:
                pending = -1
            if pending == 0 or time.time() > deadline:
                break
            time.sleep(0.2)
        time.sleep(0.5)  # a last delivery's file is written before its 250 answer is recorded
        elapsed = time.time() - started

        rows = [r.split("|") for r in cluster.psql(
            "SELECT id, status, recipient, attempts FROM outbox WHERE channel = 'email'", db="fault").split()]
        committed = {f"<{r[0]}@localhost>": r for r in rows}
        failed = [r for r in rows if r[1] == "failed"]
        mails = received(folder)
        times = {}
        for mid, _, _, _, at in mails:
            times.setdefault(mid, []).append(at)
        delivered = set(times)
        lost = sorted(set(committed) - delivered)
        unexpected = sorted(delivered - set(committed))
        twice = {mid: [round(t - killed_at, 2) for t in ts] for mid, ts in times.items() if len(ts) > 1}
        # Sent again because instance 1 died while sending it: a first copy before the kill
        # (or while the sink held it), the others after. Any other second copy is a fault.
        by_kill = {mid: ts for mid, ts in twice.items() if ts[0] < 1.0 and all(t >= 0 for t in ts[1:])}
        otherwise = {mid: ts for mid, ts in twice.items() if mid not in by_kill}
        by_address = {}
        for mid, to, kind, _, _ in mails:
            if kind == "invitation":
                by_address.setdefault(to, set()).add(mid)
        refused_sent = [a for a in refused_addresses if len(by_address.get(a, ())) > 1]
        acked_mails = stats["invitations"] + stats["decisions"] + 1  # + the setup invitation
        report = {
            "writers": args.writers,
            "acknowledged_writes": stats["acknowledged"],
            "committed_outbox_emails": len(committed),
            "committed_by_acknowledged_writes": acked_mails,
            "received_messages": len(mails),
            "delivered": len(delivered & set(committed)),
            "lost": len(lost),
            "delivered_twice": len(twice),
            "delivered_twice_by_the_kill": len(by_kill),
            "delivered_twice_otherwise": len(otherwise),
            "failed": len(failed),
            "rolled_back_writes": stats["refused"],
            "rolled_back_sent": len(refused_sent) + len(unexpected),
            "max_attempts": max((int(r[3]) for r in rows), default=0),
            "postgres_down_seconds": round(restarted_in, 1),
            "lease_seconds": LEASE_SECS,
            "pending_at_end": pending,
            "gave_up": stats["gave_up"],
            "seconds": round(elapsed, 1),
            "seconds_after_writes": round(time.time() - writes_done, 1),
        }
        # Webhooks: per webhook, its outbox rows against what the receiver verified.
        records = []
        with open(os.path.join(hooks_dir, "records.jsonl")) as f:
            for line in f:
                records.append(json.loads(line))
        webhook_reports = {}
        hooks_good = True
        for name, hook_id in hooks.items():
            hrows = [r.split("|") for r in cluster.psql(
                f"SELECT id, seq, status FROM outbox WHERE channel = 'webhook' AND webhook_id = '{hook_id}' "
                "ORDER BY seq", db="fault").split()]
            order = [r[0] for r in hrows]
            mine = [r for r in records if r["hook"] == name]
            ok_ids = [r["id"] for r in mine if r["verified"] and r["answered"] == 200]
            counts = {}
            for i in ok_ids:
                counts[i] = counts.get(i, 0) + 1
            first_ok = list(dict.fromkeys(ok_ids))
            # In order: each delivery received (answered 200) after every one committed before it.
            position = {mid: k for k, mid in enumerate(order)}
            out_of_order = sum(1 for a, b in zip(first_ok, first_ok[1:])
                               if position.get(a, -1) > position.get(b, -1))
            lost_h = sorted(set(order) - set(counts))
            rep = {
                "committed": len(order),
                "delivered": len(set(order) & set(counts)),
                "lost": len(lost_h),
                "delivered_twice": sum(1 for n in counts.values() if n > 1),
                "unverified": sum(1 for r in mine if not r["verified"]),
                "not_in_outbox": len(set(counts) - set(order)),
                "out_of_order": out_of_order,
                "attempts_received": len(mine),
                "failed": sum(1 for r in hrows if r[2] == "failed"),
            }
            webhook_reports[name] = rep
            # A second delivery is allowed only for one in flight when an instance died or
            # PostgreSQL went away before its outcome was recorded: one webhook has at most
            # one delivery in flight (commit order), so at most two per fault.
            hooks_good = hooks_good and rep["lost"] == 0 and rep["unverified"] == 0 \
                and rep["not_in_outbox"] == 0 and rep["out_of_order"] == 0 and rep["failed"] == 0 \
                and rep["committed"] > 0 and rep["delivered_twice"] <= 4
        report["webhooks"] = webhook_reports
        print("fault-mail report: " + json.dumps(report))
        if twice:
            print("delivered twice (seconds of each receipt after the kill): " + json.dumps(twice))
        for e in errors:
            print("error: " + e)
        if lost:
            print("lost: " + " ".join(lost[:20]))
        if unexpected:
            print("received but not in the outbox: " + " ".join(unexpected[:20]))
        if refused_sent:
            print("e-mailed for a refused write: " + " ".join(refused_sent[:20]))
        good = not lost and not unexpected and not refused_sent and not failed and not errors \
            and not otherwise \
            and pending == 0 and stats["gave_up"] == 0 and stats["refused_not_409"] == 0 \
            and len(committed) == acked_mails and hooks_good
        if not good:
            sys.exit("fault-mail script FAILED (server logs and the sink's folder in " + root + ")")
        print("fault-mail script passed")
        shutil.rmtree(root, ignore_errors=True)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except Exception:
                    p.kill()
        if sink is not None and sink.poll() is None:
            sink.terminate()
        if receiver is not None and receiver.poll() is None:
            receiver.terminate()
        cluster.stop()


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:
        sys.exit(f"fault-mail script FAILED: {e}")
