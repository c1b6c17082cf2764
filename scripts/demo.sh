#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job: set up if needed, then run waketrace on the bundled demo
# workload (two threads bouncing a token through pipes, with sleeps) and
# print the wake chains it found. Extra arguments go to waketrace.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
run=(build/bindings/cli/waketrace "$@" -- build/examples/demo/waketrace-demo 20 10)
if [ "$(id -u)" -ne 0 ]; then run=(sudo "${run[@]}"); fi
exec "${run[@]}"
