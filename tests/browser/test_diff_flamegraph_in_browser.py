# SPDX-License-Identifier: LGPL-2.1-or-later
"""`waketrace --diff` on two hand-written folded files with known values,
opened in headless Chromium: frames as wide as AFTER's values, red where the
time grew and blue where it shrank; clicking a frame zooms it to the full
width; the switch to BEFORE's widths draws the stack that vanished; hovering
describes a frame. A screenshot is kept (diff-flamegraph.png). Nothing is
traced: only Debian's chromium, chromium-driver and python3-selenium are
needed (without them the tests skip, except under CI=true)."""
import os
import pathlib
import re
import subprocess

import pytest

ARTIFACTS = pathlib.Path(os.environ["BROWSER_ARTIFACTS"])

BEFORE = "app;main;read 100\napp;main;write 100\napp;poll 200\napp;sleep 80\n"
AFTER = "app;main;read 300\napp;main;write 50\napp;poll 200\napp;accept 20\n"
AFTER_TOTAL, BEFORE_TOTAL = 570, 480


@pytest.fixture(scope="module")
def diff_svg(tmp_path_factory):
    out = tmp_path_factory.mktemp("diff")
    (out / "before.folded").write_text(BEFORE)
    (out / "after.folded").write_text(AFTER)
    svg = out / "diff.svg"
    result = subprocess.run([os.environ["WAKETRACE"], "--diff", str(out / "before.folded"),
                             str(out / "after.folded"), "--svg", str(svg)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return svg


@pytest.fixture
def page(browser, diff_svg):
    browser.get(diff_svg.as_uri())
    return browser


FRAMES_SCRIPT = """
return Array.from(document.querySelectorAll('.frames > g')).map(function (g) {
  var rect = g.querySelector('rect');
  return {name: g.querySelector('title').textContent.split('\\n')[0],
          depth: Number(g.getAttribute('data-depth')), fill: rect.getAttribute('fill'),
          x: Number(rect.getAttribute('x')), width: Number(rect.getAttribute('width')),
          hidden: g.classList.contains('hide'), delta: Number(g.getAttribute('data-delta-us'))};
});
"""


def frames_of(driver):
    return {(f["depth"], f["name"]): f for f in driver.execute_script(FRAMES_SCRIPT)}


def inner_width(driver):
    return driver.execute_script(
        "var s = document.documentElement;"
        "return Number(s.getAttribute('width')) - 2 * Number(s.getAttribute('data-pad'));")


def hue(fill):
    r, g, b = map(int, re.fullmatch(r"rgb\((\d+),(\d+),(\d+)\)", fill).groups())
    if r == g == b:
        return "grey"
    if r == 255 and g == b:
        return "red"
    if b == 255 and r == g:
        return "blue"
    return "other"


def click(driver, depth, name):
    for element in driver.find_elements("css selector", ".frames > g"):
        if (int(element.get_attribute("data-depth")) == depth and
                element.find_element("css selector", "title").get_attribute("textContent").split("\n")[0] == name):
            element.find_element("css selector", "rect").click()
            return
    raise AssertionError(f"no frame {name} at depth {depth}")


def test_widths_by_after_and_colours_by_change(page):
    frames = frames_of(page)
    inner = inner_width(page)
    expected = {(3, "read"): (300, "red"), (3, "write"): (50, "blue"), (2, "poll"): (200, "grey"),
                (2, "accept"): (20, "red"), (2, "main"): (350, "red")}
    for key, (after, colour) in expected.items():
        frame = frames[key]
        assert not frame["hidden"], key
        assert frame["width"] == pytest.approx(after / AFTER_TOTAL * inner, abs=0.01), key
        assert hue(frame["fill"]) == colour, (key, frame["fill"])
    assert frames[(2, "sleep")]["hidden"]
    assert hue(frames[(2, "sleep")]["fill"]) == "blue"


def test_clicking_a_frame_zooms_it_to_the_full_width(page):
    inner = inner_width(page)
    click(page, 2, "main")
    frames = frames_of(page)
    assert frames[(2, "main")]["width"] == pytest.approx(inner, abs=0.01)
    assert frames[(3, "read")]["width"] == pytest.approx(300 / 350 * inner, abs=0.01)
    assert frames[(2, "poll")]["hidden"]
    page.find_element("css selector", ".reset").click()
    assert frames_of(page)[(2, "main")]["width"] == pytest.approx(350 / AFTER_TOTAL * inner, abs=0.01)


def test_the_switch_to_before_draws_the_vanished_stack(page):
    inner = inner_width(page)
    page.find_element("css selector", ".metric[data-metric='before']").click()
    frames = frames_of(page)
    sleep = frames[(2, "sleep")]
    assert not sleep["hidden"]
    assert sleep["width"] == pytest.approx(80 / BEFORE_TOTAL * inner, abs=0.01)
    assert hue(sleep["fill"]) == "blue"
    assert frames[(2, "accept")]["hidden"]  # new in AFTER: no width in BEFORE


def test_hovering_a_frame_describes_it_without_periods(page):
    from selenium.webdriver.common.action_chains import ActionChains
    for element in page.find_elements("css selector", ".frames > g"):
        if element.find_element("css selector", "title").get_attribute("textContent").startswith("read\n"):
            ActionChains(page).move_to_element(element.find_element("css selector", "rect")).perform()
            break
    details = page.find_element("css selector", ".details").text
    assert details == "read (300 \u00b5s, 52.63%)", details


def test_a_screenshot_is_kept(page):
    target = ARTIFACTS / "diff-flamegraph.png"
    target.unlink(missing_ok=True)
    page.find_element("css selector", "svg").screenshot(str(target))
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
