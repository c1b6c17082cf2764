#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Does the cost per switch stay flat as threads multiply? (issue 14, "Scale")

    sudo /usr/bin/python3 bench/scale.py [--rounds 3] [--idle-threads 10000]

Three workloads, each profiler system-wide (none, waketrace, offcputime),
interleaved over rounds like bench/run.py:
- the pinned pipe ping-pong (wt-pingpong), as in run.py;
- the same ping-pong beside a process of 10,000 idle threads (wt-idlers),
  started after the profiler attached, so each of its threads blocked once
  while traced and holds its per-thread entry;
- `perf bench sched messaging -t -g 10 -l 200`: 400 threads passing
  messages over sockets on both CPUs.
Per run: the added wall-clock time per context switch (the ping-pong's own
count, or /proc/stat's ctxt for messaging) and the BPF programs' run time
per switch (kernel.bpf_stats_enabled). After the idle-thread run: the
profiler's BPF map memory, peak RSS and time to report after SIGINT.
Prints a markdown report; bench/RESULTS.md keeps the one written down.
"""
import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (bench/run.py: profilers, sessions, fdinfo)

IDLERS = bench.BUILD / "bench/wt-idlers"
MESSAGING = ["perf", "bench", "sched", "messaging", "-t", "-g", "10", "-l", "200"]
SCENARIOS = ("ping-pong", "ping-pong + idle threads", "messaging")


def context_switches() -> int:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("ctxt "):
            return int(line.split()[1])
    raise RuntimeError("no ctxt line in /proc/stat")


def pingpong(round_trips: int):
    """(elapsed ns, switches) of run.py's pipe-same, as it counts them."""
    workload = next(w for w in bench.workloads(round_trips) if w.name == "pipe-same")
    return bench.run_workload(workload), workload.switches


def messaging():
    """(elapsed ns, switches system-wide) of perf bench sched messaging."""
    before = context_switches()
    done = subprocess.run(MESSAGING, capture_output=True, text=True, timeout=600)
    after = context_switches()
    if done.returncode != 0:
        raise RuntimeError(f"perf bench sched messaging failed: {done.stderr}")
    found = re.search(r"Total time:\s*([\d.]+)", done.stdout)
    if not found:
        raise RuntimeError(f"no total time in: {done.stdout}")
    return float(found.group(1)) * 1e9, after - before


class Idlers:
    """wt-idlers, started and waited for until its threads exist."""

    def __init__(self, threads: int):
        self.proc = subprocess.Popen([str(IDLERS), "-t", str(threads)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"wt-idlers did not start: {line!r}")
        time.sleep(0.5)  # the last threads reach their read()

    def release(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=120)


def bpf_run_time_ns(pid: int) -> int:
    """Run time summed over the profiler's programs."""
    _, programs = bench.bpf_fdinfo(pid)
    return sum(int(p.get("run_time_ns", 0)) for p in programs.values())


def one_run(profiler, scenario: str, args, workdir: Path, tag: str) -> dict:
    session = None
    idlers = None
    result = {"profiler": profiler.name, "scenario": scenario}
    try:
        if profiler.name != "none":
            session = bench.Session(profiler, workdir, tag)
            session.start(expect_fds=profiler.attach_fds)
            time.sleep(bench.SETTLE_S)
        if scenario == "ping-pong + idle threads":
            idlers = Idlers(args.idle_threads)
        first = bpf_run_time_ns(session.proc.pid) if session else 0
        if scenario == "messaging":
            elapsed, switches = messaging()
        else:
            elapsed, switches = pingpong(args.round_trips)
        second = bpf_run_time_ns(session.proc.pid) if session else 0
        result.update(elapsed_ns=elapsed, switches=switches, bpf_ns=second - first)
        if session:
            session.measure_maps()
            result["map_bytes"] = session.map_bytes
    finally:
        # The idle threads stay idle until the profiler has reported, as an
        # idle pool would: what is measured is the per-thread state they
        # leave in it, not 10,000 chains of their one wait each.
        if session:
            session.stop()
            result["report_s"] = session.report_s
            result["peak_rss_kb"] = session.maxrss_kb
        if idlers:
            idlers.release()
    return result


def report(runs: list, args) -> str:
    names = [name for name in ("waketrace", "offcputime") if any(r["profiler"] == name for r in runs)]
    out = [f"Medians of {args.rounds} interleaved rounds; ping-pong {args.round_trips} round trips; "
           f"{args.idle_threads} idle threads; `{' '.join(MESSAGING)}`.", "",
           "| workload | profiler | ns/switch | added ns/switch | BPF ns/switch | x offcputime |",
           "| --- | --- | ---: | ---: | ---: | ---: |"]
    for scenario in SCENARIOS:
        # As bench/run.py: (time with - time without) / the switches without
        # (a slowed workload may switch less: messaging batches more).
        none = [r for r in runs if r["scenario"] == scenario and r["profiler"] == "none"]
        base_ns = bench.median([r["elapsed_ns"] for r in none])
        base_switches = bench.median([r["switches"] for r in none])
        rows = {}
        for name in names:
            mine = [r for r in runs if r["scenario"] == scenario and r["profiler"] == name]
            elapsed = bench.median([r["elapsed_ns"] for r in mine])
            rows[name] = (elapsed / base_switches, (elapsed - base_ns) / base_switches,
                          bench.median([r["bpf_ns"] / r["switches"] for r in mine]))
        theirs = rows.get("offcputime", (0, 0, 0))[1]
        for name, (per_switch, added, bpf) in rows.items():
            ratio = f"{added / theirs:.2f}x" if theirs > 0 else ""
            out.append(f"| {scenario} | {name} | {per_switch:.0f} | {added:.0f} | {bpf:.0f} | {ratio} |")
        out.append(f"| {scenario} | none | {base_ns / base_switches:.0f} | 0 | | |")
    out += ["", "After the idle-thread run (medians):", "",
            "| profiler | BPF map memory | peak RSS | report after SIGINT |", "| --- | ---: | ---: | ---: |"]
    for name in names:
        mine = [r for r in runs if r["scenario"] == "ping-pong + idle threads" and r["profiler"] == name]
        out.append(f"| {name} | {bench.median([r['map_bytes'] for r in mine]) / 2**20:.1f} MiB | "
                   f"{bench.median([r['peak_rss_kb'] for r in mine]) / 1024:.1f} MiB | "
                   f"{bench.median([r['report_s'] for r in mine]) * 1000:.0f} ms |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--round-trips", type=int, default=50000)
    parser.add_argument("--idle-threads", type=int, default=10000)
    args = parser.parse_args()
    notes = []
    profilers = [p for p in bench.profilers_available(notes) if p.name in ("none", "waketrace", "offcputime")]
    sysctl = Path("/proc/sys/kernel/bpf_stats_enabled")
    before = sysctl.read_text().strip()
    runs = []
    with tempfile.TemporaryDirectory(prefix="wt-scale-") as tmp:
        workdir = Path(tmp)
        try:
            bench.calibrate(profilers, workdir, {})
            sysctl.write_text("1\n")
            for round_no in range(args.rounds):
                for scenario in SCENARIOS:
                    for p in profilers:
                        r = one_run(p, scenario, args, workdir, f"{p.name}-{round_no}")
                        bench.log(f"round {round_no + 1} {scenario} {p.name}: "
                                  f"{r['elapsed_ns'] / r['switches']:.0f} ns/switch, {r['switches']} switches")
                        runs.append(r)
        finally:
            sysctl.write_text(before + "\n")
            bench.Session.kill_all()
    print(report(runs, args))
    for note in notes:
        print(f"\nNote: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
