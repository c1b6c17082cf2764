// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The kallsyms reader: the streamed load() of a file must agree with parse()
// of the same text held in memory, and the line splitter under load() must
// give the same lines whatever its chunk size (the first input byte picks a
// small one, so lines cross chunk boundaries).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "memory_file.hpp"
#include "symbolize/kernel_symbols.hpp"
#include "support/read_file.hpp"

using waketrace::detail::KernelSymbols;

namespace {

std::vector<std::string> lines_in_memory(std::string_view text) {
    std::vector<std::string> lines;
    while (!text.empty()) {
        size_t end = text.find('\n');
        lines.emplace_back(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    }
    return lines;
}

void check_line_splitter(const waketrace::fuzz::MemoryFile& file, std::string_view text, size_t chunk) {
    std::vector<std::string> streamed;
    waketrace::detail::for_each_line(
        file.path(), [&](std::string_view line) { streamed.emplace_back(line); }, chunk);
    if (streamed != lines_in_memory(text))
        std::abort();
}

// Addresses worth resolving: the first field of each line, and its neighbours.
std::vector<uint64_t> probe_addresses(std::string_view text) {
    std::vector<uint64_t> probes{0, UINT64_MAX};
    for (const std::string& line : lines_in_memory(text)) {
        uint64_t address = std::strtoull(line.c_str(), nullptr, 16);
        probes.insert(probes.end(), {address - 1, address, address + 1});
    }
    return probes;
}

bool same_frame(const waketrace::Frame& a, const waketrace::Frame& b) {
    return a.address == b.address && a.symbol == b.symbol && a.module == b.module && a.offset == b.offset;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    const size_t chunk = 1 + data[0] % 64;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    const waketrace::fuzz::MemoryFile file(data + 1, size - 1);

    check_line_splitter(file, text, chunk);

    KernelSymbols streamed = KernelSymbols::load(file.path());
    KernelSymbols parsed = KernelSymbols::parse(text);
    if (streamed.size() != parsed.size() || streamed.addresses_hidden() != parsed.addresses_hidden())
        std::abort();
    for (uint64_t address : probe_addresses(text)) {
        waketrace::Frame frame = parsed.resolve(address);
        if (!same_frame(frame, streamed.resolve(address)) || frame.address != address || frame.module.empty())
            std::abort();
        // The nearest symbol at or below: its offset cannot exceed the address.
        if (!frame.symbol.empty() && frame.offset > address)
            std::abort();
    }
    return 0;
}
