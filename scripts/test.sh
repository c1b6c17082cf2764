#!/usr/bin/env bash
# Every test: sets up if needed, builds normally and with AddressSanitizer +
# UBSan, runs the whole suite in both builds, then runs each libFuzzer
# harness for a few seconds in a clang build (build-fuzz, scripts/fuzz.sh),
# and ends with one line "N passed, N failed". Exits non-zero on any failure.
# The live BPF tests need root; they are skipped with a message without it,
# except under CI=true, where they fail instead.
#   scripts/test.sh           all three builds
#   scripts/test.sh --quick   the normal build only
set -uo pipefail
cd "$(dirname "$0")/.."

builds=(build)
setup_args=()
fuzz=false
if [ "${1:-}" != "--quick" ]; then
  builds+=(build-sanitize build-fuzz)
  setup_args=(--sanitize)
  fuzz=true
fi
scripts/setup.sh "${setup_args[@]}" || { echo "0 passed, 1 failed"; exit 1; }
# build-fuzz holds only the fuzzers, so its tests are the 'fuzz' suite.
if $fuzz; then
  scripts/fuzz.sh --build || { echo "0 passed, 1 failed"; exit 1; }
fi

as_root=()
if [ "$(id -u)" -ne 0 ] && sudo -n true 2>/dev/null; then as_root=(sudo -E); fi

status=0
for dir in "${builds[@]}"; do
  echo "== tests in $dir"
  "${as_root[@]}" meson test -C "$dir" --print-errorlogs --no-rebuild || status=1
done
python3 scripts/count_results.py "${builds[@]}" || status=1
exit $status
