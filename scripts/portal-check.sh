#!/usr/bin/env bash
# Browser check of the focal points' portal (/portal/): a live server sending its e-mail to a
# real SMTP server (aiosmtpd, messages kept in a maildir), and headless Debian Chromium
# (scripts/lib/chromium.sh) walking the accreditation cycle as a focal point
# (scripts/docs-check/portal.mjs), with axe-core on every page. Screenshots of the pages go to
# api-spec/portal-*.png (kept in the repository).
#
# Settings (environment): PORTAL_CHECK_PORT (18386), PORTAL_SMTP_PORT (18387),
# PORTAL_SCREENSHOTS (api-spec), CHROMIUM (/usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORTAL_CHECK_PORT:-18386}"
SMTP_PORT="${PORTAL_SMTP_PORT:-18387}"
SHOTS="${PORTAL_SCREENSHOTS:-api-spec}"

# shellcheck source=scripts/lib/chromium.sh
. scripts/lib/chromium.sh
ensure_chromium
if [ ! -f scripts/docs-check/node_modules/axe-core/axe.min.js ]; then
  (cd scripts/docs-check && npm ci --no-audit --no-fund --loglevel=error)
fi

PYTHON=.venv-ci/bin/python
if ! "$PYTHON" -c 'import aiosmtpd' >/dev/null 2>&1; then
  python3 -m venv .venv-ci
  .venv-ci/bin/python -m pip install --quiet --disable-pip-version-check -r tests/api/py/requirements.txt
fi

WORK="$(mktemp -d /tmp/plenary-portal-check.XXXXXX)"
MAILDIR="$WORK/maildir"
mkdir -p "$MAILDIR"/{new,cur,tmp}
"$PYTHON" -m aiosmtpd -n -l "127.0.0.1:${SMTP_PORT}" -c aiosmtpd.handlers.Mailbox "$MAILDIR" \
  >"$WORK/smtp.log" 2>&1 &
SMTP_PID=$!
for _ in $(seq 1 40); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $SMTP_PORT), 1)" 2>/dev/null && break
  sleep 0.25
done

export PLENARY_SMTP_URL="smtp://127.0.0.1:${SMTP_PORT}"
export PLENARY_PUBLIC_URL="http://127.0.0.1:${PORT}"
# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
cleanup() {
  kill "$SMTP_PID" 2>/dev/null || true
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
start_server "$PORT"
trap cleanup EXIT

python3 -c "import sys; sys.path.insert(0, 'scripts'); from minimal_pdf import minimal_pdf; open('$WORK/credentials.pdf', 'wb').write(minimal_pdf(b'Letter of credentials'))"

mkdir -p "$SHOTS"
if ! TOKEN="$TOKEN" MAILDIR="$MAILDIR" PDF="$WORK/credentials.pdf" SCREENSHOT_DIR="$SHOTS" PYTHON="$PYTHON" \
  node scripts/docs-check/portal.mjs "$BASE"; then
  server_log_tail
  echo "---- SMTP server log"
  tail -n 20 "$WORK/smtp.log"
  exit 1
fi
