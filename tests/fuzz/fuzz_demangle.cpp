// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Symbol names come from whatever binaries the profiled processes map, so the
// demanglers read hostile text: the Rust v0 reader (written here) and the
// C++ and legacy Rust path around __cxa_demangle.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "symbolize/demangle.hpp"
#include "symbolize/rust_v0_demangle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view name(reinterpret_cast<const char*>(data), size);
    // Whatever cannot be demangled comes back as it was, so a name never
    // turns empty.
    const std::string readable = waketrace::detail::demangle(name);
    if (readable.empty() != name.empty())
        std::abort();
    // The v0 reader on its own too, also for names without the "_R" prefix.
    const std::optional<std::string> rust = waketrace::detail::demangle_rust_v0(name);
    if (rust && rust->empty())
        std::abort();
    return 0;
}
