#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs one libFuzzer harness the way the 'fuzz' test suite and scripts/fuzz.sh
# do: first every input kept from a past crash, once each, then fuzzing from
# the seeds for SECONDS. Exits non-zero on any crash, leak, sanitizer report,
# or input slower than 25 s; the input that did it is left in WORK_DIR/crashes.
#   run_fuzzer.sh FUZZER SEED_DIR REGRESSION_DIR WORK_DIR SECONDS [LIBFUZZER_ARGS...]
# WORK_DIR/corpus gathers the inputs that reached new code, so a later run
# goes on from where this one stopped; SEED_DIR and REGRESSION_DIR are only read.
set -euo pipefail

if [ $# -lt 5 ]; then
  echo "usage: $0 FUZZER SEED_DIR REGRESSION_DIR WORK_DIR SECONDS [LIBFUZZER_ARGS...]" >&2
  exit 2
fi
fuzzer=$1 seeds=$2 regressions=$3 work=$4 seconds=$5
shift 5

# UBSan reports and goes on by default; a fuzzer must stop at the first one.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
limits=(-rss_limit_mb=2048 -timeout=25)

corpora=("$seeds")
mapfile -t kept < <(find "$regressions" -type f 2>/dev/null | sort)
if [ ${#kept[@]} -gt 0 ]; then
  echo "== $(basename "$fuzzer"): replaying ${#kept[@]} regression inputs from $regressions"
  "$fuzzer" "${limits[@]}" "${kept[@]}"
  corpora+=("$regressions")
fi

# Apart: libFuzzer reads a corpus directory with its subdirectories.
mkdir -p "$work/corpus" "$work/crashes"
echo "== $(basename "$fuzzer"): fuzzing for ${seconds}s from $seeds (new inputs in $work/corpus)"
if ! "$fuzzer" "${limits[@]}" -max_total_time="$seconds" -print_final_stats=1 \
     -artifact_prefix="$work/crashes/" "$@" "$work/corpus" "${corpora[@]}"; then
  echo "== $(basename "$fuzzer") failed: the input is in $work/crashes/." >&2
  echo "   Once fixed, keep it: copy it to $regressions/ (a test replays it)." >&2
  exit 1
fi
