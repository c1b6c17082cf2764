# SPDX-License-Identifier: LGPL-2.1-or-later
"""Perfetto's own trace schema, the judge of the traces we write: protoc
decodes a trace with it, as perfetto.protos.Trace. The schema comes from the
oracles kept beside the project (ORACLE_PERFETTO_PROTO, normally
../shared/oracles/perfetto_trace.proto). A clone without that folder skips;
where the folder is there, a missing schema or protoc fails under CI=true."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from ci_rule import skip_or_fail


def perfetto_schema():
    schema = pathlib.Path(os.environ["ORACLE_PERFETTO_PROTO"])
    if not schema.is_file():
        reason = f"Perfetto's schema not found at {schema}"
        if schema.parent.is_dir():
            skip_or_fail(reason)
        pytest.skip(reason + " (no oracles folder beside this clone)")
    if shutil.which("protoc") is None:
        skip_or_fail("protoc is not installed (apt-get install protobuf-compiler)")
    return schema


def decode_trace(path):
    """The trace at `path` as protoc's text, which must have parsed cleanly."""
    schema = perfetto_schema()
    with open(path, "rb") as raw:
        result = subprocess.run(["protoc", "--decode=perfetto.protos.Trace", f"--proto_path={schema.parent}",
                                 schema.name], stdin=raw, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def unknown_fields(decoded):
    """Fields the schema does not know: protoc prints them as bare numbers."""
    return [line for line in decoded.splitlines() if re.match(r"\s*\d+\s*(:|\{)", line)]
