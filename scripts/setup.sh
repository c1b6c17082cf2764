#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs whatever is missing on a fresh Debian machine (bookworm or later)
# and builds libwaketrace into build/ (and, with --sanitize, build-sanitize/).
# Safe to run again: it only installs and rebuilds what is missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  meson ninja-build pkg-config g++ clang bpftool        # build, BPF compile + skeleton
  libclang-rt-dev                                       # libFuzzer + sanitizers for clang (scripts/fuzz.sh)
  libbpf-dev libelf-dev libdw-dev libfmt-dev zlib1g-dev # the library (zlib: debuglink CRCs)
  libiberty-dev                                         # the demangler (linked in statically)
  catch2 python3 python3-pytest util-linux              # tests (setpriv is in util-linux)
  abigail-tools                                         # the ABI check
  debuginfod                                            # a real debuginfod server for the symbolizer tests
  mandoc groff-base                                     # lint the waketrace(8) man page (tests/manpage)
  clang-format                                          # the C++ layout .clang-format describes (tests: source)
  pybind11-dev python3-dev                              # the Python module
  python3-pandas python3-nbconvert python3-ipykernel python3-nbformat  # notebook example
  libbenchmark-dev                                      # Google Benchmark example
  chromium chromium-driver python3-selenium fonts-dejavu-core  # the flame graph in a browser (tests/browser)
  libprotobuf-dev protobuf-compiler                     # --pprof: profile.proto, compiled by protoc at build time
  golang-go golang-github-google-pprof-dev              # Go's pprof, built below: what the --pprof tests decode with
  golang-github-ianlancetaylor-demangle-dev golang-github-chzyer-readline-dev
  libbpf-tools                                          # offcputime, wakeuptime: what --offcpu/--wakeup are compared with
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

# Go's pprof from Debian's sources, built offline into the cache the tests
# look in (tests/pyshared/pprof_tool.py); again only when the sources are
# newer than the binary.
pprof_dir=${XDG_CACHE_HOME:-$HOME/.cache}/libwaketrace
pprof_source=/usr/share/gocode/src/github.com/google/pprof
if [ ! -x "$pprof_dir/pprof" ] || [ "$pprof_source/pprof.go" -nt "$pprof_dir/pprof" ]; then
  echo "setup: building Go's pprof into $pprof_dir"
  mkdir -p "$pprof_dir"
  go_cache=$(mktemp -d)
  if ! GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOCACHE="$go_cache" \
       go build -o "$pprof_dir/pprof" github.com/google/pprof; then
    rm -rf "$go_cache"
    echo "setup: building pprof failed" >&2
    exit 1
  fi
  rm -rf "$go_cache"
fi

# Quiet when all is well; the whole log when something fails.
configure_and_build() {
  local dir=$1; shift
  local log
  log=$(mktemp)
  if ! { [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@"; } >"$log" 2>&1 ||
     ! meson compile -C "$dir" >>"$log" 2>&1; then
    cat "$log"; rm -f "$log"
    echo "setup: building $dir failed" >&2
    return 1
  fi
  rm -f "$log"
}

configure_and_build build
if [ "${1:-}" = "--sanitize" ]; then
  # GCC 12's -Wmaybe-uninitialized misfires on libstdc++'s <regex> (pulled
  # in by Catch2) under the sanitizers; GCC documents such false positives.
  configure_and_build build-sanitize -Db_sanitize=address,undefined -Db_lundef=false \
    -Dcpp_args=-Wno-maybe-uninitialized
fi
