// SPDX-License-Identifier: LGPL-2.1-or-later
//
// An optimised (-O2 -g) library where one function is always inlined into
// another, for the tests of inline frames. The tests find the lines they
// expect by the "line:" markers below, so edits here need no test changes.
#include <cstdint>

namespace symfixture::inlining {

namespace {
void* recorded_return_address = nullptr;
}

// noipa: a real call GCC can neither inline nor analyse away, so the
// return address it records is inside whatever called it.
__attribute__((noipa)) int record_return_address(int value) {
    recorded_return_address = __builtin_return_address(0);
    return value + 1;
}

__attribute__((always_inline)) inline int scaled(int value) {
    int recorded = record_return_address(value * 3);  // line: call in scaled
    return recorded * 7;
}

__attribute__((noinline)) int outer(int value) {
    int result = scaled(value + 2);  // line: scaled in outer
    return result - 5;
}

}  // namespace symfixture::inlining

// Runs outer() and returns the return address recorded inside the inlined
// scaled(): what a stack walk would find in that frame.
extern "C" uint64_t symfixture_inline_return_address(int value) {
    symfixture::inlining::recorded_return_address = nullptr;
    volatile int result = symfixture::inlining::outer(value);
    (void)result;
    return reinterpret_cast<uint64_t>(symfixture::inlining::recorded_return_address);
}
