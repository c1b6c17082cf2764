# SPDX-License-Identifier: LGPL-2.1-or-later
"""The waketrace command end to end: offwaketime's options and layouts, the
`-- COMMAND` mode, signals, and its exit statuses."""
import os
import re
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import time

from conftest import folded_lines, parse_folded, run

ROUNDS = 20
SLEEP_MS = 10


def test_folded_output_of_a_command(waketrace, demo, privileged):
    result = run([waketrace, "-f", "--", demo, str(ROUNDS), str(SLEEP_MS)])
    assert result.returncode == 0, result.stderr
    lines = folded_lines(result.stdout)
    # Only the demo's own output and folded lines: no header in -f mode.
    chains = [parse_folded(l) for l in lines if not l.startswith("waketrace-demo:")]
    assert chains
    totals = [value for _, _, value in chains]
    assert totals == sorted(totals)
    pong_from_ping = [
        (target, waker, value)
        for target, waker, value in chains
        if target[0] == "demo-pong" and waker[-1] == "demo-ping"
        and any("pipe_read" in f for f in target) and any("pipe_write" in f for f in waker)
    ]
    assert pong_from_ping, "\n".join(lines)
    # pong waits for ping's sleep each round: about ROUNDS * SLEEP_MS in total.
    waited_us = sum(value for _, _, value in pong_from_ping)
    assert 0.8 * ROUNDS * SLEEP_MS * 1000 <= waited_us <= 1.5 * ROUNDS * SLEEP_MS * 1000
    for target, waker, _ in pong_from_ping:
        # Target frames run root first: the deepest kernel frame is last.
        assert target.index(next(f for f in target if "pipe_read" in f)) > 1
        # Waker frames run from the wake point outward, comm last.
        assert waker[-1] == "demo-ping"


