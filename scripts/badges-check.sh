#!/usr/bin/env bash
# Printed badges read back by a scanner nobody here wrote (scripts/badges_check.py): a live
# server with data/ imported; a conference of ten members is made through the API, its
# badges.html printed to PDF by headless Debian Chromium (scripts/lib/chromium.sh), rendered to
# PNG by pdftoppm (poppler-utils), every QR code decoded by zbarimg (zbar-tools) and every token
# verified against the published JWK with joserfc (PyPI). The decoded member ids must be
# exactly the accepted members. The first page is kept as api-spec/badges-example.png.
#
# Needs zbarimg, pdftoppm and CJK fonts (installed with apt-get when missing), joserfc (pip
# into .venv-ci when missing).
#
# Settings (environment): BADGES_CHECK_PORT (18385), BADGES_SCREENSHOT
# (api-spec/badges-example.png), CHROMIUM (/usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${BADGES_CHECK_PORT:-18385}"
SCREENSHOT="${BADGES_SCREENSHOT:-api-spec/badges-example.png}"

if ! command -v zbarimg >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 \
  || ! fc-list :lang=ja family 2>/dev/null | grep -q .; then
  echo "installing Debian's zbar-tools, poppler-utils and fonts-noto-cjk"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zbar-tools poppler-utils fonts-noto-cjk fontconfig >/dev/null
fi
PY=.venv-ci/bin/python
if [ ! -x "$PY" ]; then
  python3 -m venv .venv-ci
fi
if ! "$PY" -c 'import joserfc' >/dev/null 2>&1; then
  "$PY" -m pip install --quiet --disable-pip-version-check 'joserfc>=1.0,<2'
fi

# shellcheck source=scripts/lib/chromium.sh
. scripts/lib/chromium.sh
ensure_chromium

# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
start_server "$PORT"

OUT="${CARGO_TARGET_DIR:-target}/badges-check"
if ! "$PY" scripts/badges_check.py "$BASE" "$TOKEN" "$OUT" "$SCREENSHOT"; then
  server_log_tail
  exit 1
fi
