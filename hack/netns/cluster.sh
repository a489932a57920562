#!/usr/bin/env bash
# Thin CLI over hack/netns/netns.ts (needs root and iproute2):
#   hack/netns/cluster.sh up 10 --shape-mbit 100   # prints the layout (run id, namespaces, IPs) as JSON
#   hack/netns/cluster.sh down <run-id>            # removes pp-<run-id>-* and what runs in them
#   hack/netns/cluster.sh list
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bundle="$(mktemp -t peerpull-netns-cli.XXXXXX.js)"
trap 'rm -f "$bundle"' EXIT
"$root/node_modules/.bin/esbuild" "$root/hack/netns/cli.ts" --bundle --platform=node --target=node20 \
  --packages=external --log-level=warning --outfile="$bundle"
node "$bundle" "$@"
