#!/usr/bin/env bash
# Installs the real components the tests, the demo and the benches drive (DESIGN section 4):
# docker-registry, skopeo, containerd (ctr, runc), iproute2 (ip, tc), prometheus (promtool), python3,
# curl (HTTP from inside network namespaces, the demo's client), and make + g++ for the one native
# addon npm ci compiles (sockopt: the peer port's send-queue cap).
# Skips apt when every command is already present. Needs root for apt.
set -euo pipefail

required=(docker-registry skopeo containerd ctr runc ip tc prometheus promtool python3 curl make g++ tar gzip)
missing=()
for cmd in "${required[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "all present, skipping apt: ${required[*]}"
  exit 0
fi
echo "missing: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "installing system packages needs root (apt-get)" >&2
  exit 1
fi

# Keep the packages' own services (registry on :5000, prometheus on :9090, system containerd) from
# starting: tests and the demo start private instances on ports the OS picks.
policy_rc=/usr/sbin/policy-rc.d
created_policy=""
cleanup() { if [[ -n $created_policy ]]; then rm -f "$policy_rc"; fi; }
trap cleanup EXIT
if [[ ! -e $policy_rc ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy_rc"
  chmod 755 "$policy_rc"
  created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# htpasswd (apache2-utils) is a fallback for bcrypt lines where python3's crypt module is missing.
apt-get install -y --no-install-recommends \
  docker-registry skopeo containerd runc iproute2 prometheus python3 curl make g++ ca-certificates apache2-utils tar gzip
for cmd in "${required[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "still missing after apt: $cmd" >&2; exit 1; }
done
