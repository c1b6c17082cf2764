// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include "process/process_maps.hpp"
#include "support/unique_fd.hpp"
#include "unwind/load_bias.hpp"
#include "unwind_fixture.h"

using waketrace::detail::CodeSegment;
using waketrace::detail::load_bias;
using waketrace::detail::Mapping;
using waketrace::detail::ProcessMaps;
using waketrace::detail::read_code_segments;
using waketrace::detail::UniqueFd;

namespace {

constexpr uint64_t page = 0x1000;

Mapping code_mapping(uint64_t start, uint64_t file_offset) {
    Mapping mapping;
    mapping.start = start;
    mapping.end = start + 0x10000;
    mapping.file_offset = file_offset;
    mapping.executable = true;
    mapping.path = "/fixture";
    return mapping;
}

}  // namespace

TEST_CASE("load bias from the code segment a mapping starts in", "[load_bias]") {
    SECTION("a shared library: ELF addresses equal file offsets") {
        std::vector<CodeSegment> segments{{0x1000, 0x5000, 0x1000}};
        CHECK(load_bias(code_mapping(0x7f0000001000, 0x1000), segments, page) == 0x7f0000000000);
    }
    SECTION("lld's layout: code at file offset 0x2a0 has address 0x12a0") {
        std::vector<CodeSegment> segments{{0x2a0, 0x3000, 0x12a0}};
        // The mapping starts at the page holding the segment's first byte.
        std::optional<uint64_t> bias = load_bias(code_mapping(0x7f0000001000, 0), segments, page);
        REQUIRE(bias);
        CHECK(*bias == 0x7f0000000000);
        CHECK(*bias + 0x12a0 == 0x7f0000001000 + 0x2a0);  // the same byte, both ways
    }
    SECTION("the second code segment of two, each with its own address - offset") {
        std::vector<CodeSegment> segments{{0x1000, 0x1000, 0x1000}, {0x3000, 0x2000, 0x5000}};
        CHECK(load_bias(code_mapping(0x7f0000005000, 0x3000), segments, page) == 0x7f0000000000);
    }
    SECTION("a mapping that starts inside a segment (a split mapping)") {
        std::vector<CodeSegment> segments{{0x1000, 0x8000, 0x1000}};
        CHECK(load_bias(code_mapping(0x7f0000004000, 0x4000), segments, page) == 0x7f0000000000);
    }
    SECTION("a non-PIE program is where its addresses say") {
        std::vector<CodeSegment> segments{{0x1000, 0x800, 0x401000}};
        CHECK(load_bias(code_mapping(0x401000, 0x1000), segments, page) == 0);
    }
    SECTION("no segment holds the mapped offset") {
        std::vector<CodeSegment> segments{{0x1000, 0x800, 0x1000}};
        CHECK_FALSE(load_bias(code_mapping(0x7f0000001000, 0x3000), segments, page));
        CHECK_FALSE(load_bias(code_mapping(0x7f0000001000, 0x1000), {}, page));
    }
}

TEST_CASE("load bias of the loaded fixture library", "[load_bias]") {
    Dl_info info;
    REQUIRE(dladdr(reinterpret_cast<void*>(&unwfixture_capture), &info));
    std::optional<ProcessMaps> maps = ProcessMaps::read(static_cast<uint32_t>(getpid()));
    REQUIRE(maps);
    const Mapping* mapping = maps->find(reinterpret_cast<uint64_t>(&unwfixture_capture));
    REQUIRE(mapping);

    UniqueFd fd(::open(mapping->path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    std::optional<std::vector<CodeSegment>> segments = read_code_segments(fd.get());
    REQUIRE(segments);
    REQUIRE_FALSE(segments->empty());
    // The library's first segment is at address 0, so its bias is where the
    // dynamic linker put it.
    CHECK(load_bias(*mapping, *segments, static_cast<uint64_t>(sysconf(_SC_PAGESIZE))) ==
          reinterpret_cast<uint64_t>(info.dli_fbase));
}

TEST_CASE("files that are not ELF have no code segments", "[load_bias]") {
    UniqueFd fd(::open("/proc/self/maps", O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    CHECK_FALSE(read_code_segments(fd.get()));
}
