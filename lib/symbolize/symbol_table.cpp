// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/symbol_table.hpp"

#include <algorithm>

namespace waketrace::detail {

void SymbolTable::add(std::string_view name, uint64_t address, uint64_t size) {
    symbols_.push_back(
        {address, size, static_cast<uint32_t>(names_.size()), static_cast<uint32_t>(name.size())});
    names_.append(name);
}

// Aliases share an address (printf and _IO_printf, a size-0 label at a
// function's start). Keep one: the sized one, so lookups know where the
// function ends; then the public-looking name, with fewer leading underscores;
// then the shorter one; then the first alphabetically, so the choice never
// depends on the order of the symbol table.
void SymbolTable::finish() {
    auto underscores = [](std::string_view name) { return name.find_first_not_of('_'); };
    auto better_first = [&](const Symbol& a, const Symbol& b) {
        if (a.address != b.address)
            return a.address < b.address;
        if ((a.size != 0) != (b.size != 0))
            return a.size != 0;
        std::string_view a_name = name_of(a);
        std::string_view b_name = name_of(b);
        if (underscores(a_name) != underscores(b_name))
            return underscores(a_name) < underscores(b_name);
        if (a_name.size() != b_name.size())
            return a_name.size() < b_name.size();
        return a_name < b_name;
    };
    auto same_address = [](const Symbol& a, const Symbol& b) { return a.address == b.address; };
    std::sort(symbols_.begin(), symbols_.end(), better_first);
    symbols_.erase(std::unique(symbols_.begin(), symbols_.end(), same_address), symbols_.end());
    symbols_.shrink_to_fit();
}

std::optional<FoundSymbol> SymbolTable::lookup(uint64_t address) const {
    auto above = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                                  [](uint64_t a, const Symbol& s) { return a < s.address; });
    if (above == symbols_.begin())
        return std::nullopt;
    const Symbol& symbol = *(above - 1);
    uint64_t offset = address - symbol.address;
    if (symbol.size != 0 && offset >= symbol.size)
        return std::nullopt;
    return FoundSymbol{name_of(symbol), offset};
}

}  // namespace waketrace::detail
