#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The shared library exports exactly the symbols its version script lists,
each in the version node the script puts it in.
Usage: check_exports.py LIBRARY MAP_FILE"""
import re
import subprocess
import sys

library, map_file = sys.argv[1], sys.argv[2]

expected = {}
node = None
for line in open(map_file):
    line = re.sub(r"/\*.*?\*/", "", line).strip()
    opening = re.match(r"^(WAKETRACE_[0-9.]+)\s*\{", line)
    if opening:
        node = opening.group(1)
    elif re.match(r"^[A-Za-z_][A-Za-z0-9_]*;$", line) and node:
        expected[line[:-1]] = node

nm = subprocess.run(["nm", "-D", "--defined-only", library], capture_output=True, text=True, check=True)
exported = {}
for line in nm.stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] != "A":
        name, _, version = parts[2].partition("@@")
        exported[name] = version

missing = sorted(set(expected) - set(exported))
extra = sorted(set(exported) - set(expected))
wrong_node = sorted(n for n in expected if n in exported and exported[n] != expected[n])
for name in missing:
    print(f"listed in {map_file} but not exported: {name}")
for name in extra:
    print(f"exported but not listed in {map_file}: {name}")
for name in wrong_node:
    print(f"{name} is in node {exported[name]}, the map says {expected[name]}")
if missing or extra or wrong_node or not expected:
    sys.exit(1)
print(f"{len(expected)} symbols exported, as listed")
