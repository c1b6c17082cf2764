#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside the kernel test guest as root (started by guest-init): the
# test suites that touch the kernel, against the host's build tree, then the
# frame-pointer naming check on pipe_sleep. Writes RESULTS/summary (one line)
# and RESULTS/status (the exit status the host script returns).
#   in-guest.sh REPO RESULTS
repo=$1
results=$2
kernel=$(uname -r)
echo "in-guest: kernel $kernel, $(nproc) CPUs, BTF: $(test -f /sys/kernel/btf/vmlinux && echo yes || echo no)"

mkdir -p /dev/shm
mount -t tmpfs tmpfs /dev/shm
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
# The cgroup filter's tests make cgroups of their own.
mount -t cgroup2 cgroup2 /sys/fs/cgroup

# Under CI=true a test that needs root or BPF fails instead of skipping, so
# nothing passes here without having run.
export CI=true
export TMPDIR=/tmp
cd "$repo" || exit 1
# Tests tagged [precise-timing] bound times finer than TCG emulation's timer
# and scheduling jitter (time splits to under 1%, a 1 ms sleep's wake-up to
# 2 ms). Tests tagged
# [speed] require the library's threads to keep up with a workload at full
# speed (the --dwarf unwinder with a ping-pong, the map mover with a burst of
# new stacks), which emulation, many times slower, cannot. Both run on the host only (tests/live/live_main.cpp reads
# this).
# The Python suites leave out their tests marked precise_timing when this
# says so (tests/pyshared/ci_rule.py).
export WAKETRACE_LIVE_TESTS='~[precise-timing]~[speed]'
echo "in-guest: leaving out the live tests tagged [precise-timing] and [speed] (they run on the host)"
# The exact accounting check at a tenth of its CI size: the same cases and
# modes, each exact, in minutes of emulation rather than most of an hour.
export WAKETRACE_ACCOUNTING_ROUNDS=2000
# Go's pprof for the --pprof tests, copied in by the host script.
[ -x "$results/pprof" ] && export PPROF="$results/pprof"
# The suites that load the BPF program; the rest is pure logic and gives
# the same answer on any kernel. TCG emulation is slow, hence the longer
# timeouts.
suites="live live_c_api tool python examples"
# The host's GUEST_SUITES / GUEST_LIVE_TESTS, when it asked for less.
if [ -s "$results/settings" ]; then
  . "$results/settings"
  echo "in-guest: suites: $suites; live tests: $WAKETRACE_LIVE_TESTS"
fi
export WAKETRACE_LIVE_TESTS
# Through cat: on the serial console meson would draw a progress spinner;
# unbuffered, so each test's result shows on the console as it ends.
# shellcheck disable=SC2086
PYTHONUNBUFFERED=1 meson test -C build --no-rebuild --print-errorlogs --logbase guest \
  --timeout-multiplier "${GUEST_TIMEOUT_MULTIPLIER:-4}" $suites 2>&1 | cat
cp build/meson-logs/guest.txt build/meson-logs/guest.json "$results/"

# libc's frames in frame-pointer mode and with --dwarf, for the same program.
waketrace=build/bindings/cli/waketrace
for mode in frame-pointer dwarf; do
  flag=
  [ "$mode" = dwarf ] && flag=--dwarf
  # shellcheck disable=SC2086
  "$waketrace" -v -f $flag -- "$results/pipe_sleep" > "$results/pipe_sleep.$mode.folded" \
    2> "$results/pipe_sleep.$mode.err"
  echo "in-guest: waketrace -f $flag -- pipe_sleep (exit $?): pipe_sleep's stacks:"
  grep -h "attached to" "$results/pipe_sleep.$mode.err"
  grep '^pipe_sleep;' "$results/pipe_sleep.$mode.folded" | sed 's/;--;.*//' | sort | uniq -c
done

counts=$(python3 scripts/count_results.py --log guest build)
status=$?
echo "$kernel guest: $counts" > "$results/summary"
echo "$status" > "$results/status"
cat "$results/summary"
