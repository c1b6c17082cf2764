# SPDX-License-Identifier: LGPL-2.1-or-later
"""waketrace --svg FILE: the flame graph beside the report, written like -o's
file. (tests/browser opens it in a browser.)"""
import xml.etree.ElementTree as ElementTree

from conftest import folded_lines, parse_folded, run

SVG = "{http://www.w3.org/2000/svg}"


def frame_names(svg_path):
    frames = ElementTree.parse(svg_path).getroot().find(f"{SVG}g[@class='frames']")
    return [frame.find(SVG + "title").text.split("\n")[0] for frame in frames]


def test_the_flame_graph_is_written_beside_the_report(waketrace, demo, privileged, tmp_path):
    svg = tmp_path / "chains.svg"
    result = run([waketrace, "-f", "--svg", str(svg), "--", demo, "5", "5"])
    assert result.returncode == 0, result.stderr
    # The report is still on standard output.
    chains = [parse_folded(line) for line in folded_lines(result.stdout)
              if not line.startswith("waketrace-demo:")]
    assert chains
    names = frame_names(svg)
    assert names[0] == "all"
    # Every comm of the report is a frame of the graph, and so is every
    # waker that was reported.
    for target, waker, _ in chains:
        assert target[0] in names
        assert waker[-1] in names
    # 6.18 names them anon_pipe_read / anon_pipe_write, 6.1 pipe_read / pipe_write.
    assert any(name.endswith("pipe_read") for name in names)
    assert any(name.endswith("pipe_write") for name in names)
    assert not list(tmp_path.glob(".chains.svg*"))  # no temporary left behind


def test_an_unwritable_svg_path_fails_before_tracing(waketrace, tmp_path):
    out = tmp_path / "report.folded"
    out.write_text("kept\n")
    missing = tmp_path / "missing" / "chains.svg"
    result = run([waketrace, "-f", "-o", str(out), "--svg", str(missing), "1"])
    assert result.returncode == 1
    assert f"cannot write {missing}: No such file or directory" in result.stderr
    assert out.read_text() == "kept\n"


def test_svg_and_output_may_not_be_one_file(waketrace, tmp_path):
    same = str(tmp_path / "same")
    result = run([waketrace, "-o", same, "--svg", same, "1"])
    assert result.returncode == 2
    assert "--svg and --output cannot name the same file" in result.stderr
