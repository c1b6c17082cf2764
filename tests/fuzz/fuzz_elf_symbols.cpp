// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ELF and DWARF symbolization of hostile files: the input is an ELF file (the
// seeds are small real binaries, which the fuzzer mutates). Everything the
// symbolizer reads from a mapped file goes through here: the build-id note,
// the code segments the unwinder uses for the load bias, libdwfl's symbol
// tables, and the DWARF for inlined frames and source lines.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "memory_file.hpp"
#include "symbolize/build_id.hpp"
#include "symbolize/debug_symbols.hpp"
#include "unwind/load_bias.hpp"

using waketrace::detail::DebugSymbols;

namespace {

// Separate debug files are looked for beside this path, where there are none,
// and nowhere else: a fuzz run must not depend on what the machine has.
constexpr const char* input_path = "/nonexistent/fuzz-input";

void check_build_id(int fd) {
    const std::string id = waketrace::detail::read_build_id(fd);
    if (id.find_first_not_of("0123456789abcdef") != std::string::npos || id.size() % 2 != 0)
        std::abort();
}

void check_code_segments(int fd) { (void)waketrace::detail::read_code_segments(fd); }

void check_symbolization(const waketrace::fuzz::MemoryFile& file, size_t size) {
    std::optional<DebugSymbols> symbols;
    try {
        symbols.emplace(file.reopen(), input_path, waketrace::detail::debuginfo_path_for({}));
    } catch (const waketrace::Error& error) {
        if (error.errno_value() != ENOEXEC)
            std::abort();
        return;
    }
    // Some hundred offsets spread over the file, where its code may be.
    const size_t stride = std::max<size_t>(16, size / 256);
    for (uint64_t offset = 0; offset < size; offset += stride) {
        for (const waketrace::Frame& frame : symbols->frames_at_file_offset(offset)) {
            if (frame.inlined && frame.offset != 0)
                std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // libdwfl would ask a debuginfod server for the debug files of a build-id.
    ::unsetenv("DEBUGINFOD_URLS");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const waketrace::fuzz::MemoryFile file(data, size);
    check_build_id(file.fd());
    check_code_segments(file.fd());
    check_symbolization(file, size);
    return 0;
}
