// SPDX-License-Identifier: LGPL-2.1-or-later
#include "unwind/load_bias.hpp"

#include <gelf.h>
#include <libelf.h>

#include <memory>

#include "process/private_copy.hpp"

namespace waketrace::detail {

namespace {

struct ElfEnd {
    void operator()(Elf* elf) const noexcept { elf_end(elf); }
};
using ElfHandle = std::unique_ptr<Elf, ElfEnd>;

// libelf works only once told which ELF version the caller speaks; ask once.
bool libelf_ready() {
    static const bool ready = elf_version(EV_CURRENT) != EV_NONE;
    return ready;
}

}  // namespace

std::optional<std::vector<CodeSegment>> read_code_segments(int fd) {
    if (!libelf_ready())
        return std::nullopt;
    ElfHandle elf(elf_begin(fd, safe_elf_read_command(fd), nullptr));
    GElf_Ehdr header;
    if (!elf || elf_kind(elf.get()) != ELF_K_ELF || !gelf_getehdr(elf.get(), &header))
        return std::nullopt;
    // Relocatable objects and core files are never mapped as code.
    if (header.e_type != ET_EXEC && header.e_type != ET_DYN)
        return std::nullopt;

    size_t count = 0;
    if (elf_getphdrnum(elf.get(), &count) != 0)
        return std::nullopt;
    std::vector<CodeSegment> segments;
    for (size_t i = 0; i < count; ++i) {
        GElf_Phdr program_header;
        if (gelf_getphdr(elf.get(), static_cast<int>(i), &program_header) &&
            program_header.p_type == PT_LOAD && (program_header.p_flags & PF_X))
            segments.push_back({program_header.p_offset, program_header.p_filesz, program_header.p_vaddr});
    }
    return segments;
}

// The kernel maps a segment from the page holding its first byte, at the page
// holding its first address: mapping.start - mapping.file_offset equals
// bias + address - file_offset for the segment the mapping starts in. Linkers
// may give each segment its own address - file_offset (lld does), so the
// segment matters. For ET_EXEC the result is 0, as nothing moved it.
std::optional<uint64_t> load_bias(const Mapping& code_mapping, const std::vector<CodeSegment>& segments,
                                  uint64_t page_size) {
    for (const CodeSegment& segment : segments) {
        uint64_t first_page = segment.file_offset & ~(page_size - 1);
        if (code_mapping.file_offset >= first_page &&
            code_mapping.file_offset < segment.file_offset + segment.file_size)
            return code_mapping.start - code_mapping.file_offset - (segment.address - segment.file_offset);
    }
    return std::nullopt;
}

}  // namespace waketrace::detail
