// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Function symbols sorted by address, one name per address: the lookup half
// of a symbol table, whoever read the ELF file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace waketrace::detail {

struct FoundSymbol {
    std::string_view name;  // as stored (mangled); points into the SymbolTable
    uint64_t offset = 0;    // address - symbol start
};

class SymbolTable {
public:
    // Collects a function at [address, address + size); size 0 means "up to
    // the next symbol". Call finish() once all are added, before lookup().
    void add(std::string_view name, uint64_t address, uint64_t size);
    // Sorts, and keeps one name per address (see the .cpp for which).
    void finish();

    // The symbol whose [start, start + size) covers `address`, or for size-0
    // symbols the nearest one below. nullopt when none fits.
    std::optional<FoundSymbol> lookup(uint64_t address) const;

    size_t size() const noexcept { return symbols_.size(); }

private:
    struct Symbol {
        uint64_t address;
        uint64_t size;
        uint32_t name_offset;
        uint32_t name_length;
    };

    std::string_view name_of(const Symbol& symbol) const noexcept {
        return std::string_view(names_).substr(symbol.name_offset, symbol.name_length);
    }

    std::vector<Symbol> symbols_;
    std::string names_;  // one pool: a libc's thousands of names cost one allocation
};

}  // namespace waketrace::detail
