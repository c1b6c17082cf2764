// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A namespaced C++ function, so the tests see a mangled name demangled.
// dlsym finds it as _ZN10symfixture5inner5twiceEi.

namespace symfixture::inner {

int twice(int value);

int twice(int value) {
    int doubled = value * 2;
    return doubled + 1;
}

}  // namespace symfixture::inner
