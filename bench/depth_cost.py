#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What deeper wake chains cost (issue 10): `waketrace --depth 4` against
`--depth 1`, and, with --baseline, against a waketrace built before chains
existed, per context switch, each profiler limited (-p) to the workload's
process:

  pingpong  wt-pingpong -m pipe -c same: two threads on CPU 0 pass a token
  relay     wt-relay -k 5 -m pipe -c 0: five threads on CPU 0, the first
            sleeping before it wakes the second, each waking the next, so the
            last one's chain is five levels deep (--depth 4 keeps four)

    sudo /usr/bin/python3 bench/depth_cost.py [--rounds 7] [--baseline OTHER/build/bindings/cli/waketrace]

Rounds are interleaved (none, depth 1, depth 4, baseline; again...). Wall
clock: ping-pong, the workload's elapsed_ns per switch; relay, the batons'
way from stage 1 to stage 5 in the median round (relay_median_ns), per
hand-off (a waking and a switch on the critical path; the sleeps are not
counted). *Added* is the median over
rounds of (with - without the profiler, same round). Then as many rounds
again with kernel.bpf_stats_enabled=1 (restored after): the BPF programs' run
time over the workload, per context switch the workload's threads counted.
Prints markdown tables; --json FILE keeps every row.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as suite  # noqa: E402  (bench/run.py: Session, Profiler, bpf_fdinfo...)

STATS = Path("/proc/sys/kernel/bpf_stats_enabled")
RELAY_STAGES = 5


def workloads(build: Path, round_trips: int, relay_rounds: int, relay_sleep_us: int) -> dict:
    return {
        "pingpong": [str(build / "bench/wt-pingpong"), "-m", "pipe", "-c", "same", "-n", str(round_trips), "-w"],
        "relay": [str(build / "tests/live/wt-relay"), "-k", str(RELAY_STAGES), "-m", "pipe", "-c", "0",
                  "-n", str(relay_rounds), "-s", str(relay_sleep_us), "-w"],
    }


def profilers(waketrace: Path, baseline) -> list:
    found = [suite.Profiler("none", []),
             suite.Profiler("depth 1", [str(waketrace), "--depth", "1"], ready_line="Tracing"),
             suite.Profiler("depth 4", [str(waketrace), "--depth", "4"], ready_line="Tracing")]
    if baseline:
        found.append(suite.Profiler("baseline", [str(baseline)], ready_line="Tracing"))
    return found


def parse(output: str) -> dict:
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", output)}


def units(workload: str, out: dict) -> int:
    """What the wall clock is divided by: the ping-pong's switches, the
    relay's hand-offs in one round (stages - 1)."""
    if workload == "pingpong":
        return out["switches"]
    return out["stages"] - 1


def counted_switches(out: dict) -> int:
    """The workload threads' context switches as the kernel counted them."""
    return out.get("counted_switches", out["switches"])


def wall_time(workload: str, out: dict) -> int:
    """The ping-pong's whole run; the relay's median round (from stage 1's
    pass to the target's take), which other work on CPU 0 now and then
    stretches: the mean of a run moved by 2x between runs on this host."""
    return out["elapsed_ns"] if workload == "pingpong" else out["relay_median_ns"]


def one_run(profiler, argv, workdir: Path, tag: str, with_stats: bool) -> dict:
    """Starts the workload (waiting on stdin), the profiler on its pid, lets
    the workload go, stops the profiler. Returns the workload's numbers and,
    with_stats, the programs' runs and run time over the workload."""
    work = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    session = None
    try:
        if profiler.name != "none":
            session = suite.Session(suite.with_pid(profiler, work.pid), workdir, tag)
            session.start(expect_fds=profiler.attach_fds)
            time.sleep(suite.SETTLE_S)
            _, before = suite.bpf_fdinfo(session.proc.pid)
        output, _ = work.communicate("go\n", timeout=600)
        if work.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {output}")
        row = parse(output)
        if session and with_stats:
            _, after = suite.bpf_fdinfo(session.proc.pid)
            names = suite.program_names()
            row["programs"] = {}
            for prog_id, fields in after.items():
                runs = int(fields.get("run_cnt", 0)) - int(before.get(prog_id, {}).get("run_cnt", 0))
                ns = int(fields.get("run_time_ns", 0)) - int(before.get(prog_id, {}).get("run_time_ns", 0))
                if runs > 0:
                    row["programs"][names.get(prog_id, str(prog_id))] = {"runs": runs, "run_time_ns": ns}
    finally:
        if session:
            session.stop()
            warnings = [line for line in session.stderr().splitlines() if line.startswith("WARNING")]
            if warnings:
                suite.log(f"    {profiler.name}: {'; '.join(warnings)}")
        if work.poll() is None:
            work.kill()
            work.wait()
    return row


