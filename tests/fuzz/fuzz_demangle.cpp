// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Symbol names come from whatever binaries the profiled processes map, so the
// demangler reads hostile text: libiberty's C++ and Rust (legacy and v0)
// readers, and the code around them that keeps a name from turning empty.
// libiberty comes from Debian, built without coverage or sanitizers: a memory
// error inside it shows only when it crashes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "symbolize/demangle.hpp"

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view name(reinterpret_cast<const char*>(data), size);
    // Whatever cannot be demangled comes back as it was, so a name never
    // turns empty.
    const std::string readable = waketrace::detail::demangle(name);
    if (readable.empty() != name.empty())
        std::abort();
    // Only mangled names change: Itanium C++ ("_Z", and GCC's "_GLOBAL_"
    // constructor names), legacy Rust (Itanium-style) and Rust v0 ("_R").
    // Anything else comes back byte for byte, also past a NUL.
    if (readable != name && !starts_with(name, "_Z") && !starts_with(name, "_R") &&
        !starts_with(name, "_GLOBAL_"))
        std::abort();
    return 0;
}
