"""A webhook receiver for the API tests: verifies every delivery with the Standard Webhooks
reference library (`standardwebhooks` on PyPI, written by the specification's authors, not by
Plenary) and records what it saw, one JSON object per line.

Usage: webhook_receiver.py DIR. Listens on 127.0.0.1 (a free port, printed on the first line
of stdout) and reads each hook's secret from DIR/<hook>.secret, written by the test once the
webhook is registered. A delivery to /<hook>/<behaviour> is recorded in DIR/records.jsonl as
{"hook", "behaviour", "path", "id", "timestamp", "type", "data", "conference_id",
"delegation_id", "verified", "error",
"answered"} and answered by behaviour:

- ok: 200
- flaky: 500 at the first attempt of a message (by webhook-id), then 200
- redirect: 302 to /<hook>/ok at the first attempt of a message, then 200
- fail: always 500
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

DIR = sys.argv[1]
LOCK = threading.Lock()
SEEN = {}


def secret_of(hook):
    try:
        with open(os.path.join(DIR, hook + ".secret"), encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        hook = parts[0] if parts else ""
        behaviour = parts[1] if len(parts) > 1 else "ok"
        headers = {k: v for k, v in self.headers.items()}
        msg_id = headers.get("webhook-id") or headers.get("Webhook-Id")
        verified, error, payload = False, None, None
        secret = secret_of(hook)
        if secret is None:
            error = "no secret for " + hook
        else:
            try:
                payload = Webhook(secret).verify(body, headers)
                verified = True
            except Exception as e:  # the library's WebhookVerificationError, or bad JSON
                error = "%s: %s" % (type(e).__name__, e)
        if payload is None:
            try:
                payload = json.loads(body)
            except ValueError:
                payload = {}
        with LOCK:
            attempt = SEEN.get(msg_id, 0) + 1
            SEEN[msg_id] = attempt
            if behaviour == "fail" or (behaviour == "flaky" and attempt == 1):
                status = 500
            elif behaviour == "redirect" and attempt == 1:
                status = 302
            else:
                status = 200
            record = {
                "hook": hook,
                "behaviour": behaviour,
                "method": self.command,
                "path": self.path,
                "id": msg_id,
                "timestamp": headers.get("webhook-timestamp") or headers.get("Webhook-Timestamp"),
                "type": payload.get("type") if isinstance(payload, dict) else None,
                "data": payload.get("data") if isinstance(payload, dict) else None,
                "conference_id": payload.get("conference_id") if isinstance(payload, dict) else None,
                "delegation_id": payload.get("delegation_id") if isinstance(payload, dict) else None,
                "verified": verified,
                "error": error,
                "answered": status,
            }
            with open(os.path.join(DIR, "records.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
                f.flush()
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/%s/ok" % hook)
        out = b"receiver says %d" % status
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_POST = handle_any
    do_GET = handle_any
    do_PUT = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
