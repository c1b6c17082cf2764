// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A process's memory mappings from /proc/PID/maps: which file, and where in
// it, each user address comes from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace waketrace::detail {

struct Mapping {
    uint64_t start = 0;
    uint64_t end = 0;          // exclusive
    uint64_t file_offset = 0;  // file offset mapped at `start`
    uint64_t inode = 0;        // 0 for anonymous and special mappings
    uint32_t dev_major = 0;
    uint32_t dev_minor = 0;
    // The file path without the " (deleted)" suffix; special names kept as
    // written ("[vdso]", "[heap]", "[stack]"); empty for anonymous memory.
    std::string path;
    bool executable = false;
    bool deleted = false;  // the file was unlinked (or replaced) after mapping

    // A real file that may hold symbols, as opposed to "[vdso]" or anonymous memory.
    bool is_file() const noexcept { return !path.empty() && path.front() == '/'; }
};

class ProcessMaps {
public:
    // Parses the text of a maps file; malformed lines are skipped.
    static ProcessMaps parse(std::string_view maps_text);
    // Reads /proc/PID/maps. nullopt when the process is gone (ENOENT, ESRCH);
    // throws waketrace::Error for other failures (e.g. EACCES).
    static std::optional<ProcessMaps> read(uint32_t pid);

    // The mapping containing `address`, or nullptr. Valid until this object dies.
    const Mapping* find(uint64_t address) const;

    const std::vector<Mapping>& mappings() const noexcept { return mappings_; }
    bool empty() const noexcept { return mappings_.empty(); }

private:
    std::vector<Mapping> mappings_;  // sorted by start, non-overlapping
};

}  // namespace waketrace::detail
