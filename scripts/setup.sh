#!/usr/bin/env bash
# Installs whatever is missing on a fresh Debian machine (bookworm or later)
# and builds libwaketrace into build/ (and, with --sanitize, build-sanitize/).
# Safe to run again: it only installs and rebuilds what is missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  meson ninja-build pkg-config g++ clang bpftool
  libbpf-dev libelf-dev libdw-dev libfmt-dev catch2
  python3 python3-pytest util-linux
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$' ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

configure_and_build() {
  local dir=$1; shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null
  meson compile -C "$dir" >/dev/null
}

configure_and_build build
if [ "${1:-}" = "--sanitize" ]; then
  configure_and_build build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
fi
