#!/usr/bin/env bash
# Property-based contract testing: schemathesis (PyPI, in a virtualenv) sends generated valid
# and invalid requests to every operation of api-spec/openapi.yaml (the file the server
# compiles in and serves; read from disk so that GET /api-spec/openapi.yaml is tested too),
# with a valid organiser's token, and checks every answer against the spec. Fixed seed and bounded
# examples: the same run every time. Exits non-zero on any failure.
#
# The server is `plenary serve` on its own embedded PostgreSQL with data/ imported and one
# organiser created by `plenary organiser add` (scripts/lib/server.sh). Before fuzzing, the
# script creates that organiser's own data through the API (scripts/schemathesis_fixtures.py):
# every operation with a path id is pointed at a resource of this run (scripts/schemathesis.toml),
# so generated requests reach the handlers instead of stopping at 404.
#
# Three runs, each with a JSON report in .schemathesis/reports/ and summed up at the end
# (scripts/schemathesis_report.py: per operation, the positive cases answered 2xx):
# 1. as the organiser: examples, coverage and fuzzing of every operation;
# 2. as a focal point (the operations of API.md's "Accreditation" list), with its
#    conference, delegation and nomination fixed (scripts/schemathesis-focal-point.toml), so
#    that those paths get past the permission checks too;
# 3. as the organiser: stateful chains of linked calls, the ids taken from responses through
#    the spec's `links` (scripts/schemathesis-stateful.toml).
#
# Settings (environment): SCHEMATHESIS_PORT (18380), SCHEMATHESIS_SEED (20250917),
# SCHEMATHESIS_MAX_EXAMPLES (100, per operation and phase), SCHEMATHESIS_FOCAL_EXAMPLES (30),
# SCHEMATHESIS_STATEFUL_EXAMPLES (as SCHEMATHESIS_MAX_EXAMPLES), SCHEMATHESIS_REPORTS
# (.schemathesis/reports), VENV (.venv-ci).
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

# scripts/schemathesis_hooks.py: how to send the letter of credentials (application/pdf), and
# one Idempotency-Key per request.
export PYTHONPATH="scripts${PYTHONPATH:+:$PYTHONPATH}"
export SCHEMATHESIS_HOOKS=schemathesis_hooks

# The fuzzer logs in far more often than a person: its wrong passwords (hundreds, from one
# address) must not lock the example account out, or every login after the first 30 would be
# 429 and the handler never reached again. The limits are the test suite's to check.
export PLENARY_LOGIN_MAX_PER_ADDRESS=1000000 PLENARY_LOGIN_MAX_PER_EMAIL=1000000 \
  PLENARY_LOGIN_MAX_PER_EMAIL_TOTAL=1000000

# The fixtures accept invitations with codes from the invitation's answer, as a secretariat
# that delivers codes itself would (the default sends them only by e-mail).
export PLENARY_INVITATION_CODES_IN_RESPONSE=true

# Webhooks registered by the fixtures and the fuzzer point at this machine (the discard port):
# allowed here, refused by default.
export PLENARY_WEBHOOK_ALLOW_PRIVATE=true

# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
start_server "$PORT"

# The organiser also owns the Lianyungang conference (granted by an admin), so that the spec's
# examples, which use its id, get past the permission checks; and the account that the
# organiser-add example names exists.
ADMIN_PASSWORD="$(add_organiser admin@plenary.example Admin --admin)"
add_organiser editor@example.org "Second Organiser" >/dev/null
# The account of POST /auth/token's example, with the example's password, so that the
# login's examples get past 401.
printf '%s\n' 'correct horse battery staple' |
  "$BIN" organiser add --email organiser@example.org --name "Example Organiser" >&2
api_post /api/v1/conferences/019954f8-9000-7a00-8000-17a9f0c0e000/organisers \
  "$(token_for admin@plenary.example "$ADMIN_PASSWORD")" \
  "{\"email\": \"$EMAIL\", \"role\": \"owner\"}"

