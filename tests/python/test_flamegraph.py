# SPDX-License-Identifier: LGPL-2.1-or-later
"""Profile.flamegraph() and the notebook displays (_repr_svg_, _repr_html_)
on a profile of two threads passing a token through a pipe: the reader's
frames and its waker's are in the graph, widths follow the chosen metric,
and the HTML holds the graph and a table of the top chains."""
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

import pytest

import waketrace
from ci_rule import require_root
from workloads import PipeTokenPass

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def profile():
    require_root()
    work = PipeTokenPass(5, 0.01)
    with waketrace.Profiler(tids=[work.reader.tid]) as profiler:
        work.run()
    return profiler.results()


def frames_of(svg):
    """(name, depth, {metric: (start, value)}) of every frame."""
    root = ElementTree.fromstring(svg.encode())
    frames = []
    for g in root.find(f"{SVG}g[@class='frames']"):
        places = {metric: tuple(map(int, g.get("data-" + metric).split()))
                  for metric in ("total", "blocked", "runqueue")}
        frames.append((g.find(SVG + "title").text.split("\n")[0], int(g.get("data-depth")), places))
    return root, frames


def test_the_flame_graph_holds_the_reader_and_its_waker(profile):
    root, frames = frames_of(profile.flamegraph())
    assert root.get("data-metric") == "total"
    names = [name for name, _, _ in frames]
    assert names[0] == "all"
    assert "wt-py-reader" in names and "wt-py-writer" in names
    assert any("pipe_read" in name for name in names) and any("pipe_write" in name for name in names)
    # The root holds every chain's time, under each metric.
    _, _, whole = frames[0]
    assert whole["total"][1] == sum(chain.total_ns for chain in profile.chains)
    assert whole["blocked"][1] == sum(chain.blocked_ns for chain in profile.chains)
    assert whole["runqueue"][1] == sum(chain.runqueue_ns for chain in profile.chains)


def test_the_metric_chooses_the_widths_it_opens_on(profile):
    for metric in ("total", "blocked", "runqueue"):
        svg = profile.flamegraph(metric)
        root, frames = frames_of(svg)
        assert root.get("data-metric") == metric
        assert f'class="metric on" data-metric="{metric}"' in svg
    with pytest.raises(ValueError, match="metric='wall' is not one of 'total', 'blocked', 'runqueue'"):
        profile.flamegraph("wall")


def test_options_reach_the_graph(profile):
    svg = profile.flamegraph(title="pipe <token> & co", stacks="kernel", delimiter=True)
    assert "pipe &lt;token&gt; &amp; co" in svg
    _, frames = frames_of(svg)
    # Kernel stacks only: no user frame of the reader's Python interpreter.
    assert not any(name.startswith("_Py") or name == "read" for name, _, _ in frames)


class Tables(HTMLParser):
    """The rows of every <table>, as lists of cell texts."""

    def __init__(self, html):
        super().__init__()
        self.rows, self._cell = [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.rows[-1].append(self._cell)
            self._cell = None


def test_jupyter_displays_the_graph_and_the_top_chains(profile):
    assert profile._repr_svg_() == profile.flamegraph()
    html = profile._repr_html_()
    svg = html[html.index("<svg"):html.index("</svg>") + len("</svg>")]
    assert svg in profile.flamegraph()
    header, *rows = Tables(html).rows
    assert header[:3] == ["#", "target", "wakers"]
    assert 0 < len(rows) <= min(20, len(profile.chains))
    totals = [float(row[3]) for row in rows]
    assert totals == sorted(totals, reverse=True)
    biggest = max(profile.chains, key=lambda chain: chain.total_ns)
    assert rows[0][1] == f"{biggest.target.comm} {biggest.target.tid}"
    assert totals[0] == pytest.approx(biggest.total_ns / 1000, abs=0.05)
