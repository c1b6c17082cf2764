#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Compares the built libwaketrace.so with the committed ABI baseline.
# abidiff's exit status is a bit set: 1 error, 2 usage error, 4 an ABI change
# (for abidiff, a changed struct layout is "only" a change), 8 an
# incompatible change such as a removed function. Any of them fails: an ABI
# change must be deliberate, so a compatible one (a new function, a field
# carved from a reserved tail) is accepted by regenerating the baseline in
# the same commit:
#   abidw --headers-dir include/waketrace --drop-private-types --exported-interfaces-only \
#         --no-corpus-path --no-comp-dir-path --short-locs \
#         --out-file tests/abi/libwaketrace.abi build/bindings/c/libwaketrace.so
set -u
abidiff=$1 baseline=$2 library=$3 headers=$4
"$abidiff" --headers-dir2 "$headers" --drop-private-types "$baseline" "$library"
status=$?
if (( status != 0 )); then
  echo "ABI check failed (abidiff status $status): the C ABI differs from tests/abi/libwaketrace.abi"
  exit 1
fi
echo "ABI identical to the baseline"
