// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/kernel_symbols.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "support/read_file.hpp"

namespace waketrace::detail {

namespace {

constexpr std::string_view vmlinux_module = "[kernel]";

bool is_text_type(char type) { return type == 't' || type == 'T' || type == 'w' || type == 'W'; }

// Splits off the text before the first space or tab, and drops the separator.
// A plain loop: find_first_of calls memchr once per character, which made it
// the biggest cost of loading 200k lines.
std::string_view take_field(std::string_view& rest) {
    size_t end = 0;
    while (end < rest.size() && rest[end] != ' ' && rest[end] != '\t')
        ++end;
    std::string_view field = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    return field;
}

}  // namespace

KernelSymbols KernelSymbols::load(const std::string& path) {
    // Streamed: /proc/kallsyms is megabytes of text, and a copy of it all
    // was most of the report's time (every fresh page costs a fault).
    struct stat status {};
    KernelSymbols table(::stat(path.c_str(), &status) == 0 ? size_t(status.st_size) : 0);
    for_each_line(path, [&table](std::string_view line) { table.add_line(line); });
    table.finish();
    return table;
}

KernelSymbols KernelSymbols::parse(std::string_view kallsyms_text) {
    KernelSymbols table(kallsyms_text.size());
    while (!kallsyms_text.empty()) {
        size_t end = kallsyms_text.find('\n');
        table.add_line(kallsyms_text.substr(0, end));
        kallsyms_text = end == std::string_view::npos ? std::string_view() : kallsyms_text.substr(end + 1);
    }
    table.finish();
    return table;
}

KernelSymbols::KernelSymbols(size_t text_size) {
    modules_.emplace_back(vmlinux_module);
    // Room for a big kernel's ~250k text symbols of ~25 bytes a name, so
    // nothing is copied as the table grows. Reserved pages that are never
    // written are never touched, so never resident: no shrink_to_fit after.
    // A text of known size needs no more than its own bytes for names, and
    // has a line ("ADDRESS t NAME") per 20 bytes or so; less is reserved for
    // it, as a small one (a test's, a fuzzer's) would pay for the rest.
    constexpr size_t big_kernel_names = 8u << 20;
    constexpr size_t big_kernel_symbols = 256u << 10;
    names_.reserve(text_size == 0 ? big_kernel_names : std::min(text_size, big_kernel_names));
    symbols_.reserve(text_size == 0 ? big_kernel_symbols : std::min(text_size / 20 + 1, big_kernel_symbols));
}

void KernelSymbols::finish() {
    if (addresses_hidden_) {
        // Without root (or with kptr_restrict=2) every address reads as 0;
        // any lookup would return a wrong name, so keep none.
        symbols_.clear();
        names_.clear();
    }
    sort_by_address();
}

void KernelSymbols::add_line(std::string_view line) {
    std::string_view address_text = take_field(line);
    std::string_view type = take_field(line);
    std::string_view name = take_field(line);
    std::string_view module = take_field(line);

    uint64_t address = 0;
    auto [end, error] =
        std::from_chars(address_text.data(), address_text.data() + address_text.size(), address, 16);
    if (error != std::errc() || end != address_text.data() + address_text.size())
        return;
    if (address != 0)
        addresses_hidden_ = false;
    if (type.size() != 1 || !is_text_type(type[0]) || name.empty() ||
        name.size() > std::numeric_limits<uint16_t>::max())
        return;

    symbols_.push_back(Symbol{address, static_cast<uint32_t>(names_.size()),
                              static_cast<uint16_t>(name.size()), module_index(module)});
    names_.append(name);
}

uint16_t KernelSymbols::module_index(std::string_view module) {
    if (module.size() >= 2 && module.front() == '[' && module.back() == ']')
        module = module.substr(1, module.size() - 2);
    if (module.empty())
        return 0;
    // A module's symbols are listed together, so the last one usually matches.
    if (modules_.back() == module)
        return static_cast<uint16_t>(modules_.size() - 1);
    auto found = std::find(modules_.begin() + 1, modules_.end(), module);
    if (found != modules_.end())
        return static_cast<uint16_t>(found - modules_.begin());
    if (modules_.size() > std::numeric_limits<uint16_t>::max())
        return 0;
    modules_.emplace_back(module);
    return static_cast<uint16_t>(modules_.size() - 1);
}

void KernelSymbols::sort_by_address() {
    // Aliases share an address (e.g. _stext and _text after the real first
    // function); kallsyms lists the function itself first, and names are
    // pooled in kallsyms order, so ties go to the lower name offset and only
    // that one is kept. (An in-place sort: stable_sort's buffer is megabytes.)
    auto by_address = [](const Symbol& a, const Symbol& b) {
        return a.address != b.address ? a.address < b.address : a.name_offset < b.name_offset;
    };
    auto same_address = [](const Symbol& a, const Symbol& b) { return a.address == b.address; };
    std::sort(symbols_.begin(), symbols_.end(), by_address);
    symbols_.erase(std::unique(symbols_.begin(), symbols_.end(), same_address), symbols_.end());
}

Frame KernelSymbols::resolve(uint64_t address) const {
    Frame frame;
    frame.address = address;
    auto above = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                                  [](uint64_t a, const Symbol& s) { return a < s.address; });
    if (above == symbols_.begin()) {
        frame.module = vmlinux_module;
        return frame;
    }
    const Symbol& symbol = *(above - 1);
    frame.symbol = name_of(symbol);
    frame.module = modules_[symbol.module_index];
    frame.offset = address - symbol.address;
    return frame;
}

}  // namespace waketrace::detail
