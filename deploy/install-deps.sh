#!/usr/bin/env bash
# Installs the Debian 12 packages calndro needs, by profile. Only what is
# missing is installed, quietly; nothing happens (no apt at all) when all is there.
#
#   --all          (the default) everything the tests need: deploy/test.sh,
#                  bench/run.sh, tests/deploy/compose-up.sh
#   --run          what deploy/run-local.sh needs: --build-only, the PostgreSQL
#                  server, the SMTP sink (python3-aiosmtpd), and httpie and jq
#                  for the seed scenario it prints. No GTest, ccache, clang,
#                  Docker, node, ...: a first start does not wait for them.
#   --build-only   only what building the four binaries needs: the compiler,
#                  cmake and the -dev libraries (deploy/Dockerfile's build
#                  stage; run-local's first step, which compiles while the
#                  rest of --run installs)
#   --list         print the profile's packages, one a line, and install nothing
#   --no-update    no apt-get update first, unless the install fails without it
#                  (run-local's second step, seconds after its first)
set -euo pipefail

PROFILE=all
LIST=0
UPDATE=1
for arg in "$@"; do
  case "$arg" in
    --all) PROFILE=all ;;
    --run) PROFILE=run ;;
    --build-only) PROFILE=build ;;
    --list) LIST=1 ;;
    --no-update) UPDATE=0 ;;
    *) echo "install-deps: unknown option '$arg' (known: --all, --run, --build-only, --list, --no-update)" >&2; exit 2 ;;
  esac
done

# Building calndro-events, calndro-notify, calndro-gateway and calndro-admin.
PACKAGES=(
  g++ cmake make pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libpqxx-dev
  libcpp-httplib-dev nlohmann-json3-dev libsodium-dev libcurl4-openssl-dev prometheus-cpp-dev
)
if [ "$PROFILE" != build ]; then
  PACKAGES+=(
    # the private cluster (server, initdb, pg_ctl, psql) and the SMTP sink
    postgresql python3-aiosmtpd
    # the seed scenario run-local points at
    httpie jq
  )
fi
if [ "$PROFILE" = all ]; then
  PACKAGES+=(
    # the unit and integration tests (CALNDRO_BUILD_TESTS)
    libgtest-dev libgmock-dev
    # rebuilds on the same machine (deploy/test.sh, tests/fuzz/run.sh; run-local
    # uses it when present)
    ccache
    postgresql-contrib
    python3-icalendar curl
    # tests/deploy/check-manifests.py
    python3-yaml
    # tests/audit: tools/verify_log.py checks the log's Ed25519 signatures
    python3-nacl
    # tests/integration/transport_test.cc makes its certificates with it
    openssl
    # tests/deploy/compose-up.sh: a private Docker engine, compose, and the
    # Debian 12 base image built without a registry
    docker.io docker-compose mmdebstrap
    # tests/fuzz/run.sh: clang's ASan+UBSan build and libFuzzer (compiler-rt)
    clang libclang-rt-14-dev
    # tests/style/check.sh: formatting, function lengths, clang-tidy
    clang-format universal-ctags clang-tidy
  )
  # tests/deploy/compose-up.sh: kubectl kustomize. A kubectl already on the
  # machine (a newer one) conflicts with Debian's kubernetes-client.
  if ! command -v kubectl >/dev/null 2>&1; then
    PACKAGES+=(kubernetes-client)
  fi
  # tests/grpc-reflection: node and npm (a NodeSource node already brings npm;
  # Debian's npm package would conflict with it).
  if ! command -v npm >/dev/null 2>&1; then
    PACKAGES+=(nodejs npm)
  fi
fi

if [ "$LIST" = 1 ]; then
  printf '%s\n' "${PACKAGES[@]}"
  exit 0
fi

# One dpkg-query for all: a second start of run-local pays only this.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null \
  | awk '$2 == "install" && $3 == "ok" && $4 == "installed" {print $1}' || true)
declare -A have=()
for p in $installed; do have[$p]=1; done
missing=()
for p in "${PACKAGES[@]}"; do
  [ -n "${have[$p]:-}" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages of --${PROFILE/build/build-only} present"
  exit 0
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# docker.io's postinst would start a machine-wide engine (with its iptables
# NAT rules); tests/deploy/compose-up.sh starts a private one instead. So no
# service is started during this install, unless a policy already decides.
if [[ " ${missing[*]} " == *" docker.io "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# install-deps.sh: no service starts while packages install\nexit 101\n' \
    | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
  trap '"${SUDO[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
# force-unsafe-io: dpkg skips its fsync after every unpacked file, slow on a
# busy or networked disk; a power cut during this install could leave a
# package to reinstall, nothing else (Debian's container images set it for
# every install).
apt_install() {
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io \
    "${missing[@]}" >/dev/null
}
if [ "$UPDATE" = 0 ]; then
  apt_install || { "${SUDO[@]}" apt-get update -qq && apt_install; }
else
  "${SUDO[@]}" apt-get update -qq
  apt_install
fi
echo "install-deps: done"
