#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libwaketrace's benchmark suite: waketrace against the tools users would
pick instead (libbpf-tools offcputime and wakeuptime, a bpftrace script),
side by side, interleaved, on workloads with a known number of context
switches. Writes bench/RESULTS.md and bench/results.json.

    sudo /usr/bin/python3 bench/run.py            # full run, about 10 minutes
    sudo /usr/bin/python3 bench/run.py --quick    # smoke run, about 2 minutes

Needs root (BPF), a build in build/ (made by scripts/setup.sh when missing)
and the packages listed in bench/README.md. Every profiler it starts is
stopped (SIGINT, then SIGKILL after a timeout) before it exits.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BUILD = ROOT / "build"
WAKETRACE = BUILD / "bindings/cli/waketrace"
PINGPONG = BUILD / "bench/wt-pingpong"
SLEEPSTORM = BUILD / "bench/wt-sleepstorm"
SYMBENCH = BUILD / "bench/wt-symbench"
BPFTRACE_SCRIPT = BENCH / "offwaketime.bt"
READING = BENCH / "reading.md"
FINDINGS = BENCH / "findings.md"  # dated sections after the reading, kept across runs

# fds that mean "a BPF program is attached": bpf_link (tp_btf, raw_tp and
# most libbpf attachments) and perf events (bpftrace's tracepoints, and its
# per-CPU output buffers, opened in the same instant).
ATTACH_FDS = ("anon_inode:bpf_link", "anon_inode:[perf_event]")
SETTLE_S = 0.3          # after attach, before the workload: start-up work finishes
STOP_TIMEOUT_S = 120.0  # SIGINT -> exit, then SIGKILL
READY_TIMEOUT_S = 60.0


# --- profilers --------------------------------------------------------------

@dataclass
class Profiler:
    name: str
    argv: list
    ready_line: Optional[str] = None   # a line on stdout printed once attached
    catches_sigint: bool = False       # ready only once SIGINT has a handler
    attach_fds: int = 0                # calibrated: attach fds when fully attached


def profilers_available(notes: list) -> list:
    """The profilers of this run, in the interleaving order."""
    found = [Profiler("none", [])]
    found.append(Profiler("waketrace", [str(WAKETRACE)], ready_line="Tracing"))
    help_text = subprocess.run([str(WAKETRACE), "--help"], capture_output=True, text=True).stdout
    sampled = "--sample" in help_text
    for tool in ("offcputime", "wakeuptime"):
        path = shutil.which(tool) or f"/usr/sbin/{tool}"
        if os.access(path, os.X_OK):
            found.append(Profiler(tool, [path], catches_sigint=True))
        else:
            notes.append(f"{tool} not found (Debian package libbpf-tools): skipped")
    bpftrace = shutil.which("bpftrace")
    if bpftrace:
        found.append(Profiler("bpftrace", [bpftrace, str(BPFTRACE_SCRIPT)], ready_line="Tracing"))
    else:
        notes.append("bpftrace not found: skipped")
    if sampled:
        found.append(Profiler("waketrace-sample10", [str(WAKETRACE), "--sample", "10"], ready_line="Tracing"))
    else:
        notes.append("`waketrace --help` does not mention --sample: the sampled mode was not measured")
    if "--dwarf" in help_text:
        found.append(Profiler("waketrace-dwarf", [str(WAKETRACE), "--dwarf"], ready_line="Tracing"))
    else:
        notes.append("`waketrace --help` does not mention --dwarf: the DWARF mode was not measured")
    # offcputime's and wakeuptime's jobs, each against its tool, taking the
    # stacks that tool takes: offcputime both, wakeuptime the kernel's (-K).
    for mode, stacks in (("offcpu", []), ("wakeup", ["-K"])):
        if f"--{mode}" in help_text:
            found.append(Profiler(f"waketrace-{mode}", [str(WAKETRACE), f"--{mode}", *stacks], ready_line="Tracing"))
        else:
            notes.append(f"`waketrace --help` does not mention --{mode}: that mode was not measured")
    return found


def attach_fd_count(pid: int) -> int:
    count = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in ATTACH_FDS:
                    count += 1
            except OSError:
                pass
    except OSError:
        pass
    return count


def sigint_caught(pid: int) -> bool:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    except OSError:
        pass
    return False


def bpf_fdinfo(pid: int) -> tuple:
    """(maps, progs) the process holds: {id: fields} from /proc/PID/fdinfo."""
    maps, progs = {}, {}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return maps, progs
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target not in ("anon_inode:bpf-map", "anon_inode:bpf-prog"):
                continue
            fields = {}
            for line in Path(f"/proc/{pid}/fdinfo/{fd}").read_text().splitlines():
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
        except OSError:
            continue
        if target == "anon_inode:bpf-map" and "map_id" in fields:
            maps[int(fields["map_id"])] = fields
        elif "prog_id" in fields:
            progs[int(fields["prog_id"])] = fields
    return maps, progs


