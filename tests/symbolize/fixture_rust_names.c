// SPDX-License-Identifier: LGPL-2.1-or-later
//
// C functions carrying Rust symbol names, so the symbolizer tests see Rust
// names without a Rust compiler: a legacy (Itanium-style, hashed) one and a
// v0 one ("symfixture::rust::legacy" and "symfixture::rust::v0" in Rust).

int symfixture_rust_legacy(int value) __asm__("_ZN10symfixture4rust6legacy17h0123456789abcdefE");
int symfixture_rust_v0(int value) __asm__("_RNvNtCs1234_10symfixture4rust2v0");

int symfixture_rust_legacy(int value) {
    int result = value * 5;
    return result - 2;
}

int symfixture_rust_v0(int value) {
    int result = value * 9;
    return result + 4;
}
