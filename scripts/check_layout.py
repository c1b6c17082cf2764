#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that lib/'s includes follow the data path: a stage may include
its own headers and those of the stages before it, never a later one's
(capture/, unwind/ and decode/ do not know symbolize/, for instance).
Prints every include that runs against the path and exits 1 if any does.

Usage: check_layout.py [LIB_DIR]   (default: lib/ beside this script's parent)
"""
import pathlib
import re
import sys

# The data path, in order; lib/meson.build lists the same stages.
STAGES = ["support", "process", "capture", "unwind", "decode", "symbolize", "assemble", "format"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.MULTILINE)


def problems(lib_dir: pathlib.Path):
    rank = {stage: i for i, stage in enumerate(STAGES)}
    for stage_dir in sorted(p for p in lib_dir.iterdir() if p.is_dir()):
        if stage_dir.name not in rank:
            yield f"{stage_dir}: a folder that is not a stage (add it to STAGES in order)"
            continue
        for source in sorted(stage_dir.glob("*.[ch]pp")):
            for included in INCLUDE.findall(source.read_text()):
                if included in rank and rank[included] > rank[stage_dir.name]:
                    yield (f"{source}: includes {included}/, a later stage than "
                           f"{stage_dir.name}/")


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent
    lib_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / "lib"
    found = list(problems(lib_dir))
    for problem in found:
        print(problem)
    print(f"{len(found)} includes against the data path")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
