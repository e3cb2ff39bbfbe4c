#!/usr/bin/env bash
# Checks the deployment files without a Docker engine or a cluster:
#   1. docker-compose -f docker-compose.yml config -q   (Debian's docker-compose,
#      installed when missing), also with the `tools` profile;
#   2. tests/deploy/check-manifests.py: every deploy/k8s manifest and
#      docker-compose.yml parsed and their required fields and cross-references
#      checked, after a self-test that breaks copies in memory;
#   3. shell syntax of the deploy scripts the Dockerfile runs.
# Last line: "N passed, M failed"; exit 1 on any failure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=../lib/check.sh
source "$ROOT/tests/lib/check.sh"

install_pkg() {  # Debian package
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || return 1
    sudo=(sudo)
  fi
  echo "check.sh: installing $1"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$1" >/dev/null 2>&1 \
    || { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$1" >/dev/null; }
}

command -v docker-compose >/dev/null 2>&1 || install_pkg docker-compose || true
/usr/bin/python3 -c 'import yaml' 2>/dev/null || install_pkg python3-yaml || true

# 1. docker-compose's own validation (no engine needed for `config`).
if ! command -v docker-compose >/dev/null 2>&1; then
  ko "docker-compose is not installed (apt-get install docker-compose)"
else
  if out=$(docker-compose -f docker-compose.yml config -q 2>&1); then
    ok "docker-compose -f docker-compose.yml config -q"
  else
    ko "docker-compose -f docker-compose.yml config -q: $out"
  fi
  if out=$(docker-compose -f docker-compose.yml --profile tools config -q 2>&1); then
    ok "docker-compose --profile tools config -q"
  else
    ko "docker-compose --profile tools config -q: $out"
  fi
  services=$(docker-compose -f docker-compose.yml --profile tools config --services 2>/dev/null | sort | tr '\n' ' ')
  if [ "$services" = "admin events gateway internal-token mailpit notify postgres " ]; then
    ok "compose services: $services"
  else
    ko "compose services are '$services', expected admin events gateway internal-token mailpit notify postgres"
  fi
fi

# 2. The manifest checker (its own counts are added to ours).
out=$(/usr/bin/python3 tests/deploy/check-manifests.py 2>&1)
status=$?
echo "$out" | sed 's/^/    /'
add_counts check-manifests.py "$status" "$out"

# 3. Scripts the image build runs.
for s in deploy/install-deps.sh deploy/runtime-packages.sh; do
  if bash -n "$s"; then ok "bash -n $s"; else ko "bash -n $s"; fi
done
if grep -q -- '--build-only' deploy/Dockerfile && bash deploy/install-deps.sh --no-such-flag >/dev/null 2>&1; then
  ko "install-deps.sh accepts an unknown flag"
else
  ok "install-deps.sh rejects unknown flags; Dockerfile uses --build-only"
fi

summary
