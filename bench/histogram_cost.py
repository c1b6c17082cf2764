#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What latency histograms per chain cost (issue 11): `waketrace -H`
against `waketrace` with the same options, per context switch, on the pinned
pipe ping-pong, measured as bench/option_cost.py says:

    sudo /usr/bin/python3 bench/histogram_cost.py [--rounds 7] [--json FILE]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import option_cost  # noqa: E402

if __name__ == "__main__":
    option_cost.compare(__doc__, lambda waketrace, workdir: [("-H", [str(waketrace), "-H"])])
