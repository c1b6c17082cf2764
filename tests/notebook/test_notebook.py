# SPDX-License-Identifier: LGPL-2.1-or-later
"""Executes examples/notebook/waketrace.ipynb headlessly, as a reader would,
and checks that its table of top chains shows the consumer thread woken by
the producer. The notebook path and PYTHONPATH come from meson."""
import os
import subprocess
import sys
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
