# SPDX-License-Identifier: LGPL-2.1-or-later
"""Profile.pprof() on a profile of two threads passing a token through a
pipe: gzipped bytes, the same ones written to a path, and what Go's pprof
reads from them is the profile's chains (tests/tool checks the frames of a
live run in detail)."""
import gzip

import pytest

import waketrace
from ci_rule import require_root
from pprof_tool import find_pprof, pprof, raw_samples, traces
from workloads import PipeTokenPass


@pytest.fixture(scope="module")
def profile():
    require_root()
    work = PipeTokenPass(5, 0.01)
    with waketrace.Profiler(tids=[work.reader.tid]) as profiler:
        work.run()
    return profiler.results()


def test_the_bytes_are_gzip_and_the_same_written_to_a_path(profile, tmp_path):
    data = profile.pprof()
    assert isinstance(data, bytes)
    assert len(gzip.decompress(data)) > 0
    assert profile.pprof(tmp_path / "reader.pb.gz") is None
    assert (tmp_path / "reader.pb.gz").read_bytes() == data
    assert profile.pprof(str(tmp_path / "again.pb.gz")) is None
    assert (tmp_path / "again.pb.gz").read_bytes() == data


def test_pprof_reads_each_chain_with_its_times(profile, tmp_path):
    tool = find_pprof()
    path = tmp_path / "reader.pb.gz"
    profile.pprof(path)
    samples = raw_samples(pprof(tool, "-raw", str(path)))
    assert sorted(tuple(values) for values, _, _ in samples) == \
        sorted((c.count, c.total_ns, c.blocked_ns, c.runqueue_ns) for c in profile.chains)
    reads = [frames for labels, frames in traces(pprof(tool, "-traces", str(path)))
             if labels.get("target_comm") == "wt-py-reader" and labels.get("waker_comm") == "wt-py-writer"]
    assert reads
    assert any(any(f.endswith("pipe_read") for f in frames[:frames.index("--")]) and
               any(f.endswith("pipe_write") for f in frames[frames.index("--"):]) for frames in reads)


def mapped_files(raw):
    """The file names of `pprof -raw`'s mappings."""
    lines = raw[raw.index("Mappings"):].splitlines()[1:]
    return {line.split()[2] for line in lines if line.strip()}


def test_kernel_stacks_only_leave_the_user_frames_out(profile, tmp_path):
    tool = find_pprof()
    both, kernel = tmp_path / "both.pb.gz", tmp_path / "kernel.pb.gz"
    profile.pprof(both)
    profile.pprof(kernel, stacks="kernel")
    assert any(name.startswith("/") for name in mapped_files(pprof(tool, "-raw", str(both))))
    assert mapped_files(pprof(tool, "-raw", str(kernel))) == {"[kernel]"}
    assert "pipe_read" in pprof(tool, "-top", "-nodefraction=0", str(kernel))
    with pytest.raises(ValueError):
        profile.pprof(stacks="sideways")


def test_user_frames_say_where_they_are_in_their_files(profile):
    framed = [frame for chain in profile.chains for frame in chain.user_stack.frames
              if frame.module.startswith("/")]
    assert framed
    for frame in framed:
        assert frame.file_offset is not None and frame.file_offset >= 0
    # libc and python3 are built with a build-id on Debian.
    assert any(frame.build_id and len(frame.build_id) == 40 for frame in framed)
    kernel = [frame for chain in profile.chains for frame in chain.kernel_stack.frames]
    assert kernel and all(frame.file_offset is None and frame.build_id is None for frame in kernel)
