#!/usr/bin/env bash
# Browser check of /docs: headless Debian Chromium (installed with apt-get when missing) opens
# the interactive API page of a live server; it must load with no failed request and no
# request leaving the server, and list every operation of the spec (scripts/docs-check/).
# Then CORS: one page (scripts/docs-check/cors-page/) served from two other origins (Python's
# http.server on two other ports). The server starts with PLENARY_CORS_ORIGINS listing the
# second one only. Both pages must read the Lianyungang attendance with fetch; with the same
# valid bearer token, the page on the listed origin must create an organisation, and the
# browser must block the write of the page on the other origin (which creates nothing).
#
# Settings (environment): DOCS_CHECK_PORT (18381), DOCS_CHECK_PAGE_PORT (18382, the origin
# that may not write), DOCS_CHECK_ALLOWED_PAGE_PORT (18383, the origin listed in
# PLENARY_CORS_ORIGINS), DOCS_SCREENSHOT (target/docs-check/docs.png), CHROMIUM
# (/usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${DOCS_CHECK_PORT:-18381}"
PAGE_PORT="${DOCS_CHECK_PAGE_PORT:-18382}"
ALLOWED_PAGE_PORT="${DOCS_CHECK_ALLOWED_PAGE_PORT:-18383}"
SCREENSHOT="${DOCS_SCREENSHOT:-target/docs-check/docs.png}"

# shellcheck source=scripts/lib/chromium.sh
. scripts/lib/chromium.sh
ensure_chromium

# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
# The secretariat's own site, the one origin whose pages may write (the server reads it at start).
export PLENARY_CORS_ORIGINS="http://127.0.0.1:${ALLOWED_PAGE_PORT}"
start_server "$PORT"
# The page's bearer token: the live-check organiser's (start_server).
export CORS_TOKEN="$TOKEN"

# The other origins: the same static page on two other ports, stopped with the server.
python3 -m http.server "$PAGE_PORT" --bind 127.0.0.1 \
  --directory scripts/docs-check/cors-page >/dev/null 2>&1 &
PAGE_PID=$!
python3 -m http.server "$ALLOWED_PAGE_PORT" --bind 127.0.0.1 \
  --directory scripts/docs-check/cors-page >/dev/null 2>&1 &
ALLOWED_PAGE_PID=$!
trap 'kill "$PAGE_PID" "$ALLOWED_PAGE_PID" 2>/dev/null || true; stop_server' EXIT
export CORS_PAGE="http://127.0.0.1:${PAGE_PORT}/index.html"
export CORS_ALLOWED_PAGE="http://127.0.0.1:${ALLOWED_PAGE_PORT}/index.html"
for page in "$CORS_PAGE" "$CORS_ALLOWED_PAGE"; do
  for _ in $(seq 1 40); do
    python3 -c "import urllib.request; urllib.request.urlopen('$page', timeout=1)" 2>/dev/null && break
    sleep 0.25
  done
done

mkdir -p "$(dirname "$SCREENSHOT")"
if ! node scripts/docs-check/check.mjs "$BASE" "$SCREENSHOT"; then
  server_log_tail
  exit 1
fi
