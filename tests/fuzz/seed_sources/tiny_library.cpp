// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A tiny shared library for the ELF fuzzer's seeds: C++ names (namespaces, a
// class, a template) whose DWARF nests functions inside scopes, inlining,
// and no libc (-nostdlib), so the binary stays a few KiB.
namespace seed {

template <typename T>
inline __attribute__((always_inline)) T square(T x) {
    return x * x;
}

class Counter {
public:
    __attribute__((noinline)) int bump(volatile int* p);
};

int Counter::bump(volatile int* p) { return square(*p) + 1; }

}  // namespace seed

extern "C" __attribute__((visibility("default"))) int seed_entry(volatile int* p) {
    seed::Counter counter;
    return counter.bump(p) + seed::square<long>(*p);
}
