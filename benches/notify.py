#!/usr/bin/env python3
"""The sender's throughput, for benches/run.sh --focus notify. Prints one JSON line
(`"kind": "notify"`) for benches/report.py.

  notify.py sql LABEL N -- PSQL...
      queues N e-mails by inserting outbox rows directly (due in an hour), makes them due at
      once, and times until every one is `sent`: the sender alone.
  notify.py api LABEL N BASE TOKEN -- PSQL...
      queues N invitations through the API (POST .../focal-points, 8 at a time, on a
      conference and delegation made for it) and times until every one is `sent`: writes and
      sender together, as in use.

  notify.py webhooks LABEL N HOOKS BASE TOKEN -- PSQL...
      registers HOOKS webhooks (every event) of a conference made for it, pointing at a receiver
      this script runs (HTTP on loopback, 204 to every delivery, counting them), queues N
      deliveries spread over them as outbox rows (in commit order per webhook), makes them
      due at once and times until every one is `sent`: the sender alone, one delivery in
      flight per webhook (deliveries of one webhook leave in order). The server must run with
      PLENARY_WEBHOOK_ALLOW_PRIVATE=true.

PSQL is the command that runs SQL on the benchmark database (`-At -c SQL` is appended).
Standard library only.
"""
import json, subprocess, sys, threading, time, urllib.error, urllib.request


def sql(psql, statement):
    r = subprocess.run(psql + ["-At", "-c", statement], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"psql: {r.stderr}")
    return r.stdout.strip()


def wait_sent(psql, domain, n, timeout=600):
    """Seconds (from now) until the N e-mails to `domain` are no longer pending; (sent, failed)."""
    t0 = time.time()
    while True:
        out = sql(psql, "SELECT count(*) FILTER (WHERE status = 'sent'), "
                        "count(*) FILTER (WHERE status = 'failed'), max(attempts) "
                        f"FROM outbox WHERE recipient LIKE '%@{domain}'")
        sent, failed, attempts = (int(x or 0) for x in out.split("|"))
        if sent + failed >= n or time.time() - t0 > timeout:
            return time.time() - t0, sent, failed, attempts
        time.sleep(0.05)


def post(base, path, body, token):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json",
                                          "authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def by_sql(label, n, psql):
    domain = f"{label}.bench"
    sql(psql, "INSERT INTO outbox (id, channel, kind, recipient, recipient_name, subject, payload, "
              "next_attempt_at) SELECT plenary_uuid_v7(), 'email', 'password_reset', "
              f"'user' || g || '@{domain}', 'Người dùng ' || g, 'Reset your Plenary password', "
              "jsonb_build_object('code', md5(g::text), 'expires_at', '2030-01-01 00:00', "
              "'recipient_name', 'Người dùng ' || g), now() + interval '1 hour' "
              f"FROM generate_series(1, {n}) AS g")
    time.sleep(1)
    t0 = time.time()
    sql(psql, f"UPDATE outbox SET next_attempt_at = now() WHERE recipient LIKE '%@{domain}'")
    _, sent, failed, attempts = wait_sent(psql, domain, n)
    secs = time.time() - t0
    return {"kind": "notify", "scenario": label, "queued_by": "sql", "messages": n, "sent": sent,
            "failed": failed, "max_attempts": attempts, "seconds": round(secs, 2),
            "per_second": round(sent / secs, 1)}


