#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Repeated use at full size: 1,000 start/stop/results cycles of Profilers in
# one process (tests/live/test_repeated_use.cpp; each cycle checks that its
# profile saw the workload's three blocked pipe reads), both with a new
# Profiler each cycle and with one Profiler started again and again; then
# 300 cycles of the Python binding in one interpreter
# (tests/python/test_repeated_use.py). Prints fds, the BPF objects held by
# the process and loaded on the system, RSS and malloc's heap in use at
# cycles 1, 10, 100 and 1,000; the tests fail if fds or BPF objects change,
# or if after cycle 10 malloc's heap in use grows by 1 MiB or RSS by 16 MiB
# (RSS steps up while glibc makes its per-thread arenas, up to 8 per CPU).
# Needs root and a built tree (scripts/setup.sh). Takes about 25 minutes
# on 2 busy vCPUs.
#   sudo bench/lifecycle.sh [CYCLES] [PYTHON_CYCLES]
set -euo pipefail
cd "$(dirname "$0")/.."
export WAKETRACE_LIFECYCLE_CYCLES="${1:-1000}"
build/tests/live/test_live "[lifecycle]" -s | grep -E '^(cycle|[0-9]+ cycles)|passed|failed'
export WAKETRACE_PYTHON_LIFECYCLE_CYCLES="${2:-300}"
PYTHONPATH="$(dirname "$(ls build/bindings/python/waketrace*.so)"):tests/pyshared" \
    /usr/bin/python3 -m pytest -q -s -p no:cacheprovider tests/python/test_repeated_use.py