def test_text_output_layout(waketrace, demo, privileged):
    result = run([waketrace, "--", demo, "5", "5"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Tracing blocked time (us) by user + kernel off-CPU and waker stack")
    blocks = [b for b in out.split("\n\n") if "target:" in b]
    assert blocks
    for block in blocks:
        lines = block.strip("\n").splitlines()
        lines = [l for l in lines if not l.startswith(("Tracing", "waketrace-demo:"))]
        assert re.match(r"^    waker:\s{11}\S", lines[0]), lines[0]
        assert "    --               --" in lines
        assert re.match(r"^    target:\s{10}\S+ \d+$", lines[-2]), lines[-2]
        assert re.match(r"^        \d+$", lines[-1]), lines[-1]
    assert any("demo-pong" in b and "demo-ping" in b and "pipe_read" in b for b in blocks)


def test_command_is_traced_from_its_start_and_only_it(waketrace, demo, privileged):
    result = run([waketrace, "-f", "--", demo, "3", "5"])
    assert result.returncode == 0, result.stderr
    chains = [parse_folded(l) for l in folded_lines(result.stdout) if not l.startswith("waketrace-demo:")]
    targets = {target[0] for target, _, _ in chains}
    assert targets <= {"waketrace-demo", "demo-ping", "demo-pong", "waketrace"}, targets
    # "waketrace" is the command's own process before its exec replaced the
    # comm: inside the execve (a slow disk, a sanitizer build), faulting in
    # a page on its way there (seen on a slow guest), or preempted. Never
    # the tracer's own threads, which wait in poll and futexes.
    tracer_waits = ("ep_poll", "do_sys_poll", "futex_wait")
    for target, waker, _ in chains:
        if target[0] == "waketrace":
            assert not any(wait in frame for frame in target for wait in tracer_waits), (target, waker)


def test_the_command_exit_status_is_passed_on(waketrace, privileged):
    assert run([waketrace, "-f", "--", "sh", "-c", "exit 3"]).returncode == 3
    killed = run([waketrace, "-f", "--", "sh", "-c", "kill -TERM $$"])
    assert killed.returncode == 128 + signal.SIGTERM, killed.stderr


def test_a_command_that_cannot_run_exits_127_saying_why(waketrace, privileged):
    result = run([waketrace, "-f", "--", "/nonexistent/command"])
    assert result.returncode == 127
    assert "waketrace: cannot run /nonexistent/command: No such file or directory" in result.stderr


def test_processes_the_command_forks_are_traced(waketrace, privileged):
    # The shell forks sleep (and dash's vfork child execs it): its 100 ms
    # nanosleep must be there, woken by the timer.
    result = run([waketrace, "-f", "--", "sh", "-c", "sleep 0.1 & wait"])
    assert result.returncode == 0, result.stderr
    chains = [parse_folded(l) for l in folded_lines(result.stdout)]
    slept = [
        value for target, waker, value in chains
        if target[0] == "sleep" and any("nanosleep" in f for f in target) and waker[-1].startswith("[")
    ]
    assert slept and 90_000 <= sum(slept) <= 400_000, result.stdout
    # Grandchildren too: sh runs sh which runs sleep.
    nested = run([waketrace, "-f", "--", "sh", "-c", "sh -c 'sleep 0.1; true' & wait"])
    assert nested.returncode == 0, nested.stderr
    assert any(target[0] == "sleep" for target, _, _ in map(parse_folded, folded_lines(nested.stdout)))


def test_duration_and_output_file(waketrace, privileged, tmp_path):
    out = tmp_path / "profile.folded"
    started = time.monotonic()
    result = run([waketrace, "-f", "-o", str(out), "-p", str(os.getpid()), "1"])
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert 0.9 <= elapsed < 10
    assert out.exists()
    assert result.stdout == ""


def test_sigint_ends_tracing_and_prints(waketrace, demo, privileged):
    # -v says when the tracepoints are attached: loading takes seconds on a
    # slow (emulated) machine, and a SIGINT before then ends an empty trace.
    child = subprocess.Popen([waketrace, "-v", "-f", "-p", str(os.getpid())],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = []
    while not any("attached to sched_switch" in line for line in log):
        line = child.stderr.readline()
        assert line, f"waketrace ended before attaching: {''.join(log)}"
        log.append(line)
    time.sleep(0.05)  # a block of this test's own thread while traced
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=30)
    assert child.returncode == 0, stderr
    assert any(line.startswith("python") for line in folded_lines(stdout)), stdout


def test_bad_usage_exits_2_with_one_line(waketrace):
    for args in (["-p", "abc"], ["-p", "1", "-t", "2"], ["--no-such-option"], ["-U", "-K"]):
        result = run([waketrace] + args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_unknown_pid_exits_1(waketrace, privileged):
    result = run([waketrace, "-p", "999999999", "1"])
    assert result.returncode == 1
    assert "no process 999999999" in result.stderr


def test_unprivileged_run_says_what_is_missing(waketrace):
    drop_privileges = []
    if os.geteuid() == 0:
        drop_privileges = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           "--inh-caps=-all", "--bounding-set=-all"]
    result = run(drop_privileges + [waketrace, "1"])
    assert result.returncode == 1, result.stderr
    assert "CAP_BPF" in result.stderr and "CAP_PERFMON" in result.stderr
    assert "run as root" in result.stderr


def test_dwarf_names_callers_of_code_without_frame_pointers(waketrace, deep_blocker, privileged):
    rounds = 5
    result = run([waketrace, "--dwarf", "-f", "--", deep_blocker, str(rounds), "20"], input="g")
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    deep_reads = []
    for line in folded_lines(result.stdout):
        target, waker, value = parse_folded(line)
        # Blocking waits only: a busy machine may also preempt the reader.
        if "level_c" in target and waker != ["[preempted]"]:
            deep_reads.append((target, waker, value))
    assert deep_reads, result.stdout
    for target, waker, _ in deep_reads:
        # Root first: main, the three levels, then libc's read below level_c.
        assert target.index("main") < target.index("level_a") \
            < target.index("deep_blocker::level_b") < target.index("level_c") \
            < target.index("wait_for_token_[i]"), target
        assert any("pipe_read" in f for f in target[target.index("level_c"):]), target
        assert "writer_loop" in waker, waker
    # About rounds x 20 ms blocked in all.
    waited_us = sum(value for _, _, value in deep_reads)
    assert 0.8 * rounds * 20_000 <= waited_us <= 2 * rounds * 20_000, deep_reads


def test_output_to_a_full_device_exits_1_naming_it(waketrace, demo, privileged):
    for folded in ([], ["-f"]):  # text writes a header first; folded writes only at the end
        result = run([waketrace, *folded, "-o", "/dev/full", "--", demo, "3", "5"])
        assert result.returncode == 1, (folded, result.stderr)
        assert "cannot write /dev/full: No space left on device" in result.stderr, result.stderr
    # /dev/full is still the device: written in place, never renamed over.
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_standard_output_on_a_full_device_exits_1(waketrace, demo, privileged):
    with open("/dev/full", "w") as full:
        result = subprocess.run([waketrace, "-f", "--", demo, "3", "5"], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "cannot write standard output: No space left on device" in result.stderr, result.stderr


def test_a_failed_run_leaves_the_output_file_untouched(waketrace, tmp_path):
    out = tmp_path / "profile.folded"
    out.write_text("an earlier report\n")
    result = run([waketrace, "-f", "-o", str(out), "-p", "3999999", "1"])
    assert result.returncode == 1
    assert "no process 3999999" in result.stderr
    assert out.read_text() == "an earlier report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.folded"]  # no temporary left


def test_output_file_is_replaced_whole_keeping_its_mode_and_link(waketrace, privileged, tmp_path):
    real = tmp_path / "real.folded"
    real.write_text("an earlier report\n")
    real.chmod(0o640)
    link = tmp_path / "link.folded"
    link.symlink_to(real.name)
    result = run([waketrace, "-f", "-o", str(link), "-p", str(os.getpid()), "0.5"])
    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    assert "an earlier report" not in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.folded", "real.folded"]


def test_a_read_only_output_file_is_refused_as_open_would(waketrace):
    # In /tmp, which anyone may enter (pytest's tmp_path may not be), in a
    # directory anyone may write to: a rename over the file would succeed.
    with tempfile.TemporaryDirectory(dir="/tmp") as directory:
        os.chmod(directory, 0o777)
        out = os.path.join(directory, "kept.folded")
        with open(out, "w") as kept:
            kept.write("read only\n")
        os.chmod(out, 0o444)
        drop_privileges = []
        if os.geteuid() == 0:
            drop_privileges = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        result = run(drop_privileges + [waketrace, "-o", out, "1"])
        assert result.returncode == 1
        assert f"cannot write {out}: Permission denied" in result.stderr, result.stderr
        with open(out) as kept:
            assert kept.read() == "read only\n"
        assert os.listdir(directory) == ["kept.folded"]


def test_an_unwritable_output_directory_fails_before_tracing(waketrace, tmp_path):
    result = run([waketrace, "-o", str(tmp_path / "missing" / "out"), "1"])
    assert result.returncode == 1
    assert f"cannot write {tmp_path / 'missing' / 'out'}: No such file or directory" in result.stderr


def test_running_out_of_file_descriptors_says_so(waketrace, privileged):
    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
    result = run([waketrace, "-f", "0.2"], preexec_fn=low_limit, close_fds=True)
    assert result.returncode == 1
    assert "Too many open files" in result.stderr, result.stderr
    assert "Invalid argument" not in result.stderr, result.stderr
    assert "ulimit -n" in result.stderr, result.stderr


def test_map_capacity_options_are_checked(waketrace):
    for option in ("--max-chains", "--max-off-cpu-threads"):
        for bad in ("0", "-1", "4294967296", "many"):
            result = run([waketrace, option, bad, "1"])
            assert result.returncode == 2, (option, bad, result.stderr)
            assert f"invalid {option} value '{bad}'" in result.stderr
    help_text = run([waketrace, "--help"]).stdout
    assert "--max-chains N" in help_text and "--max-off-cpu-threads N" in help_text


def test_dwarf_ring_size_is_checked(waketrace):
    page = os.sysconf("SC_PAGESIZE")
    for bad in ("0", str(page // 2), str(3 * page), str(page + 1), "2147483648", "16M"):
        result = run([waketrace, "--dwarf-ring-size", bad, "1"])
        assert result.returncode == 2, (bad, result.stderr)
        assert f"invalid --dwarf-ring-size value '{bad}'" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    help_text = run([waketrace, "--help"]).stdout
    assert "--dwarf-ring-size BYTES" in help_text


def test_a_tiny_dwarf_ring_is_used_and_its_losses_advise_a_larger_one(waketrace, demo, privileged):
    page = os.sysconf("SC_PAGESIZE")
    # One page holds no 8 KiB stack copy: every user stack is lost, and said so.
    result = run([waketrace, "-f", "--dwarf-ring-size", str(page), "--", demo, "20", "2"])
    assert result.returncode == 0, result.stderr
    warning = re.search(r"WARNING: (\d+) user stacks lost: the --dwarf ring buffer was full "
                        r"\(rerun with --dwarf-ring-size (\d+),", result.stderr)
    assert warning, result.stderr
    assert int(warning.group(1)) > 0
    assert int(warning.group(2)) == 4 * page


CHAIN_MAP_FULL = re.compile(r"WARNING: (\d+) off-CPU periods lost to a full chain map "
                            r"\(rerun with (--max-chains) (\d+)\b")


def test_a_full_chain_map_advises_a_larger_max_chains_that_works(waketrace, demo, privileged):
    result = run([waketrace, "-f", "--max-chains", "2", "--", demo, "20", "2"])
    assert result.returncode == 0, result.stderr
    warning = CHAIN_MAP_FULL.search(result.stderr)
    assert warning, result.stderr
    assert int(warning[3]) > 2
    # The advice is a command line the tool takes, and following it ends the
    # losses. Not always at once: the map grows into user space, so what it
    # loses is the new chains of one 50 ms burst past half the map, which
    # varies from run to run; each rerun offers four times the map again.
    for _ in range(4):
        rerun = run([waketrace, "-f", warning[2], warning[3], "--", demo, "20", "2"])
        assert rerun.returncode == 0, rerun.stderr
        warning = CHAIN_MAP_FULL.search(rerun.stderr)
        if warning is None:
            break
    assert warning is None, (result.stderr, rerun.stderr)
    assert len(folded_lines(rerun.stdout)) > len(folded_lines(result.stdout))


# A process whose main thread names itself with bytes that are not UTF-8 (a
# lone 0xff, then a 3-byte sequence broken off) and then blocks in short sleeps.
NAME_BYTES = b"odd\xffname\xe2\x82"
NAMED_SLEEPER = f"""
import ctypes, sys, time
ctypes.CDLL(None).prctl(15, {NAME_BYTES!r}, 0, 0, 0)
print("named", flush=True)
for _ in range(400):
    time.sleep(0.005)
"""


def test_a_thread_name_that_is_not_utf8_reads_as_replacement_characters(waketrace, privileged):
    sleeper = subprocess.Popen([sys.executable, "-c", NAMED_SLEEPER], stdout=subprocess.PIPE)
    try:
        assert sleeper.stdout.readline() == b"named\n"
        result = subprocess.run([waketrace, "-f", "-p", str(sleeper.pid), "1"], capture_output=True,
                                timeout=120)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert result.returncode == 0, result.stderr
    # Valid UTF-8 throughout, and the name as Python's own "replace" decoding
    # reads it: the rule tests/python checks for the module too.
    out = result.stdout.decode("utf-8")
    shown = NAME_BYTES.decode("utf-8", "replace")
    targets = {parse_folded(line)[0][0] for line in folded_lines(out)}
    assert shown in targets, targets
