// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The smallest program with what the ELF fuzzer's seeds should show the
// symbolizer: an inlined function, a call chain, DWARF lines, a build-id.
// No libc (it starts at _start), so the binary stays a few KiB.
static inline __attribute__((always_inline)) int twice(int x) {
    return x * 2;
}

__attribute__((noinline)) int leaf(volatile int* p) {
    return twice(*p) + 1;
}

__attribute__((noinline)) int middle(volatile int* p) {
    return leaf(p) * 3;
}

void _start(void) {
    volatile int v = 4;
    int r = middle(&v);
    __asm__ volatile("mov %0, %%edi; mov $60, %%eax; syscall" ::"r"(r) : "rdi", "rax");
}
