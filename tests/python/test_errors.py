# SPDX-License-Identifier: LGPL-2.1-or-later
"""Each failure surfaces as the Python exception for its errno, with the
library's message (it says what to do)."""
import errno
import os
import subprocess
import sys

import pytest

import waketrace


def test_min_block_above_max_block_is_a_value_error():
    with pytest.raises(ValueError, match=r"min_block_us \(10\) is above max_block_us \(5\)"):
        waketrace.Profiler(min_block_us=10, max_block_us=5)


@pytest.mark.parametrize("option, value, message", [
    ("threads", "bogus", "threads='bogus' is not one of"),
    ("stacks", "sideways", "stacks='sideways' is not one of"),
    ("attach", "kprobe", "attach='kprobe' is not one of"),
    ("pids", [-1], "pids: -1 is not a process or thread id"),
    ("tids", [0], "tid 0 is the idle task"),
    ("min_block_us", -1, "min_block_us=-1 is out of range"),
    ("stack_storage_size", 0, "stack_storage_size must be at least 1"),
    ("max_chains", 2**32, "max_chains=4294967296 is out of range"),
    ("state_mask", -2, "state_mask=-2 is out of range"),
])
def test_bad_option_values_are_value_errors(option, value, message):
    with pytest.raises(ValueError, match=message):
        waketrace.Profiler(**{option: value})


def test_options_are_keyword_only_and_log_must_be_callable():
    with pytest.raises(TypeError):
        waketrace.Profiler([os.getpid()])
    with pytest.raises(TypeError, match="callable"):
        waketrace.Profiler(log="not a function")


def test_results_before_start_is_a_value_error():
    profiler = waketrace.Profiler()
    with pytest.raises(ValueError, match="never started"):
        profiler.results()
    with pytest.raises(ValueError, match="never started"):
        profiler.drain()


def vanished_pid():
    """The pid of a child that has exited and been reaped."""
    process = subprocess.Popen(["true"])
    process.wait()
    assert not os.path.exists(f"/proc/{process.pid}")
    return process.pid


def test_a_pid_that_does_not_exist_is_a_process_lookup_error():
    pid = vanished_pid()
    profiler = waketrace.Profiler(pids=[pid])
    with pytest.raises(ProcessLookupError) as raised:
        profiler.start()
    assert raised.value.errno == errno.ESRCH
    assert str(pid) in str(raised.value)
    assert not profiler.running


def test_cgroups_take_paths_and_are_checked_at_start(tmp_path):
    with pytest.raises(TypeError, match="cgroups must be a list of paths"):
        waketrace.Profiler(cgroups=[3])
    with pytest.raises(ValueError, match="at most 8"):
        waketrace.Profiler(cgroups=[str(tmp_path)] * 9)
    profiler = waketrace.Profiler(cgroups=[tmp_path])  # os.PathLike works
    with pytest.raises(ValueError, match="not a cgroup v2 directory"):
        profiler.start()
    assert not profiler.running


STARTS_UNPRIVILEGED = """
import waketrace
try:
    waketrace.Profiler().start()
except PermissionError as error:
    print(error.errno, error)
else:
    print("started")
"""


def test_unprivileged_start_is_a_permission_error_saying_what_to_do():
    drop_privileges = []
    if os.geteuid() == 0:
        drop_privileges = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           "--inh-caps=-all", "--bounding-set=-all"]
    result = subprocess.run(drop_privileges + [sys.executable, "-c", STARTS_UNPRIVILEGED],
                            capture_output=True, text=True, cwd="/", timeout=60)
    assert result.returncode == 0, (
        "the unprivileged run failed; user nobody must be able to read the module's build "
        f"directory ({os.environ.get('PYTHONPATH')}):\n{result.stderr}")
    code, message = result.stdout.split(" ", 1)
    assert int(code) in (errno.EPERM, errno.EACCES)
    assert "CAP_BPF" in message and "CAP_PERFMON" in message
    assert "run as root" in message


# A load the kernel refuses (a stack map larger than it allows), with and
# without a log callback; prints the error and what was logged.
LOAD_REFUSED = """
import sys
import waketrace
logged = []
log = (lambda level, message: logged.append((level, message))) if sys.argv[1] == "log" else None
try:
    waketrace.Profiler(stack_storage_size=2**32 - 1, log=log).start()
except OSError as error:
    print("error:", error)
else:
    print("started")
for level, message in logged:
    print("logged:", level, message)
"""


def refused_load(with_log):
    result = subprocess.run([sys.executable, "-c", LOAD_REFUSED, "log" if with_log else "none"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def test_a_refused_load_names_the_log_keyword(privileged):
    result = refused_load(with_log=False)
    error = next(line for line in result.stdout.splitlines() if line.startswith("error:"))
    assert "log=" in error and "to see the verifier log" in error, error
    assert "Config::" not in error, error
    # libbpf's own warnings go nowhere without a log callback: not to stderr.
    assert "libbpf" not in result.stderr, result.stderr


def test_libbpf_warnings_reach_the_log_callback(privileged):
    result = refused_load(with_log=True)
    lines = result.stdout.splitlines()
    error = next(line for line in lines if line.startswith("error:"))
    assert "log=" not in error, error  # the log is set: nothing to advise
    assert any(line.startswith("logged: warning libbpf: ") for line in lines), result.stdout
    assert "libbpf" not in result.stderr, result.stderr


OUT_OF_DESCRIPTORS = """
import resource
import waketrace
resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
try:
    waketrace.Profiler().start()
except OSError as error:
    print(error.errno, error)
"""


def test_running_out_of_file_descriptors_is_emfile(privileged):
    result = subprocess.run([sys.executable, "-c", OUT_OF_DESCRIPTORS], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    code, message = result.stdout.split(" ", 1)
    assert int(code) == errno.EMFILE, result.stdout
    assert "Too many open files" in message or "too many open files" in message, message
