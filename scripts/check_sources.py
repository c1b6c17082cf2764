#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Source hygiene: every tracked source, script and build file names its
licence with an SPDX line within its first three lines, and every C++
source (.cpp, .hpp) is laid out as .clang-format says (clang-format
--dry-run --Werror). Prints each file that is not and exits 1 if any.
Without clang-format the layout is not checked: exit 77 (meson's skip), or,
under CI=true, a failure.

Usage: check_sources.py   (run from anywhere inside the git checkout; outside
one, e.g. in a release tarball, it checks every file under the source root)
"""
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Files that are data, not code: test inputs, generated baselines, notebooks,
# licence texts, prose, pictures.
SKIPPED_SUFFIXES = {".md", ".json", ".ipynb", ".abi", ".txt", ".map", ".bt", ".wrap", ".png"}
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


def badly_laid_out(files, clang_format):
    """The C++ files clang-format would change."""
    sources = [str(p) for p in files if p.suffix in (".cpp", ".hpp") and p.exists()]
    result = subprocess.run([clang_format, "--dry-run", "--Werror", *sources], cwd=ROOT,
                            capture_output=True, text=True)
    return sorted({line.split(":", 1)[0] for line in result.stderr.splitlines()
                   if ": error:" in line})


def main() -> int:
    files = tracked_files()
    missing = [p for p in files if p.exists() and needs_spdx(p) and not has_spdx(p)]
    for path in missing:
        print(f"{path.relative_to(ROOT)}: no SPDX-License-Identifier line in its first 3 lines")
    print(f"{len(missing)} files without an SPDX line")

    clang_format = shutil.which("clang-format")
    if not clang_format:
        print("clang-format not found (scripts/setup.sh installs it): layout not checked")
        if missing:
            return 1
        return 1 if os.environ.get("CI") == "true" else 77
    unformatted = badly_laid_out(files, clang_format)
    for path in unformatted:
        print(f"{path}: not laid out as .clang-format says (clang-format -i {path})")
    print(f"{len(unformatted)} C++ files not laid out as .clang-format says")
    return 1 if missing or unformatted else 0


if __name__ == "__main__":
    sys.exit(main())
