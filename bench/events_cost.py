#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the event stream costs (issue 12): `waketrace --perfetto FILE` (every
period sent to user space as an event, kept, and written as a Perfetto trace
at the end) and `waketrace --trigger-blocked 1000` (an idle flight recorder:
every event read into its window, no stall long enough to write) against
`waketrace` with the same options, per context switch, on the pinned pipe
ping-pong, measured as bench/option_cost.py says:

    sudo /usr/bin/python3 bench/events_cost.py [--rounds 7] [--json FILE]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import option_cost  # noqa: E402


def variants(waketrace, workdir):
    return [("--perfetto", [str(waketrace), "--perfetto", str(workdir / "trace.pftrace")]),
            ("--trigger-blocked 1000", [str(waketrace), "--trigger-blocked", "1000", "--trigger-dir", str(workdir)])]


if __name__ == "__main__":
    option_cost.compare(__doc__, variants)
