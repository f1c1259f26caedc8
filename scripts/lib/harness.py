"""What the cluster-driving scripts (fault.py, scaleout.py) share: where the PostgreSQL server
binaries are, a free TCP port on loopback, and a JSON request to Plenary. Standard library
only."""
import glob, json, os, socket, subprocess, sys
import urllib.error, urllib.request


def pg_bindir():
    """The folder of initdb, pg_ctl and friends: pg_config's, else the newest
    /usr/lib/postgresql/*/bin. Exits when there is none."""
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if os.path.exists(os.path.join(out, "initdb")):
            return out
    except Exception:
        pass
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    if not dirs:
        sys.exit("PostgreSQL server binaries not found")
    return dirs[-1]


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, body=None, token=None, key=None, timeout=5, failpoint=None, headers=None,
            raw=False):
    """(status, JSON body) of one request: `body` sent as JSON, `token` as a bearer token, `key`
    as the Idempotency-Key, `failpoint` as Plenary-Failpoint (debug builds); with `headers` (a
    dict), the response's headers (names in lower case) are put in it; with `raw`, the body's
    bytes instead of its JSON (pages, files)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    if key:
        req.add_header("idempotency-key", key)
    if failpoint:
        req.add_header("plenary-failpoint", failpoint)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            if headers is not None:
                headers.update({k.lower(): v for k, v in r.headers.items()})
            payload = r.read()
            return r.status, payload if raw else json.loads(payload or b"null")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"null")
        except Exception:
            return e.code, None
