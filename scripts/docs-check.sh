#!/usr/bin/env bash
# Browser check of /docs: headless Debian Chromium (installed with apt-get when missing) opens
# the interactive API page of a live server; it must load with no failed request and no
# request leaving the server, and list every operation of the spec (scripts/docs-check/).
# Then CORS: a page served from another origin (Python's http.server on another port,
# scripts/docs-check/cors-page/) must read the Lianyungang attendance with fetch, and its
# cross-origin write must be blocked by the browser.
#
# Settings (environment): DOCS_CHECK_PORT (18381), DOCS_CHECK_PAGE_PORT (18382),
# DOCS_SCREENSHOT (target/docs-check/docs.png), CHROMIUM (/usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${DOCS_CHECK_PORT:-18381}"
PAGE_PORT="${DOCS_CHECK_PAGE_PORT:-18382}"
SCREENSHOT="${DOCS_SCREENSHOT:-target/docs-check/docs.png}"

# shellcheck source=scripts/lib/chromium.sh
. scripts/lib/chromium.sh
ensure_chromium

# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
start_server "$PORT"

# The other origin: a static page on another port, stopped with the server.
python3 -m http.server "$PAGE_PORT" --bind 127.0.0.1 \
  --directory scripts/docs-check/cors-page >/dev/null 2>&1 &
PAGE_PID=$!
trap 'kill "$PAGE_PID" 2>/dev/null || true; stop_server' EXIT
export CORS_PAGE="http://127.0.0.1:${PAGE_PORT}/index.html"
for _ in $(seq 1 40); do
  python3 -c "import urllib.request; urllib.request.urlopen('$CORS_PAGE', timeout=1)" 2>/dev/null && break
  sleep 0.25
done

mkdir -p "$(dirname "$SCREENSHOT")"
if ! node scripts/docs-check/check.mjs "$BASE" "$SCREENSHOT"; then
  server_log_tail
  exit 1
fi
