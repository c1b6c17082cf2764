#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the libFuzzer harnesses of tests/fuzz with clang, AddressSanitizer
# and UBSan into build-fuzz/, and runs them for longer than the test suite's
# few seconds each. Run scripts/setup.sh first (it installs clang and its
# libFuzzer runtime).
#   scripts/fuzz.sh                      every fuzzer, 60 s each
#   scripts/fuzz.sh TARGET [SECONDS]     one fuzzer (e.g. perf_map 600)
#   scripts/fuzz.sh all SECONDS [ARGS]   every fuzzer for SECONDS; ARGS go to
#                                        libFuzzer (e.g. -jobs=2 -workers=2)
#   scripts/fuzz.sh --build              configure and build only (scripts/test.sh --all)
# Targets: the names in tests/fuzz/meson.build (perf_map, process_maps,
# kallsyms, elf_symbols, demangle, unwinder, cli_options, folded, c_options).
# Inputs that reach new code gather in build-fuzz/tests/fuzz/work/TARGET/corpus,
# so each run goes on from the last; a crash leaves its input in .../crashes/:
# fix the bug, then copy the input to tests/fuzz/regressions/TARGET/, where
# the 'fuzz' test suite replays it on every run.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-fuzz
fuzz_dir=tests/fuzz

configure_and_build() {
  if [ ! -f "$build/build.ninja" ]; then
    # The library and tools are not built here (-Dtests=false, and only the
    # 'fuzzers' target is compiled): the harnesses link the stage libraries.
    CC=clang CXX=clang++ meson setup "$build" -Dfuzzing=true -Dtests=false \
      -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
  fi
  meson compile -C "$build" fuzzers >/dev/null
}

all_targets() {
  find "$fuzz_dir" -maxdepth 1 -name 'fuzz_*.cpp' -printf '%f\n' |
    sed -e 's/^fuzz_//' -e 's/\.cpp$//' | sort
}

run_one() {
  local target=$1 seconds=$2
  shift 2
  if [ ! -f "$fuzz_dir/fuzz_$target.cpp" ]; then
    echo "fuzz: no fuzzer '$target'; there are: $(all_targets | tr '\n' ' ')" >&2
    return 2
  fi
  "$fuzz_dir/run_fuzzer.sh" "$build/$fuzz_dir/fuzz_$target" "$fuzz_dir/corpus/$target" \
    "$fuzz_dir/regressions/$target" "$build/$fuzz_dir/work/$target" "$seconds" "$@"
}

target=${1:-all}
seconds=${2:-60}
if [ $# -gt 2 ]; then shift 2; else shift $#; fi

configure_and_build
[ "$target" = "--build" ] && exit 0

status=0
if [ "$target" = "all" ]; then
  for each in $(all_targets); do
    run_one "$each" "$seconds" "$@" || status=1
  done
else
  run_one "$target" "$seconds" "$@" || status=1
fi
exit $status