class Session:
    """One profiler process: started, waited for until attached, stopped."""

    live = []  # every session not yet reaped, killed on the way out

    def __init__(self, profiler: Profiler, workdir: Path, tag: str):
        self.profiler = profiler
        self.stdout_path = workdir / f"{tag}.out"
        self.stderr_path = workdir / f"{tag}.err"
        self.startup_s = None
        self.report_s = None
        self.maxrss_kb = None       # VmHWM: the peak of the profiler's own memory
        self.exit_status = None
        self.map_bytes = None
        self.attach_fds = 0
        self.proc = None

    def start(self, expect_fds: int):
        """Starts and waits until attached: `expect_fds` attach fds (0: until
        their count has not changed for a second), the ready line, SIGINT
        handled. Sets startup_s (exec -> attached)."""
        out = open(self.stdout_path, "w+b")
        err = open(self.stderr_path, "w+b")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.profiler.argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        Session.live.append(self)
        out.close()
        err.close()
        last_count, last_change = -1, t0
        while True:
            now = time.monotonic()
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.profiler.name} exited during start-up: "
                                   f"{self.stderr_path.read_text(errors='replace')[-2000:]}")
            if now - t0 > READY_TIMEOUT_S:
                raise RuntimeError(f"{self.profiler.name} not attached after {READY_TIMEOUT_S} s")
            count = attach_fd_count(self.proc.pid)
            if count != last_count:
                last_count, last_change = count, now
            line_ok = (not self.profiler.ready_line or
                       self.profiler.ready_line.encode() in self.stdout_path.read_bytes()[:4096])
            sig_ok = not self.profiler.catches_sigint or sigint_caught(self.proc.pid)
            if expect_fds:
                if count >= expect_fds and line_ok and sig_ok:
                    self.startup_s = now - t0
                    break
            elif count > 0 and line_ok and sig_ok and now - last_change >= 1.0:
                self.startup_s = last_change - t0   # calibration: when the count last grew
                break
            time.sleep(0.0005)
        self.attach_fds = last_count

    def measure_maps(self):
        maps, _ = bpf_fdinfo(self.proc.pid)
        self.map_bytes = sum(int(m.get("memlock", 0)) for m in maps.values())
        self._sample_hwm()

    def _sample_hwm(self):
        # VmHWM, not wait4's ru_maxrss: the latter also counts the RSS of the
        # process that forked the profiler (this Python), carried over exec.
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.maxrss_kb = max(self.maxrss_kb or 0, int(line.split()[1]))
        except (OSError, ValueError):
            pass

    def stop(self):
        """SIGINT, then wait for the exit: report_s; VmHWM sampled every
        half millisecond until the process is gone gives the peak RSS."""
        if self.proc is None or self.proc.returncode is not None:
            return
        t1 = time.monotonic()
        os.kill(self.proc.pid, signal.SIGINT)
        while True:
            self._sample_hwm()
            pid, status, _ = os.wait4(self.proc.pid, os.WNOHANG)
            if pid == self.proc.pid:
                self.report_s = time.monotonic() - t1
                self.exit_status = os.waitstatus_to_exitcode(status)
                self.proc.returncode = self.exit_status
                break
            if time.monotonic() - t1 > STOP_TIMEOUT_S:
                os.kill(self.proc.pid, signal.SIGKILL)
                os.wait4(self.proc.pid, 0)
                self.proc.returncode = -9
                raise RuntimeError(f"{self.profiler.name}: no report {STOP_TIMEOUT_S} s after SIGINT")
            time.sleep(0.0005)
        Session.live.remove(self)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    @staticmethod
    def kill_all():
        for session in list(Session.live):
            if session.proc and session.proc.poll() is None:
                session.proc.kill()
                session.proc.wait()
        Session.live.clear()


# --- workloads --------------------------------------------------------------

@dataclass
class Workload:
    name: str
    title: str
    argv: list
    switches: int


def workloads(round_trips: int) -> list:
    n = str(round_trips)
    return [
        Workload("pipe-same", f"pipe ping-pong, both threads on CPU 0, {round_trips} round trips",
                 [str(PINGPONG), "-m", "pipe", "-c", "same", "-n", n], 2 * round_trips),
        Workload("perf-pipe", f"`taskset -c 0 perf bench sched pipe -l {round_trips}` (two processes, one CPU)",
                 ["taskset", "-c", "0", "perf", "bench", "sched", "pipe", "-l", n], 2 * round_trips),
        Workload("futex-same", f"futex ping-pong, both threads on CPU 0, {round_trips} round trips",
                 [str(PINGPONG), "-m", "futex", "-c", "same", "-n", n], 2 * round_trips),
    ]


