#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The no-silent-loss check at full size: tests/live/test_switch_accounting.cpp
# with 625,000 rounds per case, so each mode (default, raw_tp, sampling,
# --dwarf, drain) sees over 5 million blocking periods across its four cases
# (pipe and futex, one CPU and two). Every period the threads' own switch
# counters record must be reported or counted as lost. Needs root and a
# built tree (scripts/setup.sh). Takes about 7 minutes on 2 vCPUs.
#   sudo bench/accounting.sh [ROUNDS]
# WAKETRACE_ACCOUNTING_MODES=dwarf (or a comma-separated list of default,
# raw_tp, sampling, dwarf, drain) plays only those modes.
set -euo pipefail
cd "$(dirname "$0")/.."
export WAKETRACE_ACCOUNTING_ROUNDS="${1:-625000}"
exec build/tests/live/test_live "every off-CPU period is seen or counted as lost" -s
