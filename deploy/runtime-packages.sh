#!/usr/bin/env bash
# Prints the Debian packages that own the shared libraries the given binaries
# load (one name a line), so that deploy/Dockerfile's runtime stage installs
# exactly what the build stage linked against, including libraries added later
# (e.g. prometheus-cpp). Fails when a library belongs to no package.
#   deploy/runtime-packages.sh build/bin/calndro-events build/bin/calndro-gateway ...
set -euo pipefail

owner() {  # path -> package name, trying the usr-merged spellings dpkg may know
  local p=$1 candidates=("$1") real
  real=$(readlink -f "$p")
  candidates+=("$real" "${real#/usr}" "/usr${p}")
  local c out
  for c in "${candidates[@]}"; do
    if out=$(dpkg -S "$c" 2>/dev/null); then
      echo "${out%%:*}"
      return 0
    fi
  done
  return 1
}

libs=$(for b in "$@"; do
  if ldd "$b" | grep -q 'not found'; then
    echo "runtime-packages: $b has unresolved libraries:" >&2
    ldd "$b" | grep 'not found' >&2
    exit 1
  fi
  ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
done | sort -u)
status=0
packages=()
for lib in $libs; do
  if pkg=$(owner "$lib"); then
    packages+=("${pkg%%,*}")
  else
    echo "runtime-packages: no package owns $lib" >&2
    status=1
  fi
done
printf '%s\n' "${packages[@]}" | sort -u
exit "$status"
