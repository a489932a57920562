#!/usr/bin/env bash
# The README's first command: on a fresh machine, install what is missing (root: apt; then npm ci and
# the build), with all of that output in a log file, then run the demo. Arguments go to the demo:
#   bash hack/demo.sh [--nodes N] [--mbit B] [--size MiB] [--keep] [--loopback] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
log="${TMPDIR:-/tmp}/peerpull-demo-install.log"
echo "peerpull demo: checking what is installed (output in $log)"
if ! {
  bash hack/install-deps.sh
  if [[ ! -d node_modules ]]; then npm ci --no-audit --no-fund; fi
  npm run build
} >"$log" 2>&1; then
  echo "peerpull demo: installing or building failed; the end of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
exec node build/demo.js "$@"
