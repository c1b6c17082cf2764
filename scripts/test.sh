#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every test: sets up if needed, builds, runs the whole suite and ends with
# one line "N passed, N failed, N skipped". Exits non-zero on any failure.
# The live BPF tests need root; they are skipped with a message without it,
# except under CI=true, where they fail instead.
#   scripts/test.sh         the plain build (build/): the edit-test loop
#   scripts/test.sh --all   also the AddressSanitizer + UBSan build
#                           (build-sanitize/) and each libFuzzer harness for
#                           a few seconds (build-fuzz/, scripts/fuzz.sh); CI
#                           (.ci/run) runs this
set -uo pipefail
cd "$(dirname "$0")/.."

builds=(build)
setup_args=()
fuzz=false
case "${1:-}" in
  "") ;;
  --all)
    builds+=(build-sanitize build-fuzz)
    setup_args=(--sanitize)
    fuzz=true
    ;;
  *) echo "usage: scripts/test.sh [--all]" >&2; exit 2 ;;
esac
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
