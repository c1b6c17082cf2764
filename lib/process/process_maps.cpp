// SPDX-License-Identifier: LGPL-2.1-or-later
#include "process/process_maps.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>

#include <fmt/format.h>

#include "support/read_file.hpp"
#include "waketrace/error.hpp"

namespace waketrace::detail {

namespace {

constexpr std::string_view deleted_suffix = " (deleted)";

std::string_view skip_spaces(std::string_view text) {
    size_t first = text.find_first_not_of(' ');
    return first == std::string_view::npos ? std::string_view() : text.substr(first);
}

// Parses the hexadecimal number before `terminator` and moves past both.
template <typename Number>
bool take_hex(std::string_view& text, char terminator, Number& value) {
    size_t end = text.find(terminator);
    if (end == std::string_view::npos)
        return false;
    const char* last = text.data() + end;
    auto [parsed_to, error] = std::from_chars(text.data(), last, value, 16);
    if (error != std::errc() || parsed_to != last)
        return false;
    text.remove_prefix(end + 1);
    return true;
}

// One line: "START-END PERMS OFFSET MAJOR:MINOR INODE   [PATH]".
std::optional<Mapping> parse_line(std::string_view line) {
    Mapping mapping;
    if (!take_hex(line, '-', mapping.start) || !take_hex(line, ' ', mapping.end))
        return std::nullopt;

    size_t perms_end = line.find(' ');
    if (perms_end == std::string_view::npos || perms_end < 3)
        return std::nullopt;
    mapping.executable = line[2] == 'x';
    line.remove_prefix(perms_end + 1);

    if (!take_hex(line, ' ', mapping.file_offset) || !take_hex(line, ':', mapping.dev_major) ||
        !take_hex(line, ' ', mapping.dev_minor))
        return std::nullopt;

    // The inode is decimal; the path (which may hold spaces) follows after
    // padding, and is absent for anonymous memory.
    size_t inode_end = std::min(line.find(' '), line.size());
    auto [parsed_to, error] = std::from_chars(line.data(), line.data() + inode_end, mapping.inode);
    if (error != std::errc() || parsed_to != line.data() + inode_end)
        return std::nullopt;
    std::string_view path = skip_spaces(line.substr(inode_end));

    if (path.size() > deleted_suffix.size() &&
        path.substr(path.size() - deleted_suffix.size()) == deleted_suffix) {
        mapping.deleted = true;
        path.remove_suffix(deleted_suffix.size());
    }
    mapping.path = path;
    return mapping;
}

}  // namespace

ProcessMaps ProcessMaps::parse(std::string_view maps_text) {
    ProcessMaps maps;
    while (!maps_text.empty()) {
        size_t end = maps_text.find('\n');
        if (std::optional<Mapping> mapping = parse_line(maps_text.substr(0, end)))
            maps.mappings_.push_back(std::move(*mapping));
        maps_text = end == std::string_view::npos ? std::string_view() : maps_text.substr(end + 1);
    }
    // The kernel lists mappings in address order; sort anyway so find() holds
    // for hand-written text too.
    std::sort(maps.mappings_.begin(), maps.mappings_.end(),
              [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
    return maps;
}

std::optional<ProcessMaps> ProcessMaps::read(uint32_t pid) {
    std::string text;
    try {
        text = read_whole_file(fmt::format("/proc/{}/maps", pid));
    } catch (const Error& error) {
        if (error.errno_value() == ENOENT || error.errno_value() == ESRCH)
            return std::nullopt;
        throw;
    }
    return parse(text);
}

const Mapping* ProcessMaps::find(uint64_t address) const {
    auto above = std::upper_bound(mappings_.begin(), mappings_.end(), address,
                                  [](uint64_t a, const Mapping& m) { return a < m.start; });
    if (above == mappings_.begin())
        return nullptr;
    const Mapping& candidate = *(above - 1);
    return address < candidate.end ? &candidate : nullptr;
}

}  // namespace waketrace::detail
