#!/usr/bin/env bash
# Lints api-spec/openapi.yaml with two independent OpenAPI linters, each pinned:
#   - Redocly CLI (`recommended` rules, configured in api-spec/redocly.yaml),
#   - Spectral (ruleset `spectral:oas`, api-spec/.spectral.yaml).
# Both must report 0 errors; the warnings kept on purpose are listed, with the reason, in
# api-spec/README.md ("Linting"). The tools are installed from npm into a cache folder outside
# the sources (SPEC_LINT_DIR, default target/spec-lint), once per pinned version.
#
# Settings (environment): SPEC_LINT_DIR (target/spec-lint).
set -euo pipefail
cd "$(dirname "$0")/.."

REDOCLY_VERSION=2.77.0
SPECTRAL_VERSION=6.16.3
DIR="${SPEC_LINT_DIR:-target/spec-lint}/redocly-${REDOCLY_VERSION}-spectral-${SPECTRAL_VERSION}"

if [ ! -x "$DIR/node_modules/.bin/redocly" ] || [ ! -x "$DIR/node_modules/.bin/spectral" ]; then
  echo "installing @redocly/cli@${REDOCLY_VERSION} and @stoplight/spectral-cli@${SPECTRAL_VERSION} into $DIR"
  mkdir -p "$DIR"
  npm install --prefix "$DIR" --no-audit --no-fund --no-save --loglevel=error \
    "@redocly/cli@${REDOCLY_VERSION}" "@stoplight/spectral-cli@${SPECTRAL_VERSION}"
fi

BIN="$(cd "$DIR/node_modules/.bin" && pwd)"
# From api-spec/, where redocly.yaml, .redocly.lint-ignore.yaml and .spectral.yaml live (the
# ignore file names the spec relative to itself).
cd api-spec
status=0
echo "== redocly lint (recommended)"
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  "$BIN/redocly" lint --config redocly.yaml openapi.yaml || status=1

echo "== spectral lint (spectral:oas)"
# --fail-severity error: warnings are reported, only errors fail.
"$BIN/spectral" lint --ruleset .spectral.yaml --fail-severity error openapi.yaml || status=1

exit "$status"