def run_workload(workload: Workload) -> float:
    """Runs it; returns its elapsed time in ns as the workload itself measured it."""
    done = subprocess.run(workload.argv, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{workload.name} failed: {done.stderr}")
    found = re.search(r"elapsed_ns=(\d+)", done.stdout)
    if found:
        return float(found.group(1))
    found = re.search(r"([\d.]+)\s+usecs/op", done.stdout)   # perf bench sched pipe
    if found:
        return float(found.group(1)) * 1000.0 * (workload.switches // 2)
    raise RuntimeError(f"{workload.name}: no time in its output: {done.stdout}")


# --- phases -----------------------------------------------------------------

def log(message: str):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def drop_caches():
    subprocess.run(["sync"])
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def calibrate(profilers, workdir, results):
    """Per profiler: start, learn how many attach fds it ends with, stop."""
    for p in profilers:
        if p.name == "none":
            continue
        s = Session(p, workdir, f"calibrate-{p.name}")
        try:
            s.start(expect_fds=0)
        finally:
            s.stop()
        p.attach_fds = s.attach_fds
        log(f"  {p.name}: {p.attach_fds} attach fds")
    results["attach_fds"] = {p.name: p.attach_fds for p in profilers if p.name != "none"}


def with_pid(p: Profiler, pid: int) -> Profiler:
    """The same profiler limited to one process (bpftrace: the script's $1)."""
    extra = [str(pid)] if p.name == "bpftrace" else ["-p", str(pid)]
    return Profiler(p.name, p.argv + extra, p.ready_line, p.catches_sigint, p.attach_fds)


def pingpong_profile(profilers, round_trips, rounds, workdir, allow_drop, results):
    """The ping-pong profile: each profiler limited to the pinned pipe
    ping-pong's pid (so what else runs on the machine does not change the
    report), interleaved; round 0 runs right after dropping the page cache
    (cold). Report time, peak RSS, map memory, start-up."""
    rows = []
    for r in range(rounds):
        for p in profilers:
            if p.name == "none":
                continue
            if r == 0 and allow_drop:
                drop_caches()
            work = subprocess.Popen([str(PINGPONG), "-m", "pipe", "-c", "same", "-n", str(round_trips), "-w"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            s = Session(with_pid(p, work.pid), workdir, f"pid{r}-{p.name}")
            try:
                s.start(expect_fds=p.attach_fds)
                time.sleep(SETTLE_S)
                output, _ = work.communicate("go\n", timeout=600)
                s.measure_maps()
            finally:
                s.stop()
                if work.poll() is None:
                    work.kill()
                    work.wait()
            rows.append({"round": r, "cold": r == 0 and allow_drop, "profiler": p.name,
                         "startup_s": s.startup_s, "report_s": s.report_s, "maxrss_kb": s.maxrss_kb,
                         "map_bytes": s.map_bytes, "report_bytes": s.stdout_path.stat().st_size,
                         "workload": output.strip()})
            log(f"  {'cold' if r == 0 and allow_drop else 'warm'} {p.name}: attached after "
                f"{s.startup_s * 1000:.0f} ms, report {s.report_s * 1000:.0f} ms, peak RSS {s.maxrss_kb / 1024:.1f} MiB")
    results["pingpong_profile"] = rows


def interleaved(profilers, loads, rounds, workdir, results):
    """rounds x (workload x profiler), A B C A B C: times, start-up, report,
    RSS, map memory for every session."""
    rows = []
    for r in range(rounds):
        for w in loads:
            for p in profilers:
                row = {"round": r, "workload": w.name, "profiler": p.name, "switches": w.switches}
                if p.name == "none":
                    row["elapsed_ns"] = run_workload(w)
                else:
                    s = Session(p, workdir, f"r{r}-{w.name}-{p.name}")
                    try:
                        s.start(expect_fds=p.attach_fds)
                        time.sleep(SETTLE_S)
                        row["elapsed_ns"] = run_workload(w)
                        s.measure_maps()
                    finally:
                        s.stop()
                    row.update(startup_s=s.startup_s, report_s=s.report_s, maxrss_kb=s.maxrss_kb,
                               map_bytes=s.map_bytes, exit_status=s.exit_status,
                               report_bytes=s.stdout_path.stat().st_size)
                    s.stdout_path.unlink()
                rows.append(row)
            log(f"  round {r + 1}/{rounds} {w.name}: " + ", ".join(
                f"{row['profiler']} {row['elapsed_ns'] / 1e6:.0f} ms"
                for row in rows if row["round"] == r and row["workload"] == w.name))
    results["sessions"] = rows


def bpf_stats(profilers, workload, workdir) -> dict:
    """Per-invocation cost of each BPF program, from the kernel's own
    accounting (kernel.bpf_stats_enabled), while the ping-pong runs."""
    sysctl = Path("/proc/sys/kernel/bpf_stats_enabled")
    before = sysctl.read_text().strip()
    stats = {}
    try:
        sysctl.write_text("1\n")
        for p in profilers:
            if p.name == "none":
                continue
            s = Session(p, workdir, f"stats-{p.name}")
            try:
                s.start(expect_fds=p.attach_fds)
                time.sleep(SETTLE_S)
                _, first = bpf_fdinfo(s.proc.pid)
                elapsed = run_workload(workload)
                _, second = bpf_fdinfo(s.proc.pid)
                names = program_names()
            finally:
                s.stop()
            progs = []
            for prog_id, fields in second.items():
                runs = int(fields.get("run_cnt", 0)) - int(first.get(prog_id, {}).get("run_cnt", 0))
                ns = int(fields.get("run_time_ns", 0)) - int(first.get(prog_id, {}).get("run_time_ns", 0))
                if runs > 0:
                    progs.append({"id": prog_id, "name": names.get(prog_id, f"prog {prog_id}"),
                                  "runs": runs, "run_time_ns": ns, "ns_per_run": ns / runs})
            stats[p.name] = {"elapsed_ns": elapsed, "switches": workload.switches, "programs": progs}
            log(f"  bpf stats {p.name}: " + ", ".join(
                f"{g['name']} {g['ns_per_run']:.0f} ns x {g['runs']}" for g in progs))
    finally:
        sysctl.write_text(before + "\n")
    return stats


# What one capture costs, alone: bpftrace probes on sched_switch that take
# nothing, a kernel stack, a user stack, or both (stack ids into a map, as
# every tool here does). END clears the map: no report to symbolize.
STACK_PROBES = {
    "nothing (count)": "@s = count();",
    "kernel stack": "@s[kstack] = count();",
    "user stack": "@s[ustack] = count();",
    "kernel + user stack": "@s[kstack, ustack] = count();",
}


def stack_anatomy_profilers() -> list:
    bpftrace = shutil.which("bpftrace")
    if not bpftrace:
        return []
    return [Profiler(name, [bpftrace, "-e", 'BEGIN { printf("Tracing\\n"); } '
                            f"tracepoint:sched:sched_switch {{ {body} }} END {{ clear(@s); }}"], ready_line="Tracing")
            for name, body in STACK_PROBES.items()]


_names_cache = {}


def program_names() -> dict:
    """Program ids -> names, from bpftool (fdinfo has no name)."""
    done = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    try:
        for prog in json.loads(done.stdout or "[]"):
            _names_cache[prog["id"]] = prog.get("name", "")
    except json.JSONDecodeError:
        pass
    return _names_cache


def losses(profilers, heavy_argv, workdir, results):
    """The heaviest load (a storm of short sleeps from many threads, with a
    ping-pong beside it): what each profiler says it lost, per cause."""
    lost = {}
    for p in profilers:
        if p.name not in ("waketrace", "waketrace-sample10", "waketrace-dwarf", "waketrace-offcpu",
                          "waketrace-wakeup", "bpftrace"):
            continue
        s = Session(p, workdir, f"losses-{p.name}")
        try:
            s.start(expect_fds=p.attach_fds)
            time.sleep(SETTLE_S)
            procs = [subprocess.Popen(argv, stdout=subprocess.DEVNULL) for argv in heavy_argv]
            for proc in procs:
                proc.wait(timeout=600)
        finally:
            s.stop()
        text = s.stderr()
        causes = {}
        if p.name.startswith("waketrace"):
            for m in re.finditer(r"^WARNING: (\d+) (.*?) \(", text, re.M):
                causes[m.group(2)] = int(m.group(1))
        else:
            collisions = len(re.findall(r"failed to look up stack id", text))
            if collisions:
                causes["stacks printed as lookup errors (stack id collisions / misses)"] = collisions
            for m in re.finditer(r"Lost (\d+) events", text):
                causes["events lost (output buffer)"] = causes.get("events lost (output buffer)", 0) + int(m.group(1))
        lost[p.name] = causes
        log(f"  losses {p.name}: {causes or 'none reported'}")
    results["losses"] = {"workload": [" ".join([Path(a[0]).name] + a[1:]) for a in heavy_argv],
                         "by_profiler": lost}


def symbolization(repeats, max_addresses, workdir, results):
    """Addresses per second: waketrace's Symbolizer (cold: new object; warm:
    second call) against eu-addr2line --pid and addr2line -e on the same
    function addresses of a live process (wt-symbench itself)."""
    rows = []
    for i in range(repeats):
        out = workdir / f"sym{i}"
        out.mkdir()
        bench = subprocess.Popen([str(SYMBENCH), str(out), str(max_addresses)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        try:
            mine = json.loads(bench.stdout.readline())
            n = mine["addresses"]
            with open(out / "addresses.txt") as addresses:
                t = time.monotonic()
                eu = subprocess.run(["eu-addr2line", "--pid", str(mine["pid"]), "-f", "-C"], stdin=addresses,
                                    capture_output=True, text=True, timeout=600)
                eu_s = time.monotonic() - t
            eu_named = sum(1 for line in eu.stdout.splitlines()[0::2] if line and line != "??")
            modules = (out / "modules.txt").read_text().splitlines()
            binutils_s, binutils_named = 0.0, 0
            for m, path in enumerate(modules):
                with open(out / f"module-{m}.txt") as addresses:
                    t = time.monotonic()
                    bu = subprocess.run(["addr2line", "-f", "-C", "-e", path], stdin=addresses,
                                        capture_output=True, text=True, timeout=600)
                    binutils_s += time.monotonic() - t
                binutils_named += sum(1 for line in bu.stdout.splitlines()[0::2] if line and line != "??")
        finally:
            bench.stdin.close()
            bench.wait(timeout=60)
        rows.append({"addresses": n, "modules": len(modules),
                     "waketrace_cold_s": mine["cold_s"], "waketrace_warm_s": mine["warm_s"],
                     "waketrace_named": mine["resolved"], "eu_addr2line_s": eu_s, "eu_addr2line_named": eu_named,
                     "addr2line_s": binutils_s, "addr2line_named": binutils_named})
        log(f"  symbolization {i + 1}/{repeats}: {n} addresses: waketrace cold {mine['cold_s'] * 1000:.1f} ms, "
            f"warm {mine['warm_s'] * 1000:.1f} ms; eu-addr2line {eu_s * 1000:.0f} ms; addr2line {binutils_s * 1000:.0f} ms")
    results["symbolization"] = rows


# --- the report -------------------------------------------------------------

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(results) -> dict:
    """Medians per (workload, profiler), added ns per switch as the median of
    the per-round differences with the same round's run without a profiler."""
    rows = results["sessions"]
    summary = {}
    for w in dict.fromkeys(r["workload"] for r in rows):
        base = {r["round"]: r["elapsed_ns"] for r in rows if r["workload"] == w and r["profiler"] == "none"}
        for p in dict.fromkeys(r["profiler"] for r in rows):
            mine = [r for r in rows if r["workload"] == w and r["profiler"] == p]
            added = [(r["elapsed_ns"] - base[r["round"]]) / r["switches"] for r in mine if r["round"] in base]
            slow = [r["elapsed_ns"] / base[r["round"]] for r in mine if r["round"] in base]
            summary[(w, p)] = {
                "elapsed_ns": median([r["elapsed_ns"] for r in mine]),
                "ns_per_switch": median([r["elapsed_ns"] / r["switches"] for r in mine]),
                "added_ns": median(added), "added_all": added, "slowdown": median(slow),
                "startup_s": median([r.get("startup_s") for r in mine]),
                "report_s": median([r.get("report_s") for r in mine]),
                "maxrss_kb": median([r.get("maxrss_kb") for r in mine]),
                "map_bytes": median([r.get("map_bytes") for r in mine]),
                "report_bytes": median([r.get("report_bytes") for r in mine]),
            }
    return summary


def fmt(value, spec=".0f", unit=""):
    return "n/a" if value is None else f"{value:{spec}}{unit}"


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


def verdict(value, limit, at_most=True):
    if value is None:
        return "not measured"
    ok = value <= limit if at_most else value >= limit
    return "**met**" if ok else "**not met**"


def write_results(results, path: Path):
    s = summarize(results)
    profs = list(dict.fromkeys(r["profiler"] for r in results["sessions"]))
    loads = list(dict.fromkeys(r["workload"] for r in results["sessions"]))
    env = results["environment"]
    out = []
    add = out.append
    add("# libwaketrace benchmark results\n")
    add("Generated by `bench/run.py` (see bench/README.md for what each number means); the reading at the "
        "end is written by hand from these numbers.\n")
    add("| | |\n| --- | --- |")
    for key in ("date", "kernel", "commit", "cpu", "cpus", "mode", "rounds", "round_trips",
                "load_before", "load_after_rounds", "duration_s", "waketrace_help_has_sample"):
        add(f"| {key} | {env.get(key)} |")
    add("")
    for note in results["notes"]:
        add(f"- {note}")
    add("")

    add("## Added cost per context switch\n")
    add(f"Medians of {env['rounds']} interleaved rounds (A B C A B C); *added* = median over rounds of "
        "(time with the profiler - time without, same round) / context switches; every profiler traces "
        "the whole system, and is attached before the workload starts. *x offcputime* and *x bpftrace* "
        "divide added costs.\n")
    for w in loads:
        title = next((wl.title for wl in workloads(env["round_trips"]) if wl.name == w), w)
        add(f"### {w}: {title}\n")
        add("| profiler | median time | ns/switch | added ns/switch | slowdown | x offcputime | x bpftrace |")
        add("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        oc = s.get((w, "offcputime"), {}).get("added_ns")
        bt = s.get((w, "bpftrace"), {}).get("added_ns")
        for p in profs:
            v = s[(w, p)]
            add(f"| {p} | {fmt(v['elapsed_ns'] / 1e6, '.1f', ' ms')} | {fmt(v['ns_per_switch'])} | "
                f"{fmt(v['added_ns'])} | {fmt(v['slowdown'], '.2f', 'x')} | "
                f"{fmt(ratio(v['added_ns'], oc) if p != 'none' else None, '.2f')} | "
                f"{fmt(ratio(v['added_ns'], bt) if p != 'none' else None, '.2f')} |")
        add("")

    add("## Start-up, memory, report\n")
    pp = results.get("pingpong_profile", [])
    add("*Ping-pong profile*: each profiler limited to the pinned pipe ping-pong's process (`-p PID`; the "
        "bpftrace script's `$1`), so the report does not depend on what else runs; medians of the warm rounds, "
        "and *cold*: the first round, right after `echo 3 > /proc/sys/vm/drop_caches`. *System-wide*: medians "
        "of the pipe-same sessions above, whose reports cover every process on the machine. Start-up: exec to "
        "every BPF program attached (attach fds all open, the ready line printed, SIGINT handled). Report: "
        "SIGINT to process exit with the full report written (symbolization included). Peak RSS: `VmHWM` of "
        "/proc/PID/status, sampled until exit. Maps: sum of `memlock` of the BPF maps the process holds.\n")
    add("| profiler | start-up warm | start-up cold | report warm | report cold | peak RSS | map memory "
        "| system-wide: start-up | report | report size | peak RSS |")
    add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    ms = lambda v: fmt(v and v * 1000, ".0f", " ms")
    mib = lambda v: fmt(v and v / 1024, ".1f", " MiB")
    for p in profs:
        if p == "none":
            continue
        warm = [r for r in pp if r["profiler"] == p and not r["cold"]]
        cold = [r for r in pp if r["profiler"] == p and r["cold"]]
        v = s[("pipe-same", p)]
        add(f"| {p} | {ms(median([r['startup_s'] for r in warm]))} | {ms(median([r['startup_s'] for r in cold]))} | "
            f"{ms(median([r['report_s'] for r in warm]))} | {ms(median([r['report_s'] for r in cold]))} | "
            f"{mib(median([r['maxrss_kb'] for r in warm]))} | "
            f"{fmt(median([r['map_bytes'] for r in warm]) and median([r['map_bytes'] for r in warm]) / 2**20, '.1f', ' MiB')} | "
            f"{ms(v['startup_s'])} | {ms(v['report_s'])} | "
            f"{fmt(v['report_bytes'] and v['report_bytes'] / 1024, '.0f', ' KiB')} | {mib(v['maxrss_kb'])} |")
    add("")

    sym = results.get("symbolization", [])
    if sym:
        add("## Symbolization throughput\n")
        n = sym[0]["addresses"]
        add(f"{n} function addresses (one inside each function symbol) of {sym[0]['modules']} ELF files mapped by a "
            "live process (`wt-symbench`: its own binary, libc, libstdc++, libelf, libfmt...), medians of "
            f"{len(sym)} runs. waketrace: `Symbolizer::user_frames` on a new Symbolizer (cold: reads /proc/PID/maps, "
            "the ELF files and their symbol tables) and again on the same one (warm: its caches). "
            "`eu-addr2line --pid PID -f -C` and `addr2line -f -C -e FILE` (one run per file, times summed) "
            "are timed as processes, start-up included, which is what a user of them pays.\n")
        add("| symbolizer | time | addresses/s | named | x eu-addr2line |")
        add("| --- | ---: | ---: | ---: | ---: |")
        eu_rate = n / median([r["eu_addr2line_s"] for r in sym])
        for label, key, named in (("waketrace cold", "waketrace_cold_s", "waketrace_named"),
                                  ("waketrace warm", "waketrace_warm_s", "waketrace_named"),
                                  ("eu-addr2line", "eu_addr2line_s", "eu_addr2line_named"),
                                  ("addr2line", "addr2line_s", "addr2line_named")):
            t = median([r[key] for r in sym])
            add(f"| {label} | {t * 1000:.1f} ms | {n / t:,.0f} | {median([r[named] for r in sym]):.0f} | "
                f"{(n / t) / eu_rate:.1f} |")
        add("")

    st = results.get("bpf_stats", {})
    if st:
        add("## Per-invocation cost of each BPF program\n")
        add("`kernel.bpf_stats_enabled=1` during one pipe-same run per profiler (then restored); `run_time_ns / "
            "run_cnt` from the program's fdinfo, counted over the workload only. *per switch* = the program's "
            "total run time / the workload's context switches (the programs also run for the rest of the system, "
            "so this slightly overstates the workload's share).\n")
        add("| profiler | program | runs | ns per run | ns per workload switch |")
        add("| --- | --- | ---: | ---: | ---: |")
        for p, v in st.items():
            total = 0
            for g in sorted(v["programs"], key=lambda g: -g["run_time_ns"]):
                total += g["run_time_ns"]
                add(f"| {p} | {g['name']} | {g['runs']} | {g['ns_per_run']:.0f} | "
                    f"{g['run_time_ns'] / v['switches']:.0f} |")
            add(f"| {p} | **all** | | | **{total / v['switches']:.0f}** |")
        add("")

    an = results.get("stack_anatomy", {})
    if an:
        add("### The cost of one capture\n")
        add("One bpftrace probe on `sched_switch`, same conditions, taking nothing or one kind of stack "
            "(`@s[kstack] = count()`...): what a stack capture costs by itself on this kernel.\n")
        add("| probe body | runs | ns per run |")
        add("| --- | ---: | ---: |")
        for name, v in an.items():
            for g in v["programs"]:
                if g["name"] != "BEGIN" and g["runs"] > 1:
                    add(f"| {name} | {g['runs']} | {g['ns_per_run']:.0f} |")
        add("")

    lo = results.get("losses")
    if lo:
        add("## Losses under the heaviest workload\n")
        add("Workload, all at once: " + "; ".join(f"`{w}`" for w in lo["workload"]) +
            ". waketrace reports each loss cause on stderr (a WARNING line per cause); bpftrace prints stack "
            "lookup errors; offcputime and wakeuptime lose silently (a full stack map gives `[Missed ... Stack]`).\n")
        add("| profiler | cause | count |")
        add("| --- | --- | ---: |")
        for p, causes in lo["by_profiler"].items():
            if not causes:
                add(f"| {p} | none reported | 0 |")
            for cause, count in causes.items():
                add(f"| {p} | {cause} | {count} |")
        add("")

    add("## The targets\n")
    add("Issue 14's, each mode against the tool that does its job; then the first wave's that still apply.\n")
    add("| target | measured | verdict |")
    add("| --- | --- | --- |")
    added = lambda w, p: s.get((w, p), {}).get("added_ns")
    for w in ("pipe-same", "perf-pipe", "futex-same"):
        for profiler, label, tool, target in (
                ("waketrace", "default (offwaketime's job)", "offcputime", 1.0),
                ("waketrace-offcpu", "--offcpu", "offcputime", 0.8),
                ("waketrace-wakeup", "--wakeup", "wakeuptime", 1.0),
                ("waketrace-sample10", "--sample 10", "offcputime", 0.20),
                ("waketrace-dwarf", "--dwarf", "offcputime", 1.5)):
            ours, theirs = added(w, profiler), added(w, tool)
            if ours is None or theirs is None:
                add(f"| {w}: {label} <= {target}x {tool} | not measured | - |")
                continue
            r = ratio(ours, theirs)
            add(f"| {w}: {label} <= {target}x {tool} | {fmt(ours)} vs {fmt(theirs)} ns = {fmt(r, '.2f', 'x')} | "
                f"{verdict(r, target)} |")
    warm_of = lambda p, key: median([r[key] for r in results.get("pingpong_profile", [])
                                     if r["profiler"] == p and not r["cold"]])
    wm, om = warm_of("waketrace", "map_bytes"), warm_of("offcputime", "map_bytes")
    add(f"| BPF map memory at defaults <= offcputime's, ping-pong profile | {fmt(wm and wm / 2**20, '.1f')} vs "
        f"{fmt(om and om / 2**20, '.1f')} MiB | {verdict(ratio(wm, om), 1.0)} |")
    ps = s.get(("pipe-same", "waketrace"), {})
    po = s.get(("pipe-same", "offcputime"), {})
    r = ratio(ps.get("startup_s"), po.get("startup_s"))
    add(f"| start-up <= 0.5x offcputime (system-wide) | {fmt(ps.get('startup_s') and ps['startup_s'] * 1000)} vs "
        f"{fmt(po.get('startup_s') and po['startup_s'] * 1000)} ms = {fmt(r, '.2f', 'x')} | {verdict(r, 0.5)} |")
    rep = ps.get("report_s")
    add(f"| report after stop <= 30 ms, system-wide (pipe-same sessions) | {fmt(rep and rep * 1000)} ms | "
        f"{verdict(rep, 0.030)} |")
    wr, orss = warm_of("waketrace", "maxrss_kb"), warm_of("offcputime", "maxrss_kb")
    r = ratio(wr, orss)
    add(f"| peak RSS <= 1.2x offcputime, ping-pong profile | {fmt(wr and wr / 1024, '.1f')} vs "
        f"{fmt(orss and orss / 1024, '.1f')} MiB = {fmt(r, '.2f', 'x')} | {verdict(r, 1.2)} |")
    for w in ("pipe-same", "perf-pipe"):
        ours, theirs = added(w, "waketrace"), added(w, "bpftrace")
        r = ratio(ours, theirs)
        add(f"| {w}: default <= 0.5x the bpftrace script | {fmt(ours)} vs {fmt(theirs)} ns = "
            f"{fmt(r, '.2f', 'x')} | {verdict(r, 0.5)} |")
    rep = warm_of("waketrace", "report_s")
    add(f"| report after stop <= 100 ms, ping-pong profile, warm | {fmt(rep and rep * 1000)} ms | "
        f"{verdict(rep, 0.100)} |")
    if sym:
        n = sym[0]["addresses"]
        cold_rate = n / median([r["waketrace_cold_s"] for r in sym])
        eu_rate = n / median([r["eu_addr2line_s"] for r in sym])
        add(f"| symbolization >= 10x eu-addr2line (cold Symbolizer) | {cold_rate:,.0f} vs {eu_rate:,.0f} addresses/s "
            f"= {cold_rate / eu_rate:.1f}x | {verdict(cold_rate / eu_rate, 10, at_most=False)} |")
    add("")

    add("## Reading\n")
    if READING.exists():
        add(READING.read_text().strip() + "\n")
    else:
        add("(bench/reading.md not written yet.)\n")
    # The dated sections of other runs and scripts, written by hand.
    if FINDINGS.exists():
        add(FINDINGS.read_text().strip() + "\n")
    path.write_text("\n".join(out))


# --- main -------------------------------------------------------------------

def environment(args, round_trips) -> dict:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "kernel": platform.release(),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "cpu": cpu, "cpus": os.cpu_count(),
        "mode": "quick" if args.quick else "full",
        "rounds": args.rounds, "round_trips": round_trips,
        "load_before": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def build(notes: list):
    if not (BUILD / "build.ninja").exists():
        log("no build/: running scripts/setup.sh")
        subprocess.run([str(ROOT / "scripts/setup.sh")], check=True)
    binaries = (WAKETRACE, PINGPONG, SLEEPSTORM, SYMBENCH)
    done = subprocess.run(["ninja", "-C", str(BUILD)] + [str(t.relative_to(BUILD)) for t in binaries],
                          capture_output=True, text=True)
    if done.returncode != 0:
        if not all(t.exists() for t in binaries):
            sys.exit(f"run.py: build failed:\n{done.stdout[-3000:]}")
        notes.append("the build failed (a tree being edited?): measured the binaries already built")
        log("build failed; using the binaries already built")


def preflight():
    if os.geteuid() != 0:
        sys.exit("run.py: needs root (BPF): sudo /usr/bin/python3 bench/run.py")
    tracing = Path("/sys/kernel/tracing")
    if tracing.is_dir() and not any(tracing.iterdir()):
        subprocess.run(["mount", "-t", "tracefs", "tracefs", str(tracing)], check=False)
    for tool in ("perf", "bpftool", "eu-addr2line", "addr2line", "ninja"):
        if not shutil.which(tool):
            sys.exit(f"run.py: {tool} not found: install the packages listed in bench/README.md")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 rounds, small workloads (~2 min)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 5, --quick 2)")
    parser.add_argument("--round-trips", type=int, help="ping-pong round trips per run (default 100000)")
    parser.add_argument("--no-drop-caches", action="store_true", help="skip the cold runs' page cache drop")
    parser.add_argument("--output", type=Path,
                        help="default bench/RESULTS.md (--quick: /tmp/waketrace-bench-quick/RESULTS.md)")
    parser.add_argument("--rewrite", action="store_true",
                        help="only regenerate the output from bench/results.json (e.g. after editing reading.md)")
    args = parser.parse_args()
    if args.output is None:
        args.output = Path("/tmp/waketrace-bench-quick/RESULTS.md") if args.quick else BENCH / "RESULTS.md"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    json_path = args.output.with_name("results.json")
    if args.rewrite:
        write_results(json.loads(json_path.read_text()), args.output)
        return
    args.rounds = args.rounds or (2 if args.quick else 5)
    round_trips = args.round_trips or (20000 if args.quick else 100000)

    preflight()
    notes = []
    build(notes)
    started = time.monotonic()
    profilers = profilers_available(notes)
    loads = workloads(round_trips)
    results = {"environment": environment(args, round_trips), "notes": notes}
    results["environment"]["waketrace_help_has_sample"] = any(p.name == "waketrace-sample10" for p in profilers)
    workdir = Path(tempfile.mkdtemp(prefix="wt-bench-"))
    heavy = [[str(SLEEPSTORM), "-t", "500" if args.quick else "2000", "-n", "50" if args.quick else "100", "-s", "1000"],
             [str(PINGPONG), "-m", "pipe", "-c", "none", "-n", str(round_trips)],
             ["perf", "bench", "sched", "pipe", "-l", str(round_trips)]]

    def on_signal(signum, _frame):
        Session.kill_all()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        log(f"profilers: {', '.join(p.name for p in profilers)}; {args.rounds} rounds of {round_trips} round trips")
        log("calibration: attach fds of each profiler")
        calibrate(profilers, workdir, results)
        log("the ping-pong profile (-p PID): report, memory; round 1 cold")
        pingpong_profile(profilers, round_trips, 2 if args.quick else 4, workdir, not args.no_drop_caches, results)
        log("interleaved rounds, system-wide")
        interleaved(profilers, loads, args.rounds, workdir, results)
        results["environment"]["load_after_rounds"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        log("BPF program run-time statistics")
        results["bpf_stats"] = bpf_stats(profilers, loads[0], workdir)
        log("the cost of one stack capture (bpftrace probes)")
        results["stack_anatomy"] = bpf_stats(stack_anatomy_profilers(), loads[0], workdir)
        log("losses under the heaviest workload")
        losses(profilers, heavy, workdir, results)
        log("symbolization throughput")
        symbolization(1 if args.quick else 5, 20000, workdir, results)
    finally:
        Session.kill_all()
        shutil.rmtree(workdir, ignore_errors=True)
    results["environment"]["load_after"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    results["environment"]["duration_s"] = round(time.monotonic() - started)
    json_path.write_text(json.dumps(results, indent=1, default=str))
    write_results(results, args.output)
    log(f"wrote {args.output} and {json_path} in {results['environment']['duration_s']} s")


if __name__ == "__main__":
    main()
