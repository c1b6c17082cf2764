#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The installed tree as a new user meets it. Installs this build into a
# destdir (nothing touches the system), then:
#   1. pkg-config finds waketrace with only the destdir's .pc files visible
#      (the -dev packages' ones hidden), so it needs no -dev package;
#   2. the C example, the minimal C++ example and the Google Benchmark
#      example, copied out of the tree, build with
#      `pkg-config --cflags --libs waketrace` alone (the benchmark adds
#      Google Benchmark's own flags) and load the destdir's libwaketrace.so;
#   3. they pass the examples' own tests (tests/examples), run for real;
#   4. /usr/bin/python3 searches the directory the Python module went to, and
#      imports it from the destdir and profiles a pipe token pass with it.
# Tracing needs root: without it the test is skipped, except under CI=true,
# where it fails.
#
# Environment (tests/install/meson.build): BUILD_DIR, SOURCE_DIR, MESON,
# PREFIX, LIBDIR and PYTHON_DIR (absolute, as installed), DEMO (the demo
# workload, from the build tree), PYTEST_SHARED.
set -euo pipefail
# meson test points it at the build tree; the installed programs must not need it.
unset LD_LIBRARY_PATH

say() { echo "install: $*"; }
fail() {
  echo "install: FAILED: $*" >&2
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  if [ "${CI:-}" = true ]; then
    fail "needs root (CAP_BPF and CAP_PERFMON) to run the installed examples, and CI must run it"
  fi
  echo "SKIP: the installed examples trace, which needs root (CAP_BPF and CAP_PERFMON); run with sudo."
  exit 77
fi

# Readable by all: the examples' tests also run them as nobody.
work=$(mktemp -d /tmp/waketrace-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
dest=$work/destdir

say "meson install --destdir $dest"
"$MESON" install -C "$BUILD_DIR" --no-rebuild --quiet --destdir "$dest" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "meson install"; }

# 1. Only the destdir's .pc files; PKG_CONFIG_SYSROOT_DIR puts the destdir in
# front of the -I and -L paths the .pc file gives for the real prefix.
installed_pkgconfig() {
  PKG_CONFIG_LIBDIR="$dest$LIBDIR/pkgconfig" PKG_CONFIG_PATH="" PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config "$@"
}
if installed_pkgconfig --exists libbpf; then
  fail "the system's .pc files are still visible (libbpf found): the check would prove nothing"
fi
waketrace_flags=$(installed_pkgconfig --cflags --libs waketrace) ||
  fail "pkg-config --cflags --libs waketrace with only the installed .pc file"
say "pkg-config --cflags --libs waketrace: $waketrace_flags"
case " $waketrace_flags " in
  *" -I$dest"*" -L$dest"*) ;;
  *) fail "the flags do not point into the destdir" ;;
esac

# 2. Built outside the tree. Google Benchmark's flags come from its own .pc
# file (libbenchmark-dev): a benchmark's author has it; waketrace's come from
# the destdir alone.
cp "$SOURCE_DIR/examples/c/profile_pid.c" "$SOURCE_DIR/examples/cxx/who_woke.cpp" \
  "$SOURCE_DIR/examples/benchmark/handoff_bench.cpp" "$work/"
benchmark_flags=$(pkg-config --cflags --libs benchmark) || fail "Google Benchmark's pkg-config file (libbenchmark-dev)"
warnings=(-Wall -Wextra -Werror)
# shellcheck disable=SC2086  # the flags are words, as a user's shell splits them
{
  cc -std=c99 -O2 "${warnings[@]}" -o "$work/profile_pid" "$work/profile_pid.c" $waketrace_flags &&
  c++ -std=c++17 -O2 "${warnings[@]}" -o "$work/who_woke" "$work/who_woke.cpp" $waketrace_flags &&
  c++ -std=c++17 -O2 "${warnings[@]}" -o "$work/handoff-bench" "$work/handoff_bench.cpp" \
    $waketrace_flags $benchmark_flags
} || fail "building the examples against the installed tree"
say "built profile_pid, who_woke and handoff-bench against the installed tree"

export LD_LIBRARY_PATH="$dest$LIBDIR"
for program in profile_pid who_woke handoff-bench; do
  loaded=$(ldd "$work/$program" | awk '$1 ~ /^libwaketrace\.so/ { print $3 }')
  case "$loaded" in
    "$dest"/*) ;;
    *) fail "$program loads libwaketrace from '$loaded', not from the destdir" ;;
  esac
done

# 3. The examples' own tests, on the programs built here.
say "the examples' tests (tests/examples) on those programs"
PROFILE_PID=$work/profile_pid WHO_WOKE=$work/who_woke HANDOFF_BENCH=$work/handoff-bench \
  WAKETRACE_DEMO=$DEMO PYTHONPATH=$PYTEST_SHARED PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "$SOURCE_DIR/tests/examples" ||
  fail "the examples built against the installed tree"

# 4. The Python module, from where it was installed.
unset LD_LIBRARY_PATH
say "the Python module from $dest$PYTHON_DIR"
PYTHONPATH="$dest$PYTHON_DIR:$SOURCE_DIR/tests/python" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 "$SOURCE_DIR/tests/install/python_installed.py" \
  "$dest" "$PYTHON_DIR" "$PREFIX" "$SOURCE_DIR/bindings/python/site_dir.py" ||
  fail "the installed Python module"
say "all checks passed"
