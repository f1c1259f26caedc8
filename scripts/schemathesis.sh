#!/usr/bin/env bash
# Property-based contract testing: schemathesis (PyPI, in a virtualenv) sends generated valid
# and invalid requests to every operation of api-spec/openapi.yaml (the file the server
# compiles in and serves; read from disk so that GET /api-spec/openapi.yaml is tested too),
# with a valid organiser's token, and checks every answer against the spec. Fixed seed and bounded
# examples: the same run every time. Exits non-zero on any failure.
#
# The server is `plenary serve` on its own embedded PostgreSQL with data/ imported and one
# organiser created by `plenary organiser add` (scripts/lib/server.sh).
#
# Settings (environment): SCHEMATHESIS_PORT (18380), SCHEMATHESIS_SEED (20250917),
# SCHEMATHESIS_MAX_EXAMPLES (100, per operation and phase), VENV (.venv-ci).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${SCHEMATHESIS_PORT:-18380}"
SEED="${SCHEMATHESIS_SEED:-20250917}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
VENV="${VENV:-.venv-ci}"
VERSION=4.32.5

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "installing schemathesis $VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
start_server "$PORT"

# The organiser also owns the Lianyungang conference (granted by an admin), so that the spec's
# examples, which use its id, get past the permission checks; and the account that the
# organiser-add example names exists.
ADMIN_PASSWORD="$(add_organiser admin@plenary.example Admin --admin)"
add_organiser editor@example.org "Second Organiser" >/dev/null
api_post /api/v1/conferences/019954f8-9000-7a00-8000-17a9f0c0e000/organisers \
  "$(token_for admin@plenary.example "$ADMIN_PASSWORD")" \
  "{\"email\": \"$EMAIL\", \"role\": \"owner\"}"

echo "== schemathesis $VERSION on $BASE: seed $SEED, at most $MAX_EXAMPLES examples per operation"
set +e
"$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run api-spec/openapi.yaml \
  --url "$BASE" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --mode all \
  --phases examples,coverage,fuzzing,stateful \
  --seed "$SEED" \
  --max-examples "$MAX_EXAMPLES" \
  --workers 1 \
  --generation-database none \
  --request-timeout 60 \
  --no-color
STATUS=$?
set -e
if [ "$STATUS" -ne 0 ]; then
  server_log_tail
fi
exit "$STATUS"
