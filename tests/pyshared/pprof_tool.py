# SPDX-License-Identifier: LGPL-2.1-or-later
"""Go's pprof, the consumer the --pprof tests decode profiles with.
scripts/setup.sh builds it from Debian's golang-github-google-pprof-dev into
${XDG_CACHE_HOME:-~/.cache}/libwaketrace/pprof; PPROF names another one.
Without it the tests skip, except under CI=true (ci_rule)."""
import os
import pathlib
import re
import shutil
import subprocess

from ci_rule import skip_or_fail


def _cache_dirs():
    if os.environ.get("XDG_CACHE_HOME"):
        yield pathlib.Path(os.environ["XDG_CACHE_HOME"])
    yield pathlib.Path.home() / ".cache"
    # Tests run through sudo: the cache of whoever ran setup.sh.
    if os.environ.get("SUDO_USER"):
        yield pathlib.Path(os.path.expanduser("~" + os.environ["SUDO_USER"])) / ".cache"


def find_pprof():
    """The pprof program's path, or skip (fail under CI) saying how to get it."""
    candidates = [os.environ.get("PPROF")]
    candidates += [str(directory / "libwaketrace" / "pprof") for directory in _cache_dirs()]
    candidates.append(shutil.which("pprof"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    skip_or_fail("needs Go's pprof: run scripts/setup.sh (it builds it from Debian's "
                 "golang-github-google-pprof-dev), or set PPROF to one")


def pprof(tool, *args):
    """pprof's standard output; its -symbolize=none unless asked otherwise,
    so what shows is what the profile holds."""
    if not any(arg.startswith("-symbolize") for arg in args):
        args = ("-symbolize=none",) + args
    result = subprocess.run([tool, *args], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PPROF_TMPDIR": os.environ.get("TMPDIR", "/tmp")})
    assert result.returncode == 0, result.stderr
    return result.stdout


SAMPLE = re.compile(r"^\s+(\d+(?:\s+\d+)*):(( \d+)*)\s*$")
LABELS = re.compile(r"(\w+):\[([^\]]*)\]")


def raw_samples(raw):
    """The samples of `pprof -raw`: (values, location ids, {label: value})."""
    samples = []
    lines = raw.splitlines()
    start = lines.index("Samples:") + 2  # past the sample types' line
    for line in lines[start:]:
        if not line.strip() or not line.startswith(" "):
            break
        match = SAMPLE.match(line)
        if match:
            samples.append(([int(v) for v in match.group(1).split()],
                            [int(i) for i in match.group(2).split()], {}))
        elif samples:
            samples[-1][2].update(LABELS.findall(line))
    return samples


def traces(text):
    """The traces of `pprof -traces`: ({label: value}, frames innermost
    first, each as pprof prints it, " (inline)" included)."""
    result = []
    for block in text.split("-----------+-------------------------------------------------------")[1:]:
        labels, frames = {}, []
        for line in block.splitlines():
            label = re.match(r"^\s*(\w+):  (.*)$", line)
            if label and not frames:
                labels[label.group(1)] = label.group(2)
            elif frames:
                frames.append(line[13:])
            elif line.strip():
                # "%10s   %s": the sample's value, then the first frame.
                frames.append(re.match(r"^\s*\S+   (.*)$", line).group(1))
        if frames:
            result.append((labels, frames))
    return result
