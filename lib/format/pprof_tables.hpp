// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The shared tables of a pprof profile -- strings, functions, mappings,
// locations -- each entry added once and referred to by id from then on,
// as profile.proto wants. format_pprof() (pprof.cpp) walks the chains;
// this is where a frame becomes a Location in a Mapping.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pprof_profile.pb.h"
#include "waketrace/profile.hpp"

namespace waketrace::format_internal {

class PprofTables {
public:
    // Fills `out`'s string, function, mapping and location tables; `out`
    // must outlive this object. String 0 is "" from the start.
    explicit PprofTables(pprof::Profile& out);

    int64_t string_id(std::string_view text);
    // A location standing for a name that is not a frame ("--", a waker's
    // name, a missed-stack marker): one Line of a function of that name, no
    // mapping, no address.
    uint64_t name_location(std::string_view name);
    // A location for one address: `frames` are the functions inlined there,
    // innermost first, then the one they were inlined into (all with that
    // address); or one unresolved frame, which gets an address and a
    // mapping but no Line, for a backend to name.
    uint64_t frames_location(const std::vector<const Frame*>& frames);
    // Writes the mappings' address ranges and what their locations were
    // resolved to; call once, after the last location.
    void finish_mappings();

private:
    struct MappingKey {
        std::string module;
        std::string build_id;
        std::optional<uint64_t> bias;  // address - file offset; nullopt: not a file's frame
        bool operator<(const MappingKey& other) const {
            return std::tie(module, build_id, bias) < std::tie(other.module, other.build_id, other.bias);
        }
    };
    struct MappingSeen {
        uint64_t id = 0;
        uint64_t lowest = UINT64_MAX;
        uint64_t highest = 0;
        bool all_named = true;      // every location has a function
        bool all_with_file = true;  // ... and a source file
        bool all_with_line = true;  // ... and a line
    };
    using LineKey = std::pair<uint64_t, int64_t>;  // function id, line
    using LocationKey = std::tuple<uint64_t, uint64_t, std::vector<LineKey>>;

    uint64_t function_id(std::string_view name, std::string_view file);
    MappingSeen* mapping_of(const Frame& frame);  // null: no mapping
    uint64_t location_id(uint64_t mapping, uint64_t address, std::vector<LineKey> lines);

    pprof::Profile& out_;
    std::unordered_map<std::string, int64_t> strings_;
    std::map<std::pair<int64_t, int64_t>, uint64_t> functions_;  // (name, file) string ids
    std::map<MappingKey, MappingSeen> mappings_;
    std::map<LocationKey, uint64_t> locations_;
};

}  // namespace waketrace::format_internal
