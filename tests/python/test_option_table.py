# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every scalar option of include/waketrace/options.hpp is a Profiler
keyword of the same name, with the same bounds, shown in the docstring with
its default (tests/options/test_option_table.cpp checks the command line and
the C struct)."""
import re

import pytest

import waketrace

ROWS = waketrace._option_table()
NUMBERS = [row for row in ROWS if row["kind"] != "flag"]
FLAGS = [row for row in ROWS if row["kind"] == "flag"]


def names(rows):
    return [row["name"] for row in rows]


def test_the_table_is_not_empty():
    assert "max_chains" in names(ROWS) and "stack_sample_percent" in names(ROWS)
    assert len(names(ROWS)) == len(set(names(ROWS)))


def signature():
    doc = waketrace.Profiler.__doc__
    match = re.search(r"Profiler\(\*,(.*?)\)\n", doc, re.S)
    assert match, doc
    return dict(item.strip().split("=") for item in match.group(1).split(","))


@pytest.mark.parametrize("row", ROWS, ids=names(ROWS))
def test_each_row_is_a_documented_keyword_with_its_default(row):
    shown = signature()[row["name"]]
    if row["kind"] == "flag":
        assert shown == str(bool(row["default"]))
    elif row["default"] is None or row["default"] == row["type_max"]:
        assert shown == "None"
    else:
        assert shown == str(row["default"])
    assert re.search(rf"^{row['name']}: \S", waketrace.Profiler.__doc__, re.M)


def make(name, value):
    """A Profiler with one option set (and min_block_us low enough for any max_block_us)."""
    keywords = {"min_block_us": 0}
    keywords[name] = value
    return waketrace.Profiler(**keywords)


@pytest.mark.parametrize("row", NUMBERS, ids=names(NUMBERS))
def test_each_number_takes_its_bounds_and_refuses_what_lies_outside(row):
    name = row["name"]
    make(name, row["max"])
    if row["default"] is not None:
        make(name, row["default"])
    if row["max"] < row["type_max"]:
        with pytest.raises(ValueError, match=rf"{name} must be .*, not {row['max'] + 1}"):
            make(name, row["max"] + 1)
    if row["min"] > 1 or (row["min"] == 1 and not row["zero_allowed"]):
        with pytest.raises(ValueError, match=rf"{name} must be"):
            make(name, row["min"] - 1)
    for outside in (-1, row["type_max"] + 1):
        with pytest.raises(ValueError, match=rf"{name}={outside} is out of range \(0 to {row['type_max']}\)"):
            make(name, outside)
    with pytest.raises(TypeError, match=rf"{name} must be an integer"):
        make(name, 1.5)


@pytest.mark.parametrize("row", FLAGS, ids=names(FLAGS))
def test_each_flag_takes_true_or_false_only(row):
    make(row["name"], True)
    make(row["name"], False)
    with pytest.raises(TypeError, match=rf"{row['name']} must be True or False"):
        make(row["name"], 1)


def test_none_is_the_default_and_unknown_keywords_are_type_errors():
    waketrace.Profiler(**{row["name"]: None for row in ROWS})
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_chain'"):
        waketrace.Profiler(max_chain=10)
