// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Kernel text symbols from /proc/kallsyms, for naming kernel stack frames.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "waketrace/error.hpp"
#include "waketrace/profile.hpp"

namespace waketrace::detail {

class KernelSymbols {
public:
    // Reads and parses a kallsyms-format file. Throws waketrace::Error with
    // the errno of the failed open/read.
    static KernelSymbols load(const std::string& path = "/proc/kallsyms");
    // Parses kallsyms text: "ADDRESS TYPE NAME[\t[MODULE]]" per line. Only
    // text symbols (t, T, w, W) are kept; malformed lines are skipped.
    static KernelSymbols parse(std::string_view kallsyms_text);

    // The symbol covering `address`: the nearest text symbol at or below it.
    // Frame::module is "[kernel]" for vmlinux, else the module name without
    // brackets. Unresolved (below the first symbol, or addresses hidden):
    // empty symbol, module "[kernel]", address kept.
    Frame resolve(uint64_t address) const;

    size_t size() const noexcept { return symbols_.size(); }
    // True when every address read was zero: kptr_restrict hides them from
    // this user, and nothing can resolve.
    bool addresses_hidden() const noexcept { return addresses_hidden_; }

private:
    // Reserves room for `text_size` bytes of kallsyms text; 0: unknown (as
    // /proc/kallsyms says), room for a big kernel's.
    explicit KernelSymbols(size_t text_size);
    void finish();  // after the last add_line

    // 16 bytes per symbol; names live in one pool so 200k symbols cost two
    // allocations rather than 200k.
    struct Symbol {
        uint64_t address;
        uint32_t name_offset;
        uint16_t name_length;
        uint16_t module_index;  // into modules_; 0 is "[kernel]"
    };

    void add_line(std::string_view line);
    uint16_t module_index(std::string_view module);
    void sort_by_address();
    std::string_view name_of(const Symbol& symbol) const noexcept {
        return std::string_view(names_).substr(symbol.name_offset, symbol.name_length);
    }

    std::vector<Symbol> symbols_;  // sorted by address, one per address
    std::string names_;
    std::vector<std::string> modules_;
    bool addresses_hidden_ = true;  // until a line shows a non-zero address
};

}  // namespace waketrace::detail
