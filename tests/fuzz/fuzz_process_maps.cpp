// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The /proc/PID/maps parser: any text gives mappings sorted by start, and
// find() only ever answers with a mapping that holds the address.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "process/process_maps.hpp"

using waketrace::detail::Mapping;
using waketrace::detail::ProcessMaps;

namespace {

void check_find(const ProcessMaps& maps, uint64_t address) {
    const Mapping* found = maps.find(address);
    if (found && !(found->start <= address && address < found->end))
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const ProcessMaps maps = ProcessMaps::parse(text);

    const auto& mappings = maps.mappings();
    if (!std::is_sorted(mappings.begin(), mappings.end(),
                        [](const Mapping& a, const Mapping& b) { return a.start < b.start; }))
        std::abort();
    for (const Mapping& mapping : mappings) {
        // Each mapping came from a line of its own, so its path is in the text.
        if (mapping.path.size() > size || (mapping.deleted && mapping.path.empty()))
            std::abort();
        for (uint64_t address : {mapping.start - 1, mapping.start, mapping.end - 1, mapping.end})
            check_find(maps, address);
    }
    check_find(maps, 0);
    check_find(maps, UINT64_MAX);
    return 0;
}
