#!/usr/bin/env bash
# The README's first command: installs what is missing, builds build/seedhook and starts it on
# the embedded default (config/dev.json: built-in simulator, self-signed TLS, data/seedhook.db).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build -DSEEDHOOK_TESTS=OFF
exec build/seedhook --config config/dev.json
