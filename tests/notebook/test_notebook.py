# SPDX-License-Identifier: LGPL-2.1-or-later
"""Executes examples/notebook/waketrace.ipynb headlessly, as a reader would,
and checks that its table of top chains shows the consumer thread woken by
the producer, and that the profile shows itself as a flame graph (with its
own table of top chains) and as the SVG flamegraph() returns. The notebook
path and PYTHONPATH come from meson."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

import nbformat
import pytest

from ci_rule import require_root


class HtmlTable(HTMLParser):
    """The rows of the HTML table pandas renders for a DataFrame, as lists of
    cell texts (the header row first, index cells included)."""

    def __init__(self, html):
        super().__init__()
        self.rows = []
        self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self.rows[-1].append(self._cell.strip())
            self._cell = None

    def records(self):
        header, *body = self.rows
        return [dict(zip(header, row)) for row in body]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    require_root()
    out = tmp_path_factory.mktemp("notebook")
    # Jupyter's connection files and IPython's profile go to the temporary
    # directory, not to the user's home; the debugger's warning about frozen
    # modules is noise here.
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(out / "runtime"), IPYTHONDIR=str(out / "ipython"),
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    result = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.kernel_name=python3", "--ExecutePreprocessor.timeout=120",
         "--output-dir", str(out), "--output", "executed", os.environ["WAKETRACE_NOTEBOOK"]],
        capture_output=True, text=True, env=env, timeout=240)
    assert result.returncode == 0, result.stderr
    return nbformat.read(out / "executed.ipynb", as_version=4)


def test_every_cell_ran_without_error(executed):
    for cell in executed.cells:
        if cell.cell_type == "code":
            assert cell.execution_count is not None, cell.source
            errors = [output for output in cell.outputs if output.output_type == "error"]
            assert not errors, errors


def test_top_chains_table_shows_the_consumer_woken_by_the_producer(executed):
    [cell] = [cell for cell in executed.cells if "top-chains" in cell.metadata.get("tags", [])]
    [result] = [output for output in cell.outputs if output.output_type == "execute_result"]
    assert "text/html" in result.data, "the cell's value is not a DataFrame"
    rows = HtmlTable(result.data["text/html"]).records()
    assert 0 < len(rows) <= 10
    consumer_rows = [row for row in rows
                     if row["target_comm"] == "wt-consumer" and row["waker"] == "wt-producer"]
    assert consumer_rows, rows
    assert all(float(row["total_us"]) > 0 for row in consumer_rows)
    totals = [float(row["total_us"]) for row in rows]
    assert totals == sorted(totals, reverse=True)


SVG_NS = "{http://www.w3.org/2000/svg}"


def cell_result(executed, tag):
    [cell] = [cell for cell in executed.cells if tag in cell.metadata.get("tags", [])]
    [result] = [output for output in cell.outputs if output.output_type == "execute_result"]
    return result


def flame_graph_frames(svg):
    """The SVG's root element and its frames as (name, depth)."""
    root = ElementTree.fromstring(svg.encode())
    frames = root.find(f"{SVG_NS}g[@class='frames']")
    return root, [(g.find(SVG_NS + "title").text.split("\n")[0], int(g.get("data-depth"))) for g in frames]


def test_the_profile_shows_itself_as_a_flame_graph_and_its_top_chains(executed):
    result = cell_result(executed, "profile-display")
    html = result.data["text/html"]
    svg = html[html.index("<svg"):html.index("</svg>") + len("</svg>")]
    root, frames = flame_graph_frames(svg)
    assert root.tag == SVG_NS + "svg"
    targets = {name for name, depth in frames if depth == 1}
    assert {"wt-consumer", "wt-producer"} <= targets, targets
    # The consumer's waits end in the producer's wake-ups: its name is a
    # frame above the consumer's.
    assert [name for name, _ in frames].count("wt-producer") >= 2
    rows = HtmlTable(html[html.index("</svg>"):]).records()
    assert 0 < len(rows) <= 20
    assert any(row["target"].startswith("wt-consumer ") and row["wakers"].startswith("wt-producer-")
               for row in rows), rows
    assert "image/svg+xml" in result.data  # _repr_svg_, for frontends without HTML


def test_the_flamegraph_cell_shows_the_svg_by_blocked_time(executed):
    result = cell_result(executed, "flamegraph")
    assert "image/svg+xml" in result.data, result.data.keys()
    root, frames = flame_graph_frames(result.data["image/svg+xml"])
    assert root.get("data-metric") == "blocked"
    assert ("wt-consumer", 1) in frames
