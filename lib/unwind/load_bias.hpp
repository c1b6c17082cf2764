// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Where a mapped ELF file was loaded: the bias to add to its ELF addresses
// (those its .eh_frame speaks in) to get the process's addresses.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "process/process_maps.hpp"

namespace waketrace::detail {

// An executable PT_LOAD program header: file bytes
// [file_offset, file_offset + file_size) are code at ELF address `address`.
struct CodeSegment {
    uint64_t file_offset = 0;
    uint64_t file_size = 0;
    uint64_t address = 0;
};

// The executable PT_LOAD segments of the ELF file open at `fd` (the fd is
// only read, not kept). nullopt when it is not an ET_EXEC or ET_DYN ELF file.
std::optional<std::vector<CodeSegment>> read_code_segments(int fd);

// The bias of a file whose code segment is mapped by `code_mapping`, found
// through the segment whose pages the mapping starts in. nullopt when no
// segment fits (the mapping is not of this file, or not of its code).
std::optional<uint64_t> load_bias(const Mapping& code_mapping, const std::vector<CodeSegment>& segments,
                                  uint64_t page_size);

}  // namespace waketrace::detail
