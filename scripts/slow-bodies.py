#!/usr/bin/env python3
"""Slow bodies: many connections each announce a request body of 1 MiB less 20 bytes and
stall before its end; the server's memory must stay bounded while they hang, and come back
after they close, and it must keep answering meanwhile.

The script starts `plenary serve --demo` on its own embedded cluster (a fresh data folder,
loopback only), logs in as the demo organiser, then opens `--connections` connections from
`--addresses` loopback addresses (127.0.0.1, 127.0.0.2, ...: the budget per client address and
the total both come into play). Connection i sends `POST` to the i-th of `--paths` (in turn)
with `Content-Length: --body-bytes`, then the body less its last `--stall-bytes` bytes, and
stalls. By default half go to `/api/v1/auth/token`, the probe that found the problem (over the
16 KiB limit of `/auth/*`: 413 at once), half to `POST /api/v1/organisations` with the demo
organiser's token (read by the handler: the body budget answers 503 past it, before the body).

While they hang (`--hold` seconds; past the server's 10 s body timeout, so stalled bodies that
were let in get 408), `/health/live` and a cached public read (the Lianyungang attendance)
are asked every half second and must answer 200. The server's RSS (VmRSS) is sampled before,
during (peak) and `--after-wait` seconds after the connections close. Fails (exit 1) when the
peak passes `--max-peak-mib`, the RSS after passes `--max-after-mib`, or a probe failed.

Usage: scripts/slow-bodies.py [--binary target/release/plenary] [--connections 2500]
       [--after-wait 60] [--max-peak-mib 512] [--max-after-mib 200]
Needs the PostgreSQL server binaries (as for `plenary serve`); runs as root or not.
Standard library only; bounded in time (it stops itself).
"""
import argparse, collections, errno, json, os, re, resource, selectors, shutil, signal, socket, subprocess, sys
import tempfile, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from harness import free_port, request  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATTENDANCE = "/api/v1/conferences/019954f8-9000-7a00-8000-17a9f0c0e000/attendance"


def rss_mib(pid):
    """VmRSS of `pid` in MiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def raise_fd_limit(need):
    """Raises this process's open-file limit (inherited by the server) to `need` if the hard
    limit allows (as root, the hard limit too); answers the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return soft
    if hard != resource.RLIM_INFINITY and hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return need
        except (ValueError, OSError):
            need = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return need


