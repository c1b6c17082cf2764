// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#include "unwind_fixture.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// How many bytes from `address` up to the top of this thread's stack can be read.
static size_t readable_stack_above(uint64_t address) {
    pthread_attr_t attributes;
    if (pthread_getattr_np(pthread_self(), &attributes) != 0)
        return 0;
    void* lowest = NULL;
    size_t size = 0;
    int error = pthread_attr_getstack(&attributes, &lowest, &size);
    pthread_attr_destroy(&attributes);
    uint64_t top = (uint64_t)(uintptr_t)lowest + size;
    return error == 0 && address < top ? (size_t)(top - address) : 0;
}

// Copies raw stack as the BPF program does, the sanitizer's redzones of the
// frames above included: AddressSanitizer must not check these reads (nor
// may the compiler turn the loop into an intercepted memcpy: volatile).
__attribute__((no_sanitize_address, noinline)) static void copy_raw_stack(
    uint8_t* to, const volatile uint8_t* from, size_t size) {
    for (size_t i = 0; i < size; ++i)
        to[i] = from[i];
}

__attribute__((noinline)) int unwfixture_capture(struct unwfixture_snapshot* out) {
    memset(out->registers, 0, sizeof out->registers);
    // Everything is read at label 1, so the CFI for that address describes
    // exactly these values. Only registers an unwinder needs are taken: rip,
    // rsp and the callee-saved ones (rbx 3, rbp 6, r12-r15 12-15).
    __asm__ volatile(
        "1:\n\t"
        "leaq 1b(%%rip), %%rax\n\t"
        "movq %%rax, 128(%[registers])\n\t"
        "movq %%rsp, 56(%[registers])\n\t"
        "movq %%rbx, 24(%[registers])\n\t"
        "movq %%rbp, 48(%[registers])\n\t"
        "movq %%r12, 96(%[registers])\n\t"
        "movq %%r13, 104(%[registers])\n\t"
        "movq %%r14, 112(%[registers])\n\t"
        "movq %%r15, 120(%[registers])\n\t"
        :
        : [registers] "r"(out->registers)
        : "rax", "memory");
    // What lies above rsp (return addresses, saved registers) was written
    // before the label and stays as it was; calls from here on use the stack
    // below rsp, outside the copy.
    uint64_t rsp = out->registers[7];
    size_t size = readable_stack_above(rsp);
    if (size > sizeof out->stack)
        size = sizeof out->stack;
    copy_raw_stack(out->stack, (const volatile uint8_t*)(uintptr_t)rsp, size);
    out->stack_address = rsp;
    out->stack_size = size;
    return (int)(size & 1);
}

__attribute__((noinline)) int unwfixture_inner(struct unwfixture_snapshot* out, int seed) {
    int kept = seed * 7 + 1;
    int result = unwfixture_capture(out);
    return result + kept;
}

__attribute__((noinline)) int unwfixture_middle(struct unwfixture_snapshot* out, int seed) {
    int first = seed * 3;
    int second = seed ^ 0x55;
    int result = unwfixture_inner(out, seed + 1);
    return result + first * second;
}

__attribute__((noinline)) int unwfixture_outer(struct unwfixture_snapshot* out, int seed) {
    int first = seed + 11;
    int second = seed * seed;
    int third = seed - 5;
    int result = unwfixture_middle(out, seed + 1);
    return result * first + second - third;
}

// qsort's comparator takes no context, so the snapshot to fill waits here.
static struct unwfixture_snapshot* pending_capture;

__attribute__((noinline)) int unwfixture_compare_and_capture(const void* a, const void* b) {
    if (pending_capture) {
        struct unwfixture_snapshot* out = pending_capture;
        pending_capture = NULL;
        unwfixture_capture(out);
    }
    int left = *(const int*)a;
    int right = *(const int*)b;
    return (left > right) - (left < right);
}

__attribute__((noinline)) int unwfixture_sort_and_capture(struct unwfixture_snapshot* out) {
    int values[8] = {5, 3, 8, 1, 9, 2, 7, 4};
    pending_capture = out;
    qsort(values, 8, sizeof values[0], unwfixture_compare_and_capture);
    return values[0] * 10 + values[7];
}
