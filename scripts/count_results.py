#!/usr/bin/env python3
"""Prints 'N passed, N failed, N skipped' over the meson test logs of the
given build directories; exits 1 if anything failed or nothing ran."""
import json
import sys

passed = failed = skipped = 0
for build in sys.argv[1:]:
    try:
        with open(f"{build}/meson-logs/testlog.json") as log:
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
