#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A long --dwarf run with periodic drain: one profiler traces wt-churn
# (bench/workloads/churn.c: new child processes, threads, library files and
# call paths, without end) for MINUTES, drained every DRAIN_SECONDS as an
# exporter would, and prints every minute its RSS, malloc's heap in use, its
# open fds and what it keeps between drains (bench/long_run/long_run.cpp),
# then a summary line: the first sample after the warm-up (a fifth of the
# run) against the last. Memory must stay flat after the warm-up.
# Needs root and a built tree (scripts/setup.sh). bench/RESULTS.md holds the
# last half-hour run's figures.
#   sudo bench/long_run.sh [MINUTES] [DRAIN_SECONDS] [--fp]   # default 30, 10
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-30}"
drain="${2:-10}"
mode=()
[ "${3:-}" = "--fp" ] && mode=(--fp)
ninja -C build bench/wt-long-run bench/wt-churn bench/libwt-churn-lib.so >/dev/null
scratch=$(mktemp -d /tmp/wt-long-run.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(hostname) $(uname -r) $(nproc) CPUs, commit $(git rev-parse --short HEAD)" \
     "$( [ -n "$(git status --porcelain --untracked-files=no)" ] && echo '(with local changes)')"
echo "# wt-churn: 40 rounds per child, 3 ms apart; drained every ${drain} s; ${minutes} minutes${mode:+, frame pointers}"
build/bench/wt-long-run --minutes "$minutes" --drain-seconds "$drain" --sample-seconds 60 "${mode[@]}" -- \
    build/bench/wt-churn -l build/bench/libwt-churn-lib.so -d "$scratch" -r 40 -p 3000
