#!/usr/bin/env bash
# Checks the deployment files without a Docker engine or a cluster:
#   1. docker-compose -f docker-compose.yml config -q   (Debian's docker-compose,
#      installed when missing), also with the `tools` profile;
#   2. tests/deploy/check-manifests.py: every deploy/k8s manifest and
#      docker-compose.yml parsed and their required fields and cross-references
#      checked, after a self-test that breaks copies in memory;
#   3. shell syntax of the deploy scripts the Dockerfile runs;
#   4. what a first start installs and builds: install-deps.sh's --run profile
#      holds what deploy/run-local.sh starts and none of the tests' tools, and
#      CMake configures the four binaries without GTest when the tests are off.
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

# 4. The first start's share (deploy/run-local.sh).
has_all() {  # LIST PACKAGE... -> the packages missing from LIST
  local list=$1 p missing=()
  shift
  for p in "$@"; do grep -qxF -- "$p" <<<"$list" || missing+=("$p"); done
  echo "${missing[*]}"
}
run_pkgs=$(bash deploy/install-deps.sh --run --list)
build_pkgs=$(bash deploy/install-deps.sh --build-only --list)
all_pkgs=$(bash deploy/install-deps.sh --all --list)
missing=$(has_all "$run_pkgs" g++ cmake libgrpc++-dev libpqxx-dev postgresql python3-aiosmtpd httpie jq)
if [ -z "$missing" ]; then ok "install-deps --run: compiler, libraries, PostgreSQL, SMTP sink, httpie, jq"; else ko "install-deps --run lacks: $missing"; fi
test_only=()
for p in libgtest-dev libgmock-dev clang clang-tidy docker.io mmdebstrap nodejs npm kubernetes-client python3-yaml python3-nacl; do
  if grep -qxF -- "$p" <<<"$run_pkgs$build_pkgs"; then test_only+=("$p"); fi
done
if [ ${#test_only[@]} = 0 ]; then ok "install-deps --run and --build-only: no test-only package"; else ko "install-deps --run/--build-only install test-only packages: ${test_only[*]}"; fi
missing=$(has_all "$all_pkgs" $run_pkgs)
if [ -z "$missing" ]; then ok "install-deps --all installs all of --run"; else ko "install-deps --all lacks: $missing"; fi
missing=$(has_all "$all_pkgs" clang-format universal-ctags clang-tidy)
if [ -z "$missing" ]; then ok "install-deps --all: what tests/style/check.sh runs"; else ko "install-deps --all lacks the style tools: $missing"; fi
missing=$(has_all "$run_pkgs" $build_pkgs)
if grep -qxF postgresql <<<"$build_pkgs" || [ -n "$missing" ]; then
  ko "install-deps --build-only is not the build part of --run (missing from --run: $missing)"
else
  ok "install-deps --build-only: the build part of --run, no PostgreSQL"
fi
CFG=$(mktemp -d /tmp/calndro-check-cfg.XXXXXX)
if cmake -S . -B "$CFG/off" -DCALNDRO_BUILD_TESTS=OFF -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON >"$CFG/off.log" 2>&1 \
   && ! cmake --build "$CFG/off" --target help | grep -q 'calndro-unit\|calndro-integration'; then
  ok "CALNDRO_BUILD_TESTS=OFF configures without GTest and defines no test target"
else
  ko "CALNDRO_BUILD_TESTS=OFF needs GTest or defines test targets:"; tail -5 "$CFG/off.log"
fi
if ! cmake -S . -B "$CFG/on" -DCALNDRO_BUILD_TESTS=ON -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON >"$CFG/on.log" 2>&1 \
   && grep -q 'GTest/GMock are missing' "$CFG/on.log"; then
  ok "CALNDRO_BUILD_TESTS=ON without GTest stops configure, saying what to install"
else
  ko "CALNDRO_BUILD_TESTS=ON without GTest: no clear configure error"; tail -5 "$CFG/on.log"
fi
rm -rf "$CFG"

summary
