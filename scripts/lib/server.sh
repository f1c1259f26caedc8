# Sourced by scripts/schemathesis.sh and scripts/docs-check.sh: starts `plenary serve` on its
# own embedded PostgreSQL (a fresh folder under /tmp), imports data/ and adds one organiser
# through the command line, and stops it (and removes the folder) when the calling script exits.
#
# start_server PORT   sets BASE (http://127.0.0.1:PORT), BIN (the plenary binary), EMAIL,
#                     PASSWORD and TOKEN (a valid access token of that organiser).
# add_organiser EMAIL NAME [--admin]   creates an organiser and prints its password.
# token_for EMAIL PASSWORD             prints an access token.
# api_post PATH TOKEN JSON             POSTs a JSON body; fails unless the answer is 2xx.

SERVER_PID=""
DATA_DIR=""

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
  if [ -n "$DATA_DIR" ]; then
    rm -rf "$DATA_DIR"
  fi
}

start_server() {
  local port="$1"
  BASE="http://127.0.0.1:${port}"
  cargo build --quiet --bin plenary
  BIN="${CARGO_TARGET_DIR:-target}/debug/plenary"
  DATA_DIR="$(mktemp -d /tmp/plenary-live.XXXXXX)"
  trap stop_server EXIT
  export PLENARY_DATA_DIR="$DATA_DIR"
  export BIND_ADDR="127.0.0.1:${port}"
  export PLENARY_JWT_SECRET
  PLENARY_JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
  export RUST_LOG="${RUST_LOG:-error}"
  # The fuzzers hit one server hard on a small CI machine that may be busy with other work:
  # allow longer waits for a database connection than the 2 s default (a 503 would count as a
  # server error). Outage behaviour with the default is covered by the test suite.
  export PLENARY_DB_TIMEOUT_MS="${PLENARY_DB_TIMEOUT_MS:-15000}"

  "$BIN" serve >"$DATA_DIR/serve.log" 2>&1 &
  SERVER_PID=$!
  local ready=""
  for _ in $(seq 1 120); do
    if python3 -c "import urllib.request; urllib.request.urlopen('$BASE/health/ready', timeout=1)" 2>/dev/null; then
      ready=1
      break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      break
    fi
    sleep 0.5
  done
  if [ -z "$ready" ]; then
    cat "$DATA_DIR/serve.log" >&2
    echo "plenary serve did not become ready on $BASE" >&2
    return 1
  fi

  # Through the running server's embedded PostgreSQL.
  "$BIN" import data/*.json
  EMAIL=live-checks@plenary.example
  PASSWORD="$(add_organiser "$EMAIL" "Live checks")"
  TOKEN="$(token_for "$EMAIL" "$PASSWORD")"
}

add_organiser() {
  local password
  password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
  printf '%s\n' "$password" | "$BIN" organiser add --email "$1" --name "$2" ${3:-} >&2
  printf '%s' "$password"
}

token_for() {
  python3 - "$BASE" "$1" "$2" <<'PY'
import json, sys, urllib.request
base, email, password = sys.argv[1:4]
req = urllib.request.Request(
    base + "/api/v1/auth/token",
    data=json.dumps({"email": email, "password": password}).encode(),
    headers={"content-type": "application/json"},
)
print(json.load(urllib.request.urlopen(req))["access_token"])
PY
}

api_post() {
  python3 - "$BASE$1" "$2" "$3" <<'PY'
import sys, urllib.request
url, token, body = sys.argv[1:4]
req = urllib.request.Request(url, data=body.encode(), headers={
    "content-type": "application/json", "authorization": "Bearer " + token})
urllib.request.urlopen(req).read()
PY
}

server_log_tail() {
  if [ -n "$DATA_DIR" ] && [ -f "$DATA_DIR/serve.log" ]; then
    echo "---- server log (last 50 lines)"
    tail -n 50 "$DATA_DIR/serve.log"
  fi
}