# The fuzzed server's own data: every operation with a path id is pointed at a resource the
# run creates here (scripts/schemathesis_fixtures.py prints the ids and writes the throw-away
# ones as dictionaries for scripts/schemathesis.toml).
FIXTURES=.schemathesis/fixtures
rm -rf "$FIXTURES"
eval "$(python3 scripts/schemathesis_fixtures.py "$BASE" "$TOKEN" "$FIXTURES")"
export FZ_CONFERENCE FZ_CONFERENCE_PATCHED FZ_SESSION_CONFERENCE FZ_DELEGATION FZ_MEMBER \
  FZ_SESSION FZ_EDITION FZ_ORGANISATION FP_TOKEN FP_CONFERENCE FP_DELEGATION FP_MEMBER \
  FZ_WEBHOOK FZ_MESSAGE

echo "focal point of delegation $FP_DELEGATION (conference $FP_CONFERENCE), nomination $FP_MEMBER"

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
REPORTS="${SCHEMATHESIS_REPORTS:-.schemathesis/reports}"
mkdir -p "$REPORTS"
run() { # NAME ARGS...: one schemathesis run, its JSON report in $REPORTS/NAME.json
  local name="$1"
  shift
  "$VENV/bin/schemathesis" "$@" \
    --url "$BASE" \
    --checks "$CHECKS" \
    --mode all \
    --seed "$SEED" \
    --workers 1 \
    --generation-database none \
    --request-timeout 60 \
    --report json --report-json-path "$REPORTS/$name.json" \
    --no-color
}

set +e
echo "== schemathesis $VERSION on $BASE: seed $SEED, at most $MAX_EXAMPLES examples per operation"
echo "== 1. as an organiser, every path id one the run created (examples, coverage, fuzzing)"
run organiser --config-file scripts/schemathesis.toml run api-spec/openapi.yaml \
  --header "Authorization: Bearer $TOKEN" \
  --phases examples,coverage,fuzzing \
  --max-examples "$MAX_EXAMPLES"
STATUS=$?
echo "== 2. as a focal point: its conference, delegation and nominations"
run focal-point --config-file scripts/schemathesis-focal-point.toml run api-spec/openapi.yaml \
  --header "Authorization: Bearer $FP_TOKEN" \
  --include-operation-id getMe --include-operation-id getConference \
  --include-operation-id getDelegation --include-operation-id updateDelegation \
  --include-operation-id listMembers --include-operation-id createMember \
  --include-operation-id updateMember --include-operation-id deleteMember \
  --include-operation-id getCredentials --include-operation-id submitCredentials \
  --include-operation-id getCredentialsDocument \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_FOCAL_EXAMPLES:-30}"
FOCAL_STATUS=$?
# Not sessions.ics: a generated conference may span thousands of years, whose VTIMEZONE takes
# the server minutes (src/export/calendar.rs scans every year in three-hour steps).
echo "== 3. as an organiser, chains of linked calls (stateful: ids from the links' responses)"
run stateful --config-file scripts/schemathesis-stateful.toml run api-spec/openapi.yaml \
  --header "Authorization: Bearer $TOKEN" \
  --phases stateful \
  --exclude-operation-id exportSessionsIcs \
  --max-examples "${SCHEMATHESIS_STATEFUL_EXAMPLES:-$MAX_EXAMPLES}"
STATEFUL_STATUS=$?
set -e
for s in "$STATEFUL_STATUS" "$FOCAL_STATUS"; do
  if [ "$STATUS" -eq 0 ]; then
    STATUS=$s
  fi
done
echo "== positive cases the server accepted (2xx), per operation and phase"
python3 scripts/schemathesis_report.py "$REPORTS"/organiser.json "$REPORTS"/stateful.json \
  "$REPORTS"/focal-point.json || true
if [ "$STATUS" -ne 0 ]; then
  server_log_tail
fi
exit "$STATUS"
