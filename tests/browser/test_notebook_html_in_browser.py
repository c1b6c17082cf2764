# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a notebook shows for a Profile (_repr_html_), in headless Chromium:
two profiles' displays on one page, as two cells would put them, each graph
zooming on its own (the script finds its own <svg>), and the table of top
chains sorting by the heading clicked. Profiles two Python threads passing
a token through a pipe, with the module from the build tree."""
import pytest

import waketrace
from ci_rule import require_root
from workloads import PipeTokenPass


@pytest.fixture(scope="module")
def notebook_page(browser, tmp_path_factory):
    require_root()
    work = PipeTokenPass(5, 0.01)
    with waketrace.Profiler(tids=[work.reader.tid, work.writer.tid]) as profiler:
        work.run()
    profile = profiler.results()
    page = tmp_path_factory.mktemp("notebook") / "cells.html"
    page.write_text("<!DOCTYPE html>\n<html><body>\n<div>" + profile._repr_html_() + "</div>\n<div>" +
                    profile._repr_html_() + "</div>\n</body></html>\n")
    browser.get(page.as_uri())
    return browser, profile


def graphs(driver):
    return driver.find_elements("css selector", "svg.waketrace-flamegraph")


def widths(graph):
    return [rect.get_attribute("width") for rect in graph.find_elements("css selector", ".frames > g > rect")]


def test_each_graph_zooms_on_its_own(notebook_page):
    driver, _ = notebook_page
    first, second = graphs(driver)
    untouched = widths(first)
    frame = next(g for g in second.find_elements("css selector", ".frames > g")
                 if g.get_attribute("data-depth") == "2")
    frame.find_element("css selector", "rect").click()
    assert float(frame.find_element("css selector", "rect").get_attribute("width")) == pytest.approx(1180)
    assert second.find_element("css selector", ".reset").is_displayed()
    assert widths(first) == untouched
    assert not first.find_element("css selector", ".reset").is_displayed()


def column(table, index):
    return [row.find_elements("css selector", "td")[index].text
            for row in table.find_elements("css selector", "tbody tr")]


def test_the_table_sorts_by_the_heading_clicked(notebook_page):
    driver, profile = notebook_page
    table = driver.find_elements("css selector", "table.waketrace-chains")[0]
    headings = table.find_elements("css selector", "th")
    assert [h.text for h in headings[:4]] == ["#", "target", "wakers", "total \u00b5s"]
    totals = [float(text) for text in column(table, 3)]
    assert totals == sorted(totals, reverse=True)
    assert len(totals) == min(20, len(profile.chains))
    counts = lambda: [int(text) for text in column(table, 7)]
    headings[7].click()  # count: largest first
    assert counts() == sorted(counts(), reverse=True)
    headings[7].click()  # again: smallest first
    assert counts() == sorted(counts())
    headings[1].click()  # target, as text
    targets = column(table, 1)
    assert targets == sorted(targets)
    assert {text.split()[0] for text in targets} <= {"wt-py-reader", "wt-py-writer"}