def by_api(label, n, base, token, psql):
    domain = f"{label}.bench"
    s, c = post(base, "/api/v1/conferences", {
        "title": "Notification benchmark", "status": "draft", "start_date": "2027-05-01",
        "end_date": "2027-05-02", "time_zone": "Asia/Bangkok",
        "venue": {"city": "Vientiane", "country": "LA"}}, token)
    if s != 201:
        sys.exit(f"conference: {s}")
    s, d = post(base, f"/api/v1/conferences/{c['id']}/delegations", {"country": "LA"}, token)
    if s != 201:
        sys.exit(f"delegation: {s}")
    path = f"/api/v1/conferences/{c['id']}/delegations/{d['id']}/focal-points"
    statuses = {}
    lock = threading.Lock()
    todo = list(range(n))

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            st, _ = post(base, path, {"email": f"fp{i}@{domain}", "name": f"Phạm Văn {i}"}, token)
            with lock:
                statuses[st] = statuses.get(st, 0) + 1

    t0 = time.time()
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    written = time.time() - t0
    _, sent, failed, attempts = wait_sent(psql, domain, statuses.get(201, 0))
    secs = time.time() - t0
    return {"kind": "notify", "scenario": label, "queued_by": "api", "messages": n, "sent": sent,
            "failed": failed, "max_attempts": attempts, "statuses": statuses,
            "write_seconds": round(written, 2), "created_per_second": round(statuses.get(201, 0) / written, 1),
            "seconds": round(secs, 2), "per_second": round(sent / secs, 1)}


def by_webhooks(label, n, hooks, base, token, psql):
    import http.server
    received = {"n": 0}
    lock = threading.Lock()

    class Receiver(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            with lock:
                received["n"] += 1
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    s, c = post(base, "/api/v1/conferences", {
        "title": "Webhook benchmark", "status": "draft", "start_date": "2027-05-01",
        "end_date": "2027-05-02", "time_zone": "Asia/Bangkok",
        "venue": {"city": "Vientiane", "country": "LA"}}, token)
    if s != 201:
        sys.exit(f"conference: {s}")
    ids = []
    for i in range(hooks):
        s, h = post(base, f"/api/v1/conferences/{c['id']}/webhooks",
                    {"url": f"http://127.0.0.1:{port}/{label}/{i}", "events": ["*"]}, token)
        if s != 201:
            sys.exit(f"webhook: {s} (is PLENARY_WEBHOOK_ALLOW_PRIVATE=true?)")
        ids.append(h["id"])
    listed = ",".join(f"'{i}'" for i in ids)
    sql(psql, "INSERT INTO outbox (id, channel, kind, conference_id, webhook_id, recipient, payload, "
              "revision, next_attempt_at) SELECT plenary_uuid_v7(), 'webhook', 'member.created', "
              f"'{c['id']}', w.id, w.url, jsonb_build_object('type', 'member.created', 'timestamp', "
              "now(), 'conference_id', w.conference_id, 'delegation_id', null, 'data', "
              "jsonb_build_object('n', g)), g, now() + interval '1 hour' "
              f"FROM generate_series(1, {n}) AS g JOIN (SELECT id, url, conference_id, "
              f"row_number() OVER (ORDER BY id) - 1 AS k FROM webhooks WHERE id IN ({listed})) AS w "
              f"ON w.k = g % {hooks}")
    time.sleep(1)
    t0 = time.time()
    sql(psql, f"UPDATE outbox SET next_attempt_at = now() WHERE webhook_id IN ({listed})")
    while True:
        out = sql(psql, "SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER "
                        f"(WHERE status = 'failed'), max(attempts) FROM outbox WHERE webhook_id IN ({listed})")
        sent, failed, attempts = (int(x or 0) for x in out.split("|"))
        if sent + failed >= n or time.time() - t0 > 600:
            break
        time.sleep(0.05)
    secs = time.time() - t0
    server.shutdown()
    return {"kind": "notify", "scenario": label, "queued_by": f"sql, {hooks} webhooks",
            "messages": n, "sent": sent, "failed": failed, "max_attempts": attempts,
            "received": received["n"], "seconds": round(secs, 2), "per_second": round(sent / secs, 1)}


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    head, psql = args[:sep], args[sep + 1:]
    if head[0] == "sql":
        print(json.dumps(by_sql(head[1], int(head[2]), psql)))
    elif head[0] == "webhooks":
        print(json.dumps(by_webhooks(head[1], int(head[2]), int(head[3]), head[4], head[5], psql)))
    elif head[0] == "api":
        print(json.dumps(by_api(head[1], int(head[2]), head[3], head[4], psql)))
    else:
        sys.exit(f"unknown command {head[0]}")


if __name__ == "__main__":
    main()