def rounds_of(profs, loads, rounds, workdir, with_stats) -> list:
    rows = []
    for r in range(rounds):
        for name, argv in loads.items():
            for p in profs:
                if with_stats and p.name == "none":
                    continue
                row = one_run(p, argv, workdir, f"{'s' if with_stats else 'w'}{r}-{name}-{p.name}", with_stats)
                row.update(round=r, workload=name, profiler=p.name, stats=with_stats)
                rows.append(row)
            suite.log(f"  {'stats ' if with_stats else ''}round {r + 1}/{rounds} {name}: " + ", ".join(
                f"{row['profiler']} {wall_time(name, row) / units(name, row):.0f} ns"
                for row in rows if row["round"] == r and row["workload"] == name))
    return rows


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(rows, profs) -> dict:
    summary = {}
    for w in dict.fromkeys(r["workload"] for r in rows):
        timed = [r for r in rows if r["workload"] == w and not r["stats"]]
        base = {r["round"]: wall_time(w, r) / units(w, r) for r in timed if r["profiler"] == "none"}
        for p in profs:
            mine = [r for r in timed if r["profiler"] == p.name]
            per_unit = [wall_time(w, r) / units(w, r) for r in mine]
            added = [wall_time(w, r) / units(w, r) - base[r["round"]] for r in mine if r["round"] in base]
            stats = [r for r in rows if r["workload"] == w and r["stats"] and r["profiler"] == p.name]
            program = {}
            for name in sorted({n for r in stats for n in r["programs"]}):
                runs = [r["programs"][name]["runs"] for r in stats if name in r["programs"]]
                ns = [r["programs"][name]["run_time_ns"] for r in stats if name in r["programs"]]
                program[name] = {"ns_per_run": median([t / n for t, n in zip(ns, runs)]),
                                 "runs": median(runs)}
            per_switch = [sum(g["run_time_ns"] for g in r["programs"].values()) / counted_switches(r)
                          for r in stats]
            summary[(w, p.name)] = {
                "per_unit": median(per_unit), "added": median(added), "added_all": added,
                "bpf_per_switch": median(per_switch), "programs": program}
    return summary


def share(a, b):
    return "n/a" if a is None or b is None or b <= 0 else f"{(a / b - 1) * 100:+.1f}%"


def markdown(summary, profs, env) -> str:
    out = []
    add = out.append
    add("| | |\n| --- | --- |")
    for key, value in env.items():
        add(f"| {key} | {value} |")
    add("")
    titles = {"pingpong": "pinned pipe ping-pong: ns per switch",
              "relay": f"relay of {RELAY_STAGES} pinned threads: ns per hand-off (a waking and a switch)"}
    for w in dict.fromkeys(w for w, _ in summary):
        add(f"### {titles[w]}\n")
        add("| profiler | wall clock | added | added, each round | BPF ns per workload switch | "
            "ns per run: sched_switch | sched_waking |")
        add("| --- | ---: | ---: | --- | ---: | ---: | ---: |")
        for p in profs:
            v = summary[(w, p.name)]
            ns = lambda value: "n/a" if value is None else f"{value:.0f}"
            run_ns = lambda prefix: ns(next((g["ns_per_run"] for n, g in v["programs"].items()
                                             if n.startswith(prefix)), None))
            each = ", ".join(f"{a:.0f}" for a in v["added_all"]) if p.name != "none" else ""
            add(f"| {p.name} | {ns(v['per_unit'])} | {ns(v['added']) if p.name != 'none' else ''} | {each} | "
                f"{ns(v['bpf_per_switch'])} | {run_ns('sched_switch')} | {run_ns('sched_waking')} |")
        d1, d4 = summary[(w, "depth 1")], summary[(w, "depth 4")]
        add("")
        add(f"depth 4 over depth 1: added wall clock {share(d4['added'], d1['added'])}, "
            f"BPF time per switch {share(d4['bpf_per_switch'], d1['bpf_per_switch'])}.")
        if (w, "baseline") in summary:
            b = summary[(w, "baseline")]
            add(f"depth 1 over the baseline: added wall clock {share(d1['added'], b['added'])}, "
                f"BPF time per switch {share(d1['bpf_per_switch'], b['bpf_per_switch'])}.")
        add("")
    return "\n".join(out)


