#!/usr/bin/env bash
# Lints docs/openapi.yaml with Redocly CLI, pinned by docs/package-lock.json, under the rules of
# docs/redocly.yaml (which turn every finding into an error). Installs Node.js and npm (Debian's)
# and the linter (into docs/node_modules) when they are missing. Exits non-zero on any problem.
# Runs on Debian 12's Node 18 and npm 9.2 (npm warns that Redocly asks for npm 9.5; harmless) as
# well as on Node 20. docs/package.json holds jsep at 1.4.0: the 1.6.0 that jsonpath-plus would
# take asks for Node 20.16.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --node

redocly=docs/node_modules/.bin/redocly
# npm ci empties docs/node_modules and installs the lock afresh: only when the lock is newer
# than the last install. The one install script in the tree (core-js' postinstall) only prints
# a banner, so none are run.
if [[ ! -x $redocly || docs/package-lock.json -nt docs/node_modules/.package-lock.json ]]; then
  npm ci --prefix docs --ignore-scripts --no-audit --no-fund
fi

# No telemetry and no update check: the npm registry is all this may reach, and only to install.
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  "$redocly" lint docs/openapi.yaml --config docs/redocly.yaml
