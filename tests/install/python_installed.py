# SPDX-License-Identifier: LGPL-2.1-or-later
"""The installed Python module (check_install.sh, step 4): the directory it
was installed to must be one /usr/bin/python3 searches, and, imported from
the destdir, it must profile two threads passing a token through a pipe:
every round a wait of the reader, woken by the writer.

Usage: python_installed.py DESTDIR PYTHON_DIR PREFIX SITE_DIR_SCRIPT, with
PYTHONPATH naming DESTDIR/PYTHON_DIR and tests/python (the workload)."""
import os
import site
import subprocess
import sys

import waketrace
from workloads import PipeTokenPass, describe, has_frame

ROUNDS = 5
SLEEP_S = 0.01


def check_search_path(python_dir, prefix, site_dir_script):
    """python_dir, without the destdir, is on the interpreter's own path
    whenever the prefix has a site directory at all."""
    searched = [os.path.normpath(directory) for directory in site.getsitepackages()]
    if os.path.normpath(python_dir) in searched:
        return
    expected = subprocess.run([sys.executable, site_dir_script, prefix], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert not expected, f"installed to {python_dir}, but python3 searches {searched}: expected {expected}"
    print(f"python: {sys.executable} searches nothing under {prefix}: PYTHONPATH must name {python_dir}")


def check_import(destdir, python_dir):
    loaded_from = os.path.dirname(os.path.realpath(waketrace.__file__))
    assert loaded_from == os.path.realpath(destdir + python_dir), waketrace.__file__


def check_profile():
    work = PipeTokenPass(ROUNDS, SLEEP_S)
    with waketrace.Profiler(tids=[work.reader.tid]) as profiler:
        work.run()
    profile = profiler.results()
    assert {chain.target.tid for chain in profile.chains} == {work.reader.tid}, describe(profile)
    waits = [chain for chain in profile.chains
             if has_frame(chain.kernel_stack, "pipe_read") and chain.wakers[0].context != "preempted"]
    assert waits, describe(profile)
    assert {chain.wakers[0].task.tid for chain in waits} == {work.writer.tid}, describe(profile)
    assert sum(chain.count for chain in waits) == ROUNDS, describe(profile)
    # missed_switch_ins: switches the host did not report (README, "What is counted").
    assert profile.losses.total - profile.losses.missed_switch_ins == 0, repr(profile.losses)


def main():
    destdir, python_dir, prefix, site_dir_script = sys.argv[1:]
    check_search_path(python_dir, prefix, site_dir_script)
    check_import(destdir, python_dir)
    check_profile()
    print(f"python: waketrace {waketrace.__version__} from {waketrace.__file__}: "
          f"{ROUNDS} pipe waits, each woken by the writer")


if __name__ == "__main__":
    main()
