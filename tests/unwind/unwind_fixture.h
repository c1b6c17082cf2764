// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A shared library built without frame pointers whose functions capture the
// stack they run on, the way the BPF program does in --dwarf mode.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UNWFIXTURE_STACK_BYTES (64 * 1024)

struct unwfixture_snapshot {
    uint64_t registers[17];  // DWARF numbering; only rip, rsp and the callee-saved are set
    uint64_t stack_address;  // rsp at the capture point
    size_t stack_size;       // up to UNWFIXTURE_STACK_BYTES, less near the stack's top
    unsigned char stack[UNWFIXTURE_STACK_BYTES];
};

// Captures registers and stack at a point inside itself. Returns a value its
// callers use, so their calls are not turned into jumps.
int unwfixture_capture(struct unwfixture_snapshot* out);

// outer -> middle -> inner -> capture, each keeping values live across its
// call, in callee-saved registers the unwinder must restore.
int unwfixture_outer(struct unwfixture_snapshot* out, int seed);
int unwfixture_middle(struct unwfixture_snapshot* out, int seed);
int unwfixture_inner(struct unwfixture_snapshot* out, int seed);

// Sorts a few numbers with libc's qsort; the comparator captures on its first
// call, so the stack goes through libc frames (built without frame pointers).
int unwfixture_sort_and_capture(struct unwfixture_snapshot* out);
int unwfixture_compare_and_capture(const void* a, const void* b);

#ifdef __cplusplus
}
#endif
