#!/usr/bin/env bash
# Installs the Debian 12 packages calndro needs to build, run and test.
# Only what is missing is installed, quietly; nothing happens when all is there.
#
#   --build-only   only what building needs (deploy/Dockerfile's build stage):
#                  no PostgreSQL server, SMTP sink, httpie, jq, curl, python3-yaml,
#                  openssl, node, Docker, clang. GTest stays: CMake's configure step requires it.
set -euo pipefail

BUILD_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --build-only) BUILD_ONLY=1 ;;
    *) echo "install-deps: unknown option '$arg' (known: --build-only)" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  g++ cmake make pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libpqxx-dev
  libcpp-httplib-dev nlohmann-json3-dev libsodium-dev libcurl4-openssl-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev
  # rebuilds on the same machine (deploy/test.sh, tests/fuzz/run.sh)
  ccache
)
if [ "$BUILD_ONLY" = 0 ]; then
  PACKAGES+=(
    postgresql postgresql-contrib
    python3-aiosmtpd python3-icalendar httpie jq curl
    # tests/deploy/check-manifests.py
    python3-yaml
    # tests/integration/transport_test.cc makes its certificates with it
    openssl
    # tests/deploy/compose-up.sh: a private Docker engine, compose, and the
    # Debian 12 base image built without a registry
    docker.io docker-compose mmdebstrap
    # tests/fuzz/run.sh: clang's ASan+UBSan build and libFuzzer (compiler-rt)
    clang libclang-rt-14-dev
    # tests/style/check.sh: formatting and function lengths
    clang-format universal-ctags
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

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  if [ "$status" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
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
if printf '%s\n' "${missing[@]}" | grep -qx docker.io && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# install-deps.sh: no service starts while packages install\nexit 101\n' \
    | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
  trap '"${SUDO[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
