#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prints 'N passed, N failed, N skipped' over the meson test logs of the
given build directories; exits 1 if anything failed or nothing ran.
  count_results.py [--log LOGBASE] BUILD...
--log names the log meson test wrote with --logbase (default testlog)."""
import json
import sys

args = sys.argv[1:]
logbase = "testlog"
if args[:1] == ["--log"]:
    logbase, args = args[1], args[2:]
passed = failed = skipped = 0
for build in args:
    try:
        with open(f"{build}/meson-logs/{logbase}.json") as log:
            results = [json.loads(line)["result"] for line in log if line.strip()]
    except OSError:
        results = ["MISSING"]
    for result in results:
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
