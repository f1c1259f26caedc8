#!/usr/bin/env bash
# Generated clients: the Python client that openapi-python-client (PyPI, pinned, in its own
# virtualenv under target/) generates from api-spec/openapi.yaml with its DEFAULT settings must
# come out whole (every warning fails but the two kept on purpose:
# scripts/client-check/generator_warnings.py), and a short workflow through it against a live
# server must pass (scripts/client-check/workflow.py: a conference, a delegation with role and
# head, a member, the letter of credentials uploaded and downloaded, errors read as `Problem`).
# Then the same flow in TypeScript: openapi-typescript's types of the spec, openapi-fetch, and
# `tsc --noEmit` (npm, pinned, under target/), run with Node's type stripping.
#
# The server is `plenary serve` on its own embedded PostgreSQL with data/ imported and one
# organiser (scripts/lib/server.sh).
#
# Settings (environment): CLIENT_CHECK_PORT (18384), CLIENT_CHECK_DIR (target/client-check).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

PORT="${CLIENT_CHECK_PORT:-18384}"
DIR="${CLIENT_CHECK_DIR:-target/client-check}"
GENERATOR_VERSION=0.29.1
VENV="$DIR/openapi-python-client-$GENERATOR_VERSION"

if ! "$VENV/bin/openapi-python-client" --version 2>/dev/null | grep -q "$GENERATOR_VERSION"; then
  echo "installing openapi-python-client $GENERATOR_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "openapi-python-client==$GENERATOR_VERSION"
fi

echo "== openapi-python-client $GENERATOR_VERSION generate (default settings)"
OUT="$DIR/python"
rm -rf "$OUT"
mkdir -p "$OUT"
set +e
(cd "$OUT" && "$ROOT/$VENV/bin/openapi-python-client" generate --path "$ROOT/api-spec/openapi.yaml") \
  >"$OUT/generate.log" 2>&1
GENERATED=$?
set -e
if [ "$GENERATED" -ne 0 ]; then
  cat "$OUT/generate.log"
  echo "openapi-python-client generate exited with $GENERATED" >&2
  exit 1
fi
if ! python3 scripts/client-check/generator_warnings.py "$OUT/generate.log"; then
  cat "$OUT/generate.log"
  exit 1
fi

# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
start_server "$PORT"

echo "== a workflow through the generated Python client"
# The generated package needs httpx and attrs, which the generator's virtualenv has.
if ! PYTHONPATH="$OUT/plenary-client" "$VENV/bin/python" scripts/client-check/workflow.py "$BASE" "$TOKEN"; then
  server_log_tail
  exit 1
fi

echo "== the same flow in TypeScript: openapi-typescript, openapi-fetch, tsc --noEmit (strict)"
TS="$DIR/typescript"
mkdir -p "$TS"
cp scripts/client-check/ts/package.json scripts/client-check/ts/tsconfig.json \
  scripts/client-check/ts/generate-types.mjs scripts/client-check/ts/workflow.ts "$TS/"
if ! cmp -s scripts/client-check/ts/package.json "$TS/node_modules/.installed-package.json"; then
  echo "installing the pinned packages of scripts/client-check/ts/package.json into $TS"
  npm install --prefix "$TS" --no-audit --no-fund --loglevel=error
  cp scripts/client-check/ts/package.json "$TS/node_modules/.installed-package.json"
fi
node "$TS/generate-types.mjs" api-spec/openapi.yaml "$TS/schema.d.ts"
"$TS/node_modules/.bin/tsc" -p "$TS" --noEmit
echo "tsc: the TypeScript workflow type-checks against the generated types"
rm -rf "$TS/out"
"$TS/node_modules/.bin/tsc" -p "$TS"
python3 scripts/minimal_pdf.py >"$TS/credentials.pdf"
if ! node "$TS/out/workflow.js" "$BASE" "$TOKEN" "$TS/credentials.pdf"; then
  server_log_tail
  exit 1
fi
