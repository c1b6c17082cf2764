#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Source hygiene: every tracked source, script and build file names its
licence with an SPDX line within its first three lines. Prints each file
without one and exits 1 if any.

Usage: check_sources.py   (run from anywhere inside the git checkout; outside
one, e.g. in a release tarball, it checks every file under the source root)
"""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Files that are data, not code: test inputs, generated baselines, notebooks,
# licence texts, prose.
SKIPPED_SUFFIXES = {".md", ".json", ".ipynb", ".abi", ".txt", ".map", ".bt", ".wrap"}
SKIPPED_PREFIXES = ("tests/fuzz/corpus/", "tests/fuzz/regressions/", "LICENSES/")
SKIPPED_NAMES = {".gitignore", ".clang-format"}


def tracked_files():
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout
        return [ROOT / line for line in out.splitlines()]
    except (OSError, subprocess.CalledProcessError):
        return [p for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.parts
                and not p.relative_to(ROOT).parts[0].startswith("build")]


def needs_spdx(path: pathlib.Path) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    return not (path.suffix in SKIPPED_SUFFIXES or path.name in SKIPPED_NAMES
                or relative.startswith(SKIPPED_PREFIXES))


def has_spdx(path: pathlib.Path) -> bool:
    try:
        with path.open(errors="replace") as source:
            head = [source.readline() for _ in range(3)]
    except OSError:
        return False
    return any("SPDX-License-Identifier:" in line for line in head)


def main() -> int:
    missing = [p for p in tracked_files() if p.exists() and needs_spdx(p) and not has_spdx(p)]
    for path in missing:
        print(f"{path.relative_to(ROOT)}: no SPDX-License-Identifier line in its first 3 lines")
    print(f"{len(missing)} files without an SPDX line")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
