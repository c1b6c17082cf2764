// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Functions with known names for the symbolizer tests to find in a shared
// library. Built with -O0 -fno-inline so each is a real, sized function.

int symfixture_leaf(int value);
int symfixture_caller(int value);

int symfixture_leaf(int value) {
    int result = value * 3;
    result += 7;
    return result ^ 0x55;
}

// An alias at the same address: the symbolizer should prefer the public name.
int __symfixture_leaf_alias(int value) __attribute__((alias("symfixture_leaf")));

int symfixture_caller(int value) {
    return symfixture_leaf(value) + symfixture_leaf(value + 1);
}
