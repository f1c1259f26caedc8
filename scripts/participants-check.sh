#!/usr/bin/env bash
# Browser check of the printable List of Participants (GET .../participants.html): a live server
# with data/ imported; headless Debian Chromium (scripts/lib/chromium.sh) opens the Lianyungang
# list (made public by an admin) and must load it with no request but the page itself, saves
# its screenshot (api-spec/participants-lianyungang.png, kept in the repository), then prints
# the list of a conference the check creates through the API to PDF and checks with poppler's
# pdftotext that the PDF holds a name in Chinese script (张伟) and a Vietnamese one
# (NGUYỄN Văn An) (scripts/docs-check/participants.mjs).
#
# Needs fonts with CJK and Thai glyphs (Debian's fonts-noto-cjk and fonts-noto-core) and pdftotext
# and pdffonts (poppler-utils); .ci/run
# installs both when missing.
#
# Settings (environment): PARTICIPANTS_CHECK_PORT (18383), PARTICIPANTS_SCREENSHOT
# (api-spec/participants-lianyungang.png), CHROMIUM (/usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PARTICIPANTS_CHECK_PORT:-18383}"
SCREENSHOT="${PARTICIPANTS_SCREENSHOT:-api-spec/participants-lianyungang.png}"

for tool in pdftotext fc-list; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is missing: apt-get install poppler-utils fontconfig (.ci/run does)" >&2
    exit 1
  fi
done
if ! fc-list :lang=zh family | grep -q . || ! fc-list :lang=ja family | grep -q . \
  || ! fc-list :lang=th family | grep -q .; then
  echo "no font with Chinese or Thai glyphs: apt-get install fonts-noto-cjk fonts-noto-core (.ci/run does)" >&2
  exit 1
fi
# A page of the printed list with Chinese, Japanese, Thai and Vietnamese names, kept in the
# repository as an example.
export PARTICIPANTS_PRINT_PNG="${PARTICIPANTS_PRINT_PNG:-api-spec/participants-print.png}"

# shellcheck source=scripts/lib/chromium.sh
. scripts/lib/chromium.sh
ensure_chromium

# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
start_server "$PORT"
ADMIN_PASSWORD="$(add_organiser participants-check-admin@plenary.example "Participants check" --admin)"
ADMIN_TOKEN="$(token_for participants-check-admin@plenary.example "$ADMIN_PASSWORD")"

mkdir -p "$(dirname "$SCREENSHOT")"
if ! node scripts/docs-check/participants.mjs "$BASE" "$TOKEN" "$ADMIN_TOKEN" "$SCREENSHOT"; then
  server_log_tail
  exit 1
fi
