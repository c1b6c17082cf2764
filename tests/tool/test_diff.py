# SPDX-License-Identifier: LGPL-2.1-or-later
"""waketrace --diff: two folded files in, a differential flame graph out.
Hand-written files with known values (widths, colours, tooltips, the
stacks that vanished), two real runs of the demo, and bad input."""
import re
import xml.etree.ElementTree as ET

import pytest

from conftest import folded_lines, parse_folded, run

SVG_NS = "{http://www.w3.org/2000/svg}"
INNER = 1180  # 1200 pixels less both margins

BEFORE = """\
app;main;read;--;try_to_wake_up;writer 100
app;main;write 100
app;poll 200
app;sleep 80
"""
AFTER = """\
app;main;read;--;try_to_wake_up;writer 300
app;main;write 50
app;poll 200
app;accept 20
"""


def frames_of(svg_path):
    """Every frame: {path: (fill, width, hidden, title)}, its path of names from the root."""
    root = ET.parse(svg_path).getroot()
    frames = {}
    last = {}
    for g in root.find(SVG_NS + "g[@class='frames']"):
        depth = int(g.get("data-depth"))
        title = g.find(SVG_NS + "title").text
        path = last.get(depth - 1, ()) + (title.split("\n")[0],)
        last[depth] = path
        rect = g.find(SVG_NS + "rect")
        frames[path] = (rect.get("fill"), float(rect.get("width")), "hide" in (g.get("class") or ""), title)
    return root, frames


def channels(fill):
    return tuple(map(int, re.fullmatch(r"rgb\((\d+),(\d+),(\d+)\)", fill).groups()))


def diff(waketrace, tmp_path, before_text, after_text):
    before, after, out = tmp_path / "before.folded", tmp_path / "after.folded", tmp_path / "diff.svg"
    before.write_text(before_text)
    after.write_text(after_text)
    result = run([waketrace, "--diff", str(before), str(after), "--svg", str(out)])
    return result, out


def test_widths_by_after_colours_by_change(waketrace, tmp_path):
    result, out = diff(waketrace, tmp_path, BEFORE, AFTER)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    root, frames = frames_of(out)
    assert "before.folded" in root.find(SVG_NS + "text[@class='title']").text
    whole = 570
    read = frames[("all", "app", "main", "read")]
    assert read[1] == pytest.approx(INNER * 300 / whole, abs=0.01)
    r, g, b = channels(read[0])
    assert r == 255 and g == b < 255  # grew: red
    write = frames[("all", "app", "main", "write")]
    assert write[1] == pytest.approx(INNER * 50 / whole, abs=0.01)
    r, g, b = channels(write[0])
    assert b == 255 and r == g < 255  # shrank: blue
    # The largest change is drawn strongest: read (+200) deeper than write (-50).
    assert channels(read[0])[1] < channels(write[0])[0]
    poll = frames[("all", "app", "poll")]
    assert len(set(channels(poll[0]))) == 1  # unchanged: grey
    assert "before.folded 100 \u00b5s, after.folded 300 \u00b5s" in read[3]
    assert "change +200 \u00b5s (+200.0%)" in read[3]
    # The waker's frames after "--" are compared like any other.
    assert frames[("all", "app", "main", "read", "--", "try_to_wake_up", "writer")][1] == pytest.approx(read[1])


def test_a_stack_only_in_before_is_kept_and_said(waketrace, tmp_path):
    result, out = diff(waketrace, tmp_path, BEFORE, AFTER)
    assert result.returncode == 0, result.stderr
    root, frames = frames_of(out)
    fill, width, hidden, title = frames[("all", "app", "sleep")]
    assert hidden and width == 0
    assert channels(fill)[2] == 255
    assert "before.folded 80 \u00b5s, after.folded 0 \u00b5s" in title
    subtitle = root.find(SVG_NS + "text[@class='subtitle']").text
    assert "1 stack (80 \u00b5s) only in before.folded" in subtitle
    assert root.find(SVG_NS + "text[@data-metric='before']") is not None


def test_two_real_runs_compared(waketrace, demo, privileged, tmp_path):
    """The demo with 5 rounds, then 15: pong's waits for ping grew."""
    runs = {}
    for rounds in (5, 15):
        path = tmp_path / f"demo-{rounds}.folded"
        result = run([waketrace, "-f", "-o", str(path), "--", demo, str(rounds), "10"])
        assert result.returncode == 0, result.stderr
        runs[rounds] = path
    out = tmp_path / "diff.svg"
    result = run([waketrace, "--diff", str(runs[5]), str(runs[15]), "--svg", str(out)])
    assert result.returncode == 0, result.stderr
    _, frames = frames_of(out)

    def pong_total(path):
        return sum(value for target, _, value in map(parse_folded, folded_lines(path.read_text()))
                   if target[0] == "demo-pong")

    pong = frames[("all", "demo-pong")]
    before, after = pong_total(runs[5]), pong_total(runs[15])
    assert after > 2 * before
    r, g, b = channels(pong[0])
    assert r == 255 and g == b < 255
    assert f"demo-5.folded {before:,} \u00b5s, demo-15.folded {after:,} \u00b5s" in pong[3]
    whole = sum(value for _, _, value in map(parse_folded, folded_lines(runs[15].read_text())))
    assert pong[1] == pytest.approx(INNER * after / whole, abs=0.01)


@pytest.mark.parametrize("text, line", [
    ("app;main 5\nTracing blocked time (us) by user + kernel off-CPU\n", 2),
    ("app;main 5\n\napp;poll five\n", 3),
    ("<?xml version=\"1.0\"?>\n", 1),
])
def test_a_file_that_is_not_folded_exits_2_naming_it_and_the_line(waketrace, tmp_path, text, line):
    result, out = diff(waketrace, tmp_path, AFTER, text)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert re.match(rf"waketrace: error: \S*after\.folded is not a folded file: line {line}: ", result.stderr), \
        result.stderr
    assert not out.exists()


def test_diff_usage(waketrace, tmp_path):
    (tmp_path / "a").write_text("x 1\n")
    no_svg = run([waketrace, "--diff", str(tmp_path / "a"), str(tmp_path / "a")])
    assert no_svg.returncode == 2 and "--diff needs --svg FILE" in no_svg.stderr
    one_file = run([waketrace, "--svg", str(tmp_path / "o.svg"), "--diff", str(tmp_path / "a")])
    assert one_file.returncode == 2 and "needs two file names" in one_file.stderr
    traced = run([waketrace, "--diff", str(tmp_path / "a"), str(tmp_path / "a"), "--svg", str(tmp_path / "o.svg"),
                  "5"])
    assert traced.returncode == 2 and "traces nothing" in traced.stderr
    missing = run([waketrace, "--diff", str(tmp_path / "a"), str(tmp_path / "nope"), "--svg", str(tmp_path / "o.svg")])
    assert missing.returncode == 1 and "nope" in missing.stderr
