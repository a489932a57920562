#!/usr/bin/env bash
# The README's first command: on a fresh machine, install what is missing, then run the embedded
# default (a registry, N agents on this machine, a herd of pulls). Usage: bash hack/demo.sh [NODES]
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-deps.sh
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run demo -- "$@"
