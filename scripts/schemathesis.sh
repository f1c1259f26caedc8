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
# A second, shorter run fuzzes what a focal point may do (the operations of API.md's
# "Accreditation" list) with a focal point's token, its conference and delegation fixed
# (scripts/schemathesis-focal-point.toml), so that those paths get past the permission
# checks too.
#
# Settings (environment): SCHEMATHESIS_PORT (18380), SCHEMATHESIS_SEED (20250917),
# SCHEMATHESIS_MAX_EXAMPLES (100, per operation and phase), SCHEMATHESIS_FOCAL_EXAMPLES (30),
# VENV (.venv-ci).
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

# The letter of credentials is sent as application/pdf: schemathesis learns how from
# scripts/schemathesis_hooks.py.
export PYTHONPATH="scripts${PYTHONPATH:+:$PYTHONPATH}"
export SCHEMATHESIS_HOOKS=schemathesis_hooks

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

echo "== schemathesis $VERSION on $BASE: seed $SEED, at most $MAX_EXAMPLES examples per operation"
# The focal point of the first Lianyungang delegation (invited by the admin, accepted through
# the API), with one nomination of its own for the member operations.
ADMIN_TOKEN="$(token_for admin@plenary.example "$ADMIN_PASSWORD")"
eval "$(python3 - "$BASE" "$ADMIN_TOKEN" <<'PY'
import json, sys, urllib.request
base, admin = sys.argv[1:3]
conference = "019954f8-9000-7a00-8000-17a9f0c0e000"
def call(method, path, token=None, body=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    return json.load(urllib.request.urlopen(req))
delegation = call("GET", f"/api/v1/conferences/{conference}/delegations?limit=1")["items"][0]["id"]
invited = call("POST", f"/api/v1/conferences/{conference}/delegations/{delegation}/focal-points",
               admin, {"email": "focal.point@plenary.example", "name": "Focal Point"})
token = call("POST", "/api/v1/auth/invitations/accept", None,
             {"code": invited["invitation_code"], "password": "focal point's passphrase"})["access_token"]
member = call("POST", f"/api/v1/conferences/{conference}/delegations/{delegation}/members",
              token, {"full_name": "Nominee of the Focal Point"})["id"]
print(f"export FP_TOKEN={token} FP_CONFERENCE={conference} FP_DELEGATION={delegation} FP_MEMBER={member}")
PY
)"
echo "focal point of delegation $FP_DELEGATION (conference $FP_CONFERENCE), nomination $FP_MEMBER"

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
echo "== schemathesis as a focal point: its conference, delegation and nominations"
"$VENV/bin/schemathesis" --config-file scripts/schemathesis-focal-point.toml run api-spec/openapi.yaml \
  --url "$BASE" \
  --header "Authorization: Bearer $FP_TOKEN" \
  --include-operation-id getMe --include-operation-id getConference \
  --include-operation-id getDelegation --include-operation-id updateDelegation \
  --include-operation-id listMembers --include-operation-id createMember \
  --include-operation-id updateMember --include-operation-id deleteMember \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --mode all \
  --phases examples,coverage,fuzzing \
  --seed "$SEED" \
  --max-examples "${SCHEMATHESIS_FOCAL_EXAMPLES:-30}" \
  --workers 1 \
  --generation-database none \
  --request-timeout 60 \
  --no-color
FOCAL_STATUS=$?
if [ "$STATUS" -eq 0 ]; then
  STATUS=$FOCAL_STATUS
fi
set -e
if [ "$STATUS" -ne 0 ]; then
  server_log_tail
fi
exit "$STATUS"