def git_commit(binary: Path) -> str:
    tree = binary.resolve().parents[3]  # TREE/build/bindings/cli/waketrace
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return done.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds, timed and with stats (7)")
    parser.add_argument("--round-trips", type=int, default=100000, help="ping-pong round trips (100000)")
    parser.add_argument("--relay-rounds", type=int, default=5000, help="relay rounds (5000)")
    parser.add_argument("--relay-sleep-us", type=int, default=200, help="the relay's first stage's sleep (200)")
    parser.add_argument("--build", type=Path, default=suite.BUILD, help="the build tree (build/)")
    parser.add_argument("--baseline", type=Path, help="a waketrace binary from before wake chains")
    parser.add_argument("--json", type=Path, help="write every row here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("depth_cost.py: needs root (BPF)")
    waketrace = args.build / "bindings/cli/waketrace"
    targets = ["bindings/cli/waketrace", "bench/wt-pingpong", "tests/live/wt-relay"]
    built = subprocess.run(["ninja", "-C", str(args.build)] + targets, capture_output=True, text=True)
    if built.returncode != 0:
        sys.exit(f"depth_cost.py: building {', '.join(targets)} in {args.build} failed "
                 f"(wt-relay needs the tests configured):\n{built.stdout[-2000:]}")
    profs = profilers(waketrace, args.baseline)
    loads = workloads(args.build, args.round_trips, args.relay_rounds, args.relay_sleep_us)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    env = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "host": f"{platform.node()}: {cpu}, {os.cpu_count()} CPUs, kernel {platform.release()}",
           "waketrace": f"{waketrace} at {git_commit(waketrace)}",
           "baseline": f"{args.baseline} at {git_commit(args.baseline)}" if args.baseline else "none",
           "rounds": args.rounds,
           "workloads": "; ".join(" ".join([Path(a[0]).name] + a[1:]) for a in loads.values()),
           "load_before": " ".join(Path("/proc/loadavg").read_text().split()[:3])}

    def on_signal(signum, _frame):
        suite.Session.kill_all()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    workdir = Path(tempfile.mkdtemp(prefix="wt-depth-"))
    stats_before = STATS.read_text().strip()
    started = time.monotonic()
    try:
        # bench/run.py's helpers log to standard output: the markdown alone goes there.
        sys.stdout = sys.stderr
        suite.log("calibration: attach fds of each profiler")
        suite.calibrate(profs, workdir, {})
        suite.log("timed rounds")
        rows = rounds_of(profs, loads, args.rounds, workdir, with_stats=False)
        STATS.write_text("1\n")
        suite.log("rounds with kernel.bpf_stats_enabled=1")
        rows += rounds_of(profs, loads, args.rounds, workdir, with_stats=True)
    finally:
        sys.stdout = sys.__stdout__
        STATS.write_text(stats_before + "\n")
        suite.Session.kill_all()
        shutil.rmtree(workdir, ignore_errors=True)
    env["load_after"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    env["duration_s"] = round(time.monotonic() - started)
    if args.json:
        args.json.write_text(json.dumps({"environment": env, "rows": rows}, indent=1))
    print(markdown(summarize(rows, profs), profs, env))


if __name__ == "__main__":
    main()
