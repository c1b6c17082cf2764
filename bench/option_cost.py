#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What an option of waketrace costs against waketrace without it, per
context switch, on the pinned pipe ping-pong (wt-pingpong -m pipe -c same:
two threads on CPU 0 pass a token), each profiler limited (-p) to the
workload's process. The shared runner of histogram_cost.py and
events_cost.py.

The rounds and their measures are bench/depth_cost.py's: interleaved rounds
(none, default, each variant; again...) of wall clock, whose *added* cost is
the median over rounds of (with - without the profiler, same round); then as
many rounds with kernel.bpf_stats_enabled=1 (restored after) for the BPF
programs' run time per switch of the workload's threads. Prints markdown.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import depth_cost as rounds  # noqa: E402  (its rounds, medians and environment)
import run as suite  # noqa: E402


def markdown(summary, profs, env) -> str:
    out = ["| | |\n| --- | --- |"] + [f"| {key} | {value} |" for key, value in env.items()]
    out += ["", "### pinned pipe ping-pong: ns per switch", "",
            "| profiler | wall clock | added | added, each round | BPF ns per workload switch | "
            "ns per run: sched_switch | sched_waking |",
            "| --- | ---: | ---: | --- | ---: | ---: | ---: |"]
    ns = lambda value: "n/a" if value is None else f"{value:.0f}"
    for p in profs:
        v = summary[("pingpong", p.name)]
        run_ns = lambda prefix: ns(next((g["ns_per_run"] for n, g in v["programs"].items()
                                         if n.startswith(prefix)), None))
        each = ", ".join(f"{a:.0f}" for a in v["added_all"]) if p.name != "none" else ""
        out.append(f"| {p.name} | {ns(v['per_unit'])} | {ns(v['added']) if p.name != 'none' else ''} | "
                   f"{each} | {ns(v['bpf_per_switch'])} | {run_ns('sched_switch')} | {run_ns('sched_waking')} |")
    plain = summary[("pingpong", "default")]
    out.append("")
    for p in profs[2:]:
        variant = summary[("pingpong", p.name)]
        out.append(f"{p.name} over default: added wall clock {rounds.share(variant['added'], plain['added'])}, "
                   f"BPF time per switch {rounds.share(variant['bpf_per_switch'], plain['bpf_per_switch'])}.")
    out.append("")
    return "\n".join(out)


def compare(description: str, variants) -> None:
    """Runs the comparison. `variants(waketrace, workdir)` gives the
    (name, argv) of each waketrace to set beside the default."""
    name = Path(sys.argv[0]).name
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds, timed and with stats (7)")
    parser.add_argument("--round-trips", type=int, default=100000, help="ping-pong round trips (100000)")
    parser.add_argument("--build", type=Path, default=suite.BUILD, help="the build tree (build/)")
    parser.add_argument("--json", type=Path, help="write every row here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit(f"{name}: needs root (BPF)")
    waketrace = args.build / "bindings/cli/waketrace"
    targets = ["bindings/cli/waketrace", "bench/wt-pingpong"]
    built = subprocess.run(["ninja", "-C", str(args.build)] + targets, capture_output=True, text=True)
    if built.returncode != 0:
        sys.exit(f"{name}: building {', '.join(targets)} failed:\n{built.stdout[-2000:]}")
    workdir = Path(tempfile.mkdtemp(prefix="wt-option-cost-"))
    profs = [suite.Profiler("none", []), suite.Profiler("default", [str(waketrace)], ready_line="Tracing")]
    profs += [suite.Profiler(label, argv, ready_line="Tracing") for label, argv in variants(waketrace, workdir)]
    loads = {"pingpong": rounds.workloads(args.build, args.round_trips, 1, 1)["pingpong"]}
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    env = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "host": f"{platform.node()}: {cpu}, {os.cpu_count()} CPUs, kernel {platform.release()}",
           "waketrace": f"{waketrace} at {rounds.git_commit(waketrace)}",
           "rounds": args.rounds,
           "workload": " ".join([Path(loads["pingpong"][0]).name] + loads["pingpong"][1:]),
           "load_before": " ".join(Path("/proc/loadavg").read_text().split()[:3])}

    def on_signal(signum, _frame):
        suite.Session.kill_all()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stats_before = rounds.STATS.read_text().strip()
    started = time.monotonic()
    try:
        sys.stdout = sys.stderr  # the helpers log to standard output: the markdown alone goes there
        suite.log("calibration: attach fds of each profiler")
        suite.calibrate(profs, workdir, {})
        suite.log("timed rounds")
        rows = rounds.rounds_of(profs, loads, args.rounds, workdir, with_stats=False)
        rounds.STATS.write_text("1\n")
        suite.log("rounds with kernel.bpf_stats_enabled=1")
        rows += rounds.rounds_of(profs, loads, args.rounds, workdir, with_stats=True)
    finally:
        sys.stdout = sys.__stdout__
        rounds.STATS.write_text(stats_before + "\n")
        suite.Session.kill_all()
        shutil.rmtree(workdir, ignore_errors=True)
    env["load_after"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    env["duration_s"] = round(time.monotonic() - started)
    if args.json:
        args.json.write_text(json.dumps({"environment": env, "rows": rows}, indent=1))
    print(markdown(rounds.summarize(rows, profs), profs, env))
