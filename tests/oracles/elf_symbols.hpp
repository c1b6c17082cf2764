// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Function symbols of one ELF file (executable or shared library), looked up
// by the file offset a process mapping gives us: read with libelf alone, as
// a second opinion for the tests of the library's libdwfl-based symbolizer
// and unwinder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "symbolize/symbol_table.hpp"
#include "support/unique_fd.hpp"

namespace waketrace::test {

using ResolvedSymbol = detail::FoundSymbol;

// A PT_LOAD program header: file bytes [file_offset, file_offset + file_size)
// are mapped at ELF virtual address `address`.
struct LoadSegment {
    uint64_t file_offset = 0;
    uint64_t file_size = 0;
    uint64_t address = 0;
};

class ElfSymbols {
public:
    // Reads the symbols of the ELF file at `path`. Throws waketrace::Error
    // when it cannot be opened (the open's errno) or is not ELF (ENOEXEC).
    static ElfSymbols load(const std::string& path);
    // The same from an already opened file; `name` is only used in messages.
    static ElfSymbols load(detail::UniqueFd fd, const std::string& name);

    // Maps a file offset to its ELF address through the PT_LOAD segment
    // holding it, then finds the function there: the symbol whose
    // [start, start + size) covers it, or for size-0 symbols the nearest one
    // below. nullopt when no segment or symbol fits.
    std::optional<ResolvedSymbol> lookup_file_offset(uint64_t file_offset) const;
    // The same for an ELF virtual address.
    std::optional<ResolvedSymbol> lookup_address(uint64_t address) const;

    // ET_DYN (shared library or PIE) as opposed to ET_EXEC.
    bool is_position_independent() const noexcept { return position_independent_; }
    const std::vector<LoadSegment>& load_segments() const noexcept { return segments_; }
    size_t size() const noexcept { return symbols_.size(); }

private:
    class Reader;  // the libelf walk that fills the tables

    detail::SymbolTable symbols_;
    std::vector<LoadSegment> segments_;
    bool position_independent_ = false;
};

}  // namespace waketrace::test
