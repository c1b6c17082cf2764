# SPDX-License-Identifier: LGPL-2.1-or-later
"""A thread may name itself with any bytes; every output of the module shows
the name one way (the library's thread_name: invalid UTF-8 as U+FFFD, which
is what bytes.decode("utf-8", "replace") gives), so nothing raises when the
profile is printed or exported. tests/tool checks the command against the
same rule."""
import ctypes
import threading
import time

import waketrace

_PR_SET_NAME = 15
# A lone 0xff, then a 3-byte sequence broken off by the end of the name.
NAME_BYTES = b"odd\xffname\xe2\x82"


def sleeper_named(name_bytes, go):
    """A thread that names itself name_bytes, then sleeps 20 times once `go` is set."""
    named = threading.Event()
    tids = []

    def main():
        ctypes.CDLL(None).prctl(_PR_SET_NAME, name_bytes, 0, 0, 0)
        tids.append(threading.get_native_id())
        named.set()
        go.wait()
        for _ in range(20):
            time.sleep(0.005)

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    named.wait()
    with open(f"/proc/self/task/{tids[0]}/comm", "rb") as comm:
        assert comm.read().rstrip(b"\n") == name_bytes  # the kernel kept the bytes
    return thread, tids[0]


def test_a_name_that_is_not_utf8_prints_and_exports(privileged, tmp_path):
    go = threading.Event()
    thread, tid = sleeper_named(NAME_BYTES, go)
    with waketrace.Profiler(tids=[tid]) as profiler:
        go.set()
        thread.join(timeout=30)
    profile = profiler.results()
    shown = NAME_BYTES.decode("utf-8", "replace")

    assert shown in {chain.target.comm for chain in profile.chains}
    folded = profile.folded()
    assert any(line.startswith(shown + ";") for line in folded.splitlines()), folded
    assert f"target:          {shown} {tid}" in profile.text()
    # Strict UTF-8 files: what print() to a UTF-8 terminal and to_csv() do.
    with open(tmp_path / "out.txt", "w", encoding="utf-8", errors="strict") as out:
        print(folded, file=out)
        print(profile.text(), file=out)
        print(repr(profile.chains[0]), file=out)
    frame = profile.to_dataframe()
    assert shown in set(frame["target_comm"])
    frame.to_csv(tmp_path / "chains.csv")
    assert shown in (tmp_path / "chains.csv").read_text(encoding="utf-8")
