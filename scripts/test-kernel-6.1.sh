#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kernel-facing tests on Debian 12's kernel (6.1), in a qemu guest: the
# live BPF tests, the waketrace tool's tests, the Python and example tests,
# built on this host into build/ and run in the guest against its kernel.
# Ends with one line "<kernel> guest: N passed, N failed, N skipped" and
# exits with the guest's test status (1 also when the guest never finished).
#
# It installs what is missing (mmdebstrap, qemu), builds the tree
# (scripts/setup.sh), builds the guest image once into build-guest/ (cached;
# rebuilt when scripts/kernel-guest/build-image.sh or guest-init change),
# and boots it with no network, the tree shared in over 9p. Needs root for
# mmdebstrap (sudo is used otherwise). Works without KVM (TCG), slowly.
#   GUEST_CACHE=DIR      where the image and results go (default build-guest/)
#   GUEST_TIMEOUT=SECS   the guest is killed after this long (default 3600)
#   GUEST_MIRROR=URL     the Debian archive (default http://deb.debian.org/debian)
#   GUEST_ACCEL=kvm      use KVM (default tcg: works everywhere, slowly)
#   GUEST_SUITES="live tool"   the meson suites to run (default: every suite
#                        that loads the BPF program)
#   GUEST_LIVE_TESTS=SPEC  the live tests to run, a Catch2 test spec (default:
#                        all but those tagged [precise-timing] and [speed]);
#                        e.g. 'cgroups*' for a quick look at one feature
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
cache=${GUEST_CACHE:-$repo/build-guest}
results="$cache/results"
here="$repo/scripts/kernel-guest"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
fail() {
  echo "6.1 guest: $1" >&2
  echo "6.1 guest: 0 passed, 1 failed"
  exit 1
}

missing=()
for package in mmdebstrap qemu-system-x86 e2fsprogs; do
  dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$' ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-kernel-6.1: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || fail "installing ${missing[*]} failed"
fi

scripts/setup.sh || fail "building the tree failed"
mkdir -p "$cache"
as_root "$here/build-image.sh" "$cache" || fail "building the guest image failed"
rm -rf "$results"
mkdir -p "$results"
cc -O2 -g -o "$results/pipe_sleep" "$here/pipe_sleep.c" || fail "building pipe_sleep failed"
# Go's pprof, which the --pprof tests decode with: setup.sh built it into
# the host's cache, out of the guest's reach; a Go binary runs there as is.
pprof_built=${XDG_CACHE_HOME:-$HOME/.cache}/libwaketrace/pprof
[ -x "$pprof_built" ] && cp "$pprof_built" "$results/pprof"
# What in-guest.sh runs, if asked for less than everything.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
  [ -n "${GUEST_SUITES:-}" ] && echo "suites=$(quote "$GUEST_SUITES")"
  [ -n "${GUEST_LIVE_TESTS:-}" ] && echo "WAKETRACE_LIVE_TESTS=$(quote "$GUEST_LIVE_TESTS")"
} > "$results/settings"

# TCG: no KVM needed. The root image is opened with snapshot=on, so each run
# starts from the same clean image; the guest writes only to the shares.
share=security_model=none
# TCG unless asked: on a host that is itself a VM, /dev/kvm may be there
# and the guest still hang at boot (seen here: 17 minutes without a line
# after the BIOS), while TCG always works, only slowly.
accel=${GUEST_ACCEL:-tcg}
# One host thread runs both emulated CPUs: with a thread per vCPU, the
# guest's live patching of tracepoint call sites (text_poke_bp: int3, then
# an IPI to every CPU), which each BPF attach and detach does, was seen to
# livelock, one vCPU looping in the int3 handler in __schedule while the
# other waited for it (RCU stalls, then a soft lockup), on an idle host too.
[ "$accel" = tcg ] && accel=tcg,thread=single
echo "test-kernel-6.1: booting the guest ($accel); its console follows"
timeout --kill-after=30 "${GUEST_TIMEOUT:-3600}" qemu-system-x86_64 \
  -accel "$accel" -cpu max -smp 2 -m 3G -nographic -no-reboot -nic none \
  -kernel "$cache/vmlinuz" -initrd "$cache/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 panic=-1 init=/sbin/guest-init guest_repo=$repo" \
  -drive "file=$cache/root.img,format=raw,if=virtio,snapshot=on" \
  -virtfs "local,path=$repo,mount_tag=repo,$share" \
  -virtfs "local,path=$results,mount_tag=results,$share" \
  < /dev/null 2>&1 | tee "$results/console.log"
qemu_status=${PIPESTATUS[0]}

[ -f "$results/status" ] ||
  fail "the guest left no result (qemu exit $qemu_status; see $results/console.log)"
cat "$results/summary"
exit "$(cat "$results/status")"