def start_server(binary, root, port):
    """`plenary serve --demo` on a fresh embedded cluster in `root`; answers the process and
    the demo organiser's password once it listens (exits after 180 s without)."""
    env = dict(os.environ, PLENARY_DATA_DIR=os.path.join(root, "data"), BIND_ADDR=f"127.0.0.1:{port}",
               PLENARY_DATA_FILES=os.path.join(ROOT, "data"), RUST_LOG="warn")
    env.pop("DATABASE_URL", None)
    env.pop("PLENARY_JWT_SECRET", None)
    log = open(os.path.join(root, "server.log"), "w")
    proc = subprocess.Popen([binary, "serve", "--demo"], env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    password, deadline = None, time.time() + 180
    for line in proc.stdout:
        m = re.search(r"demo organiser: email \S+ password (\S+)", line)
        if m:
            password = m.group(1)
        if "listening on" in line:
            break
        if time.time() > deadline:
            break
    if password is None:
        proc.kill()
        sys.exit("the server did not start: see " + log.name)
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc, password


class Prober(threading.Thread):
    """Asks `/health/live` and the cached attendance every half second until stopped;
    counts answers by path and status, and keeps the slowest."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.base, self.stop = base, threading.Event()
        self.answers, self.slowest = collections.Counter(), 0.0

    def run(self):
        while not self.stop.is_set():
            for path in ("/health/live", ATTENDANCE):
                t0 = time.time()
                try:
                    status = request("GET", self.base + path, timeout=5)[0]
                except Exception as e:  # a timeout or a refused connection counts as a failure
                    status = type(e).__name__
                self.slowest = max(self.slowest, time.time() - t0)
                self.answers[(path, status)] += 1
            self.stop.wait(0.5)

    def failures(self):
        return sum(n for (_, status), n in self.answers.items() if status != 200)


def stall(port, args, token, body, sample):
    """Opens the connections, sends each its head and body less the stalled end, reads what the
    server answers, for `args.hold` seconds; `sample()` is called every 0.2 s. Closes them all;
    answers the statuses seen (by path), connections never answered counted as `stalled`."""
    paths = args.paths.split(",")
    sel = selectors.DefaultSelector()
    conns = []
    statuses = collections.Counter()
    to_send = args.body_bytes - args.stall_bytes
    for i in range(args.connections):
        path = paths[i % len(paths)]
        s = socket.socket()
        s.setblocking(False)
        s.bind((f"127.0.0.{1 + i % args.addresses}", 0))
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        auth = f"Authorization: Bearer {token}\r\n" if not path.startswith("/api/v1/auth/") else ""
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Content-Type: application/json\r\n"
                f"Content-Length: {args.body_bytes}\r\n\r\n").encode()
        c = {"sock": s, "path": path, "head": head, "sent": 0, "answer": b"", "done": False}
        conns.append(c)
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    end, next_sample = time.time() + args.hold, 0
    while time.time() < end:
        if time.time() >= next_sample:
            sample()
            next_sample = time.time() + 0.2
        for key, events in sel.select(timeout=0.1):
            c = key.data
            if events & selectors.EVENT_READ:
                try:
                    data = c["sock"].recv(65536)
                except OSError:
                    data = b""
                c["answer"] += data
                if not data:
                    c["done"] = True
                    sel.unregister(c["sock"])
                    continue
            if events & selectors.EVENT_WRITE and not c["done"]:
                try:
                    if c["sent"] < len(c["head"]):
                        c["sent"] += c["sock"].send(c["head"][c["sent"]:])
                    else:
                        offset = c["sent"] - len(c["head"])
                        c["sent"] += c["sock"].send(body[offset:to_send][:262144])
                except BlockingIOError:
                    pass
                except OSError as e:
                    if e.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                        raise
                if c["sent"] >= len(c["head"]) + to_send:
                    sel.modify(c["sock"], selectors.EVENT_READ, c)
    for c in conns:
        first = c["answer"].split(b"\r\n", 1)[0].decode(errors="replace")
        status = first.split(" ")[1] if first.startswith("HTTP/1.1 ") else ("closed" if c["done"] else "stalled")
        statuses[(c["path"], status)] += 1
        c["sock"].close()
    sel.close()
    return statuses


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default="target/release/plenary")
    ap.add_argument("--connections", type=int, default=2500)
    ap.add_argument("--addresses", type=int, default=50, help="loopback source addresses")
    ap.add_argument("--paths", default="/api/v1/auth/token,/api/v1/organisations")
    ap.add_argument("--body-bytes", type=int, default=(1 << 20) - 20)
    ap.add_argument("--stall-bytes", type=int, default=1024, help="bytes of each body never sent")
    ap.add_argument("--hold", type=float, default=15, help="seconds the connections hang")
    ap.add_argument("--after-wait", type=float, default=60, help="seconds after they close")
    ap.add_argument("--max-peak-mib", type=float, default=512)
    ap.add_argument("--max-after-mib", type=float, default=200)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.path.exists(binary):
        sys.exit(f"{binary} not found: run `cargo build --release` first")
    limit = raise_fd_limit(args.connections + 512)
    if limit < args.connections + 64:
        sys.exit(f"open-file limit {limit} is too low for {args.connections} connections")
    signal.signal(signal.SIGALRM, lambda *_: sys.exit("slow-bodies: time is up"))
    signal.alarm(int(args.hold + args.after_wait + 600))

    root = tempfile.mkdtemp(prefix="plenary-slow-bodies-", dir="/tmp")
    os.chmod(root, 0o755)  # the embedded cluster runs as `postgres` when this runs as root
    proc = None
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc, password = start_server(binary, root, port)
        status, tok = request("POST", base + "/api/v1/auth/token",
                              {"email": "demo@plenary.example", "password": password})
        if status != 200:
            sys.exit(f"login failed: {status} {tok}")
        token = tok["access_token"]
        # The read is cached once asked; then let the server settle before the baseline.
        for _ in range(3):
            status, _ = request("GET", base + ATTENDANCE)
            if status != 200:
                sys.exit(f"the attendance read answered {status}")
        time.sleep(2)
        before = rss_mib(proc.pid)
        print(f"baseline RSS {before:.0f} MiB; {args.connections} connections from {args.addresses} "
              f"addresses, {args.body_bytes} bytes announced, for {args.hold:.0f} s", flush=True)

        samples = []
        prober = Prober(base)
        prober.start()
        body = memoryview(b" " * args.body_bytes)
        statuses = stall(port, args, token, body, lambda: samples.append(rss_mib(proc.pid)))
        samples.append(rss_mib(proc.pid))
        time.sleep(1)
        prober.stop.set()
        prober.join()
        peak = max(samples)
        closed_at = time.time()
        print(f"peak RSS {peak:.0f} MiB; answers: "
              + ", ".join(f"{p} {s}: {n}" for (p, s), n in sorted(statuses.items())), flush=True)
        while time.time() - closed_at < args.after_wait:
            time.sleep(min(5, max(0.1, args.after_wait - (time.time() - closed_at))))
        after = rss_mib(proc.pid)
        alive = request("GET", base + "/health/live")[0]
        report = {
            "rss_before_mib": round(before), "rss_peak_mib": round(peak), "rss_after_mib": round(after),
            "after_wait_s": args.after_wait, "connections": args.connections,
            "answers": {f"{p} {s}": n for (p, s), n in sorted(statuses.items())},
            "probes": {f"{p} {s}": n for (p, s), n in sorted(prober.answers.items())},
            "slowest_probe_s": round(prober.slowest, 3), "live_after": alive,
        }
        print(json.dumps(report, indent=2))
        problems = []
        if peak >= args.max_peak_mib:
            problems.append(f"peak RSS {peak:.0f} MiB >= {args.max_peak_mib:.0f}")
        if after >= args.max_after_mib:
            problems.append(f"RSS {after:.0f} MiB {args.after_wait:.0f} s after >= {args.max_after_mib:.0f}")
        if prober.failures() or not prober.answers:
            problems.append(f"{prober.failures()} probes did not answer 200")
        if alive != 200:
            problems.append(f"/health/live answered {alive} after the load")
        if problems:
            sys.exit("slow-bodies FAILED: " + "; ".join(problems))
        print("slow-bodies OK")
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
