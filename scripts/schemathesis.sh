#!/usr/bin/env bash
# Property-based contract testing: schemathesis (PyPI, in a virtualenv) sends generated valid
# and invalid requests to every operation of the spec the server itself serves, with a valid
# organiser's token, and checks each answer against the spec. Fixed seed and bounded examples:
# the same run every time. Exits non-zero on any failure.
#
# The server is `plenary serve` on its own embedded PostgreSQL (a fresh folder under /tmp),
# loaded with data/ (`plenary import`) and one organiser (`plenary organiser add`).
#
# Settings (environment): SCHEMATHESIS_PORT (18380), SCHEMATHESIS_SEED (20250917),
# SCHEMATHESIS_MAX_EXAMPLES (40, per operation and phase), VENV (.venv-ci).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${SCHEMATHESIS_PORT:-18380}"
SEED="${SCHEMATHESIS_SEED:-20250917}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-40}"
VENV="${VENV:-.venv-ci}"
VERSION=4.32.5
BASE="http://127.0.0.1:${PORT}"

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "installing schemathesis $VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

cargo build --quiet --bin plenary
BIN=target/debug/plenary

DATA_DIR="$(mktemp -d /tmp/plenary-schemathesis.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$DATA_DIR"
}
trap cleanup EXIT

export PLENARY_DATA_DIR="$DATA_DIR"
export BIND_ADDR="127.0.0.1:${PORT}"
export PLENARY_JWT_SECRET
PLENARY_JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
export RUST_LOG="${RUST_LOG:-warn}"
PASSWORD="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
EMAIL=schemathesis@plenary.example

"$BIN" import data/*.json
printf '%s\n' "$PASSWORD" | "$BIN" organiser add --email "$EMAIL" --name "Schemathesis"

"$BIN" serve >"$DATA_DIR/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('$BASE/health/ready', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    cat "$DATA_DIR/serve.log"
    echo "plenary serve exited" >&2
    exit 1
  fi
  sleep 0.5
done

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

echo "== schemathesis $VERSION: seed $SEED, at most $MAX_EXAMPLES examples per operation"
set +e
"$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run "$BASE/api-spec/openapi.yaml" \
  --url "$BASE" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --mode all \
  --phases examples,coverage,fuzzing,stateful \
  --seed "$SEED" \
  --max-examples "$MAX_EXAMPLES" \
  --workers 1 \
  --generation-database none \
  --request-timeout 10 \
  --no-color
STATUS=$?
set -e
if [ "$STATUS" -ne 0 ]; then
  echo "---- server log (last 50 lines)"
  tail -n 50 "$DATA_DIR/serve.log"
fi
exit "$STATUS"
