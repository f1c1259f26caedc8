# Sourced by the browser checks (scripts/docs-check.sh, scripts/participants-check.sh):
# Debian's chromium (apt-get when missing) and playwright-core (npm ci in scripts/docs-check/,
# the one package of browser-check scripts).
#
# ensure_chromium   sets and exports CHROMIUM (default /usr/bin/chromium), installing it and
#                   playwright-core when missing.

ensure_chromium() {
  export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
  if [ ! -x "$CHROMIUM" ]; then
    echo "installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  if [ ! -d scripts/docs-check/node_modules/playwright-core ]; then
    (cd scripts/docs-check && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
