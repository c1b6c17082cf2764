#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run time per invocation of libwaketrace's BPF programs while a command runs.

    sudo bench/program_cost.py [--modes dwarf] [--rounds N] [-- COMMAND ...]

With kernel.bpf_stats_enabled=1 (restored afterwards) it polls `bpftool prog
show` every 50 ms and keeps, per program id, the last run_cnt and
run_time_ns seen; programs come and go with each profiler the command
starts, so the last poll before a program is unloaded bounds what is missed
(a few ms of each). Prints, per program name (sched_switch_btf...), runs and
ns per run summed over the ids. The default command is the accounting test
(tests/live/test_switch_accounting.cpp) in the modes given.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

SYSCTL = Path("/proc/sys/kernel/bpf_stats_enabled")
OURS = ("sched_switch", "sched_waking", "sched_process_exec")


def poll(seen: dict, stop: threading.Event) -> None:
    while not stop.is_set():
        out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True).stdout
        for prog in json.loads(out or "[]"):
            if prog.get("name", "").startswith(OURS) and "run_cnt" in prog:
                seen[prog["id"]] = (prog["name"], prog["run_cnt"], prog["run_time_ns"])
        stop.wait(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="dwarf", help="WAKETRACE_ACCOUNTING_MODES (default dwarf)")
    parser.add_argument("--rounds", default="100000", help="WAKETRACE_ACCOUNTING_ROUNDS (default 100000)")
    parser.add_argument("--test-binary", default="build/tests/live/test_live")
    parser.add_argument("command", nargs="*")
    args = parser.parse_args()
    command = args.command or [args.test_binary, "every off-CPU period is seen or counted as lost", "-s"]
    env = dict(os.environ, WAKETRACE_ACCOUNTING_MODES=args.modes, WAKETRACE_ACCOUNTING_ROUNDS=args.rounds)
    before = SYSCTL.read_text().strip()
    seen: dict = {}
    stop = threading.Event()
    poller = threading.Thread(target=poll, args=(seen, stop))
    try:
        SYSCTL.write_text("1\n")
        poller.start()
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    finally:
        stop.set()
        poller.join()
        SYSCTL.write_text(before + "\n")
    sys.stdout.write("".join(line + "\n" for line in result.stdout.splitlines()
                             if "counted as lost" in line or ", mode " in line))
    totals: dict = {}
    for name, runs, ns in seen.values():
        t = totals.setdefault(name, [0, 0])
        t[0] += runs
        t[1] += ns
    for name, (runs, ns) in sorted(totals.items()):
        print(f"{name}: {runs} runs, {ns / max(runs, 1):.0f} ns per run")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
