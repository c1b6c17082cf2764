// SPDX-License-Identifier: LGPL-2.1-or-later
#include "format/pprof_tables.hpp"

#include <algorithm>

namespace waketrace::format_internal {

PprofTables::PprofTables(pprof::Profile& out) : out_(out) { string_id(""); }

int64_t PprofTables::string_id(std::string_view text) {
    auto [entry, inserted] = strings_.try_emplace(std::string(text), int64_t(strings_.size()));
    if (inserted)
        out_.add_string_table(entry->first);
    return entry->second;
}

uint64_t PprofTables::function_id(std::string_view name, std::string_view file) {
    const std::pair<int64_t, int64_t> key{string_id(name), string_id(file)};
    auto [entry, inserted] = functions_.try_emplace(key, functions_.size() + 1);
    if (inserted) {
        pprof::Function* function = out_.add_function();
        function->set_id(entry->second);
        function->set_name(key.first);
        function->set_filename(key.second);
    }
    return entry->second;
}

// One mapping per loaded file and load address: the same library at two
// addresses (two processes) is two mappings, each with its own offsets.
PprofTables::MappingSeen* PprofTables::mapping_of(const Frame& frame) {
    if (frame.module.empty())
        return nullptr;  // not in any mapping we know of
    MappingKey key{frame.module, frame.build_id, std::nullopt};
    if (frame.file_offset)
        key.bias = frame.address - *frame.file_offset;
    auto [entry, inserted] = mappings_.try_emplace(std::move(key));
    if (inserted) {
        entry->second.id = mappings_.size();
        pprof::Mapping* mapping = out_.add_mapping();
        mapping->set_id(entry->second.id);
        mapping->set_filename(string_id(frame.module));
        mapping->set_build_id(string_id(frame.build_id));
    }
    return &entry->second;
}

uint64_t PprofTables::location_id(uint64_t mapping, uint64_t address, std::vector<LineKey> lines) {
    LocationKey key{mapping, address, std::move(lines)};
    auto [entry, inserted] = locations_.try_emplace(std::move(key), locations_.size() + 1);
    if (inserted) {
        pprof::Location* location = out_.add_location();
        location->set_id(entry->second);
        location->set_mapping_id(mapping);
        location->set_address(address);
        for (const auto& [function, line_number] : std::get<2>(entry->first)) {
            pprof::Line* line = location->add_line();
            line->set_function_id(function);
            line->set_line(line_number);
        }
    }
    return entry->second;
}

uint64_t PprofTables::name_location(std::string_view name) {
    return location_id(0, 0, {{function_id(name, ""), 0}});
}

uint64_t PprofTables::frames_location(const std::vector<const Frame*>& frames) {
    const Frame& outer = *frames.back();
    std::vector<LineKey> lines;
    bool with_file = true;
    bool with_line = true;
    for (const Frame* frame : frames) {
        if (!frame->resolved())
            continue;  // left for a backend to name from the mapping
        lines.emplace_back(function_id(frame->symbol, frame->file), int64_t(frame->line));
        with_file = with_file && !frame->file.empty();
        with_line = with_line && frame->line != 0;
    }
    MappingSeen* seen = mapping_of(outer);
    if (seen) {
        seen->lowest = std::min(seen->lowest, outer.address);
        seen->highest = std::max(seen->highest, outer.address);
        seen->all_named = seen->all_named && !lines.empty();
        seen->all_with_file = seen->all_with_file && !lines.empty() && with_file;
        seen->all_with_line = seen->all_with_line && !lines.empty() && with_line;
    }
    return location_id(seen ? seen->id : 0, outer.address, std::move(lines));
}

void PprofTables::finish_mappings() {
    for (const auto& [key, seen] : mappings_) {
        pprof::Mapping& mapping = *out_.mutable_mapping(int(seen.id - 1));
        mapping.set_memory_start(seen.lowest);
        mapping.set_memory_limit(seen.highest + 1);
        // So that address - memory_start + file_offset is each frame's
        // own offset in the file.
        if (key.bias)
            mapping.set_file_offset(seen.lowest - *key.bias);
        mapping.set_has_functions(seen.all_named);
        mapping.set_has_filenames(seen.all_with_file);
        mapping.set_has_line_numbers(seen.all_with_line);
        // libdw names the functions inlined at an address wherever it
        // knows the lines there.
        mapping.set_has_inline_frames(seen.all_with_line);
    }
}

}  // namespace waketrace::format_internal
