#!/usr/bin/env bash
# Browser check of /docs: headless Debian Chromium (installed with apt-get when missing) opens
# the interactive API page of a live server; it must load with no failed request and no
# request leaving the server, and list every operation of the spec (scripts/docs-check/).
#
# Settings (environment): DOCS_CHECK_PORT (18381), DOCS_SCREENSHOT
# (target/docs-check/docs.png), CHROMIUM (/usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${DOCS_CHECK_PORT:-18381}"
SCREENSHOT="${DOCS_SCREENSHOT:-target/docs-check/docs.png}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
  echo "installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d scripts/docs-check/node_modules/playwright-core ]; then
  (cd scripts/docs-check && npm ci --no-audit --no-fund --loglevel=error)
fi

# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
start_server "$PORT"

mkdir -p "$(dirname "$SCREENSHOT")"
if ! node scripts/docs-check/check.mjs "$BASE" "$SCREENSHOT"; then
  server_log_tail
  exit 1
fi
