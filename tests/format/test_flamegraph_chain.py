# SPDX-License-Identifier: LGPL-2.1-or-later
"""A three-level chain's folded line (chain_folded_sample, built from
tests/format/builders.hpp) drawn by flamegraph.pl --color=chain, the renderer
offwaketime's users feed: the flame must stack the frames in the line's order
(target at the bottom, then each hop above the one it caused) and colour
every frame after the first "--" as a waker's (aqua), the target's as
off-CPU (blue).

flamegraph.pl comes from FLAMEGRAPH_PL, or else from the oracles kept beside
the project (ORACLE_FLAMEGRAPH_PL, ../shared/oracles/flamegraph.pl). A clone
without that folder skips; where it is expected (FLAMEGRAPH_PL set, or the
oracles folder present) a missing script or perl fails under CI=true."""
import os
import pathlib
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest

from ci_rule import skip_or_fail

SVG = "{http://www.w3.org/2000/svg}"


def flamegraph_script():
    chosen = os.environ.get("FLAMEGRAPH_PL")
    oracle = pathlib.Path(os.environ["ORACLE_FLAMEGRAPH_PL"])
    script = pathlib.Path(chosen) if chosen else oracle
    if not script.is_file():
        reason = f"flamegraph.pl not found at {script}"
        if chosen or oracle.parent.is_dir():
            skip_or_fail(reason)
        pytest.skip(reason + " (no oracles folder beside this clone; set FLAMEGRAPH_PL)")
    if shutil.which("perl") is None:
        skip_or_fail("perl is not installed: flamegraph.pl needs it")
    return script


def folded_sample(end):
    return subprocess.run([os.environ["CHAIN_FOLDED_SAMPLE"], end], check=True, capture_output=True,
                          text=True).stdout


def flame_tower(folded):
    """The frames flamegraph.pl draws for one folded line, bottom to top, as
    (name, (r, g, b)); the root "all" left out."""
    svg = subprocess.run(["perl", str(flamegraph_script()), "--color=chain", "--countname=microsecs"],
                         input=folded, check=True, capture_output=True, text=True).stdout
    frames = []
    for group in ElementTree.fromstring(svg).iter(SVG + "g"):
        title, rect = group.find(SVG + "title"), group.find(SVG + "rect")
        if title is None or rect is None:
            continue
        name = title.text.rsplit(" (", 1)[0]
        fill = tuple(int(part) for part in re.fullmatch(r"rgb\((\d+),(\d+),(\d+)\)", rect.get("fill")).groups())
        frames.append((float(rect.get("y")), name, fill))
    frames.sort(reverse=True)  # larger y is lower: the root first
    assert frames and frames[0][1] == "all", frames[:2]
    return [(name, fill) for _, name, fill in frames[1:]]


# flamegraph.pl's palettes: aqua has green == blue above red, blue has
# red == green below blue; its "--" separators are grey.
def is_aqua(fill):
    red, green, blue = fill
    return green == blue and red < green


def is_blue(fill):
    red, green, blue = fill
    return red == green and blue > red


@pytest.mark.parametrize("end", ["complete", "depth_reached"])
def test_hops_stack_in_order_and_wakers_are_aqua(end):
    folded = folded_sample(end)
    line, total = folded.rstrip("\n").rsplit(" ", 1)
    assert int(total) == 2100
    tower = flame_tower(folded)

    # One line, so one tower: exactly its frames, in its order.
    assert [name for name, _ in tower] == line.split(";")
    names = [name for name, _ in tower]
    wakers = [names.index(waker) for waker in ("relay-2", "relay-1", "[hardirq]")]
    assert names[0] == "relay-3" and wakers == sorted(wakers), names
    # Between two wakers: "--", the wait the lower one had blocked in, "--".
    assert names[wakers[0] + 1:wakers[0] + 4] == ["--", "__schedule", "schedule"]
    assert names[wakers[1] + 1:wakers[1] + 4] == ["--", "__schedule", "schedule"]
    if end == "depth_reached":
        assert names[-2:] == ["--", "[deeper wakers not traced]"]
    else:
        assert names[-1] == "[hardirq]"

    first_separator = names.index("--")
    for position, (name, fill) in enumerate(tower):
        if name == "--":
            continue
        if position < first_separator:
            assert is_blue(fill), (name, fill)
        else:
            assert is_aqua(fill), (name, fill)
