# SPDX-License-Identifier: LGPL-2.1-or-later
"""waketrace --dwarf on a stripped program whose debug information only a
debuginfod server has: the frames are named through DEBUGINFOD_URLS, as the
symbolizer tests check without the profiler."""
import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from ci_rule import skip_or_fail
from conftest import folded_lines, parse_folded, run

ROUNDS = 3


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _build_id(path):
    notes = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, check=True).stdout
    for line in notes.splitlines():
        if "Build ID:" in line:
            return line.split("Build ID:")[1].strip()
    pytest.fail(f"{path} has no build-id")


@pytest.fixture
def debuginfod_server(tmp_path):
    """A real debuginfod on loopback serving tmp_path/served; yields its URL."""
    executable = shutil.which("debuginfod")
    if not executable:
        skip_or_fail("debuginfod is not installed (apt-get install debuginfod)")
    served = tmp_path / "served"
    served.mkdir()
    port = _free_port()
    log = open(tmp_path / "debuginfod.log", "w")
    server = subprocess.Popen([executable, "-F", "-p", str(port), "-d", str(tmp_path / "db.sqlite"),
                               str(served)], stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}", served
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _wait_until_served(url, build_id):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/buildid/{build_id}/debuginfo", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"debuginfod never served {build_id}")


def _deep_reads(stdout):
    reads = []
    for line in folded_lines(stdout):
        target, waker, value = parse_folded(line)
        # pipe_read / pipe_write before 6.15, anon_pipe_read / anon_pipe_write after.
        if any("pipe_read" in f for f in target) and any("pipe_write" in f for f in waker):
            reads.append((target, waker))
    return reads


def test_stripped_program_named_through_debuginfod(waketrace, deep_blocker, privileged,
                                                   debuginfod_server, tmp_path):
    url, served = debuginfod_server
    stripped = tmp_path / "stripped_blocker"
    subprocess.run(["objcopy", "--only-keep-debug", deep_blocker, str(served / "deep_blocker.debug")],
                   check=True)
    subprocess.run(["strip", "--strip-all", "-o", str(stripped), deep_blocker], check=True)
    _wait_until_served(url, _build_id(str(stripped)))
    argv = [waketrace, "--dwarf", "-f", "--", str(stripped), str(ROUNDS), "20"]

    # Without the server: the program's own functions have no names.
    plain = run(argv, input="g", env={**os.environ, "DEBUGINFOD_URLS": ""})
    assert plain.returncode == 0, plain.stderr
    assert _deep_reads(plain.stdout), plain.stdout
    assert "level_c" not in plain.stdout, plain.stdout

    served_env = {**os.environ, "DEBUGINFOD_URLS": url,
                  "DEBUGINFOD_CACHE_PATH": str(tmp_path / "cache")}
    named = run(argv, input="g", env=served_env)
    assert named.returncode == 0, named.stderr
    reads = _deep_reads(named.stdout)
    assert reads, named.stdout
    for target, waker in reads:
        assert target.index("main") < target.index("level_a") \
            < target.index("deep_blocker::level_b") < target.index("level_c"), target
        assert "writer_loop" in waker, waker
