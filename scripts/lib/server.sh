# Sourced by scripts/schemathesis.sh and scripts/docs-check.sh: starts `plenary serve` on its
# own embedded PostgreSQL (a fresh folder under /tmp), imports data/ and adds one organiser
# through the command line, and stops it (and removes the folder) when the calling script exits.
#
# start_server PORT   sets BASE (http://127.0.0.1:PORT), EMAIL, PASSWORD and TOKEN (a valid
#                     access token of that organiser).

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
  local bin="${CARGO_TARGET_DIR:-target}/debug/plenary"
  DATA_DIR="$(mktemp -d /tmp/plenary-live.XXXXXX)"
  trap stop_server EXIT
  export PLENARY_DATA_DIR="$DATA_DIR"
  export BIND_ADDR="127.0.0.1:${port}"
  export PLENARY_JWT_SECRET
  PLENARY_JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
  export RUST_LOG="${RUST_LOG:-error}"
  EMAIL=live-checks@plenary.example
  PASSWORD="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"

  "$bin" serve >"$DATA_DIR/serve.log" 2>&1 &
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
  "$bin" import data/*.json
  printf '%s\n' "$PASSWORD" | "$bin" organiser add --email "$EMAIL" --name "Live checks"

  TOKEN="$(python3 - "$BASE" "$EMAIL" "$PASSWORD" <<'EOF'
import json, sys, urllib.request
base, email, password = sys.argv[1:4]
req = urllib.request.Request(
    base + "/api/v1/auth/token",
    data=json.dumps({"email": email, "password": password}).encode(),
    headers={"content-type": "application/json"},
)
print(json.load(urllib.request.urlopen(req))["access_token"])
EOF
)"
}

server_log_tail() {
  if [ -n "$DATA_DIR" ] && [ -f "$DATA_DIR/serve.log" ]; then
    echo "---- server log (last 50 lines)"
    tail -n 50 "$DATA_DIR/serve.log"
  fi
}
