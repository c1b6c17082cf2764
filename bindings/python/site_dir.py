# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prints the directory of this interpreter's own module search path
(site.getsitepackages()) that lies under PREFIX/lib*, where a module
installed under PREFIX is found; prints nothing when there is none.

Debian's python3 searches /usr/local/lib/python3.X/dist-packages and
/usr/lib/python3/dist-packages: the first for PREFIX /usr/local, the second
for /usr. Usage: site_dir.py PREFIX"""
import os
import site
import sys

prefix = os.path.normpath(sys.argv[1])
for directory in site.getsitepackages():
    if os.path.relpath(directory, prefix).split(os.sep)[0].startswith("lib"):
        print(directory)
        break
