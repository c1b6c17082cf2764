// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Inline frames and source lines from DWARF, on an -O2 -g library in which
// symfixture::inlining::scaled() is always inlined into outer().
#include <catch2/catch.hpp>

#include <unistd.h>

#include "fixtures.hpp"
#include "symbolize/symbolizer.hpp"

using waketrace::Frame;
using waketrace::detail::Symbolizer;

namespace {

uint32_t self() { return static_cast<uint32_t>(getpid()); }

uint32_t fixture_line(std::string_view marker) {
    return symfixture::line_of(SYMFIXTURE_INLINE_SOURCE, marker);
}

}  // namespace

TEST_CASE("a function inlined at an address is a frame of its own", "[symbolizer][inline]") {
    symfixture::Library library(SYMFIXTURE_INLINE_LIBRARY);
    auto run = reinterpret_cast<uint64_t (*)(int)>(library.address_of("symfixture_inline_return_address"));
    uint64_t outer = library.address_of("_ZN10symfixture8inlining5outerEi");
    // The return address of the call made from inside the inlined scaled():
    // what a stack walk finds for outer()'s frame.
    uint64_t return_address = run(4);
    REQUIRE(return_address > outer);
    std::string library_path = symfixture::canonical_path(SYMFIXTURE_INLINE_LIBRARY);

    Symbolizer symbolizer;
    std::vector<Frame> frames = symbolizer.user_frames(self(), {return_address});
    REQUIRE(frames.size() == 2);

    const Frame& inlined = frames[0];
    CHECK(inlined.symbol == "symfixture::inlining::scaled(int)");
    CHECK(inlined.inlined);
    CHECK(inlined.address == return_address);
    CHECK(inlined.offset == 0);
    CHECK(inlined.module == library_path);
    CHECK(symfixture::names_file(inlined.file, "fixture_inline.cpp"));
    CHECK(inlined.line == fixture_line("line: call in scaled"));

    const Frame& caller = frames[1];
    CHECK(caller.symbol == "symfixture::inlining::outer(int)");
    CHECK_FALSE(caller.inlined);
    CHECK(caller.address == return_address);
    CHECK(caller.offset == return_address - outer);
    CHECK(caller.module == library_path);
    CHECK(symfixture::names_file(caller.file, "fixture_inline.cpp"));
    CHECK(caller.line == fixture_line("line: scaled in outer"));

    SECTION("inline frames are inserted before their outer frame in a stack") {
        uint64_t entry = library.address_of("symfixture_inline_return_address");
        std::vector<Frame> stack = symbolizer.user_frames(self(), {return_address, entry + 1});
        REQUIRE(stack.size() == 3);
        CHECK(stack[0].inlined);
        CHECK(stack[1].symbol == "symfixture::inlining::outer(int)");
        CHECK(stack[2].symbol == "symfixture_inline_return_address");
        CHECK_FALSE(stack[2].inlined);
        CHECK(stack[2].offset == 1);
    }
}

TEST_CASE("a function without DWARF has no source position", "[symbolizer][inline]") {
    // The fixture library is built -g0: names, but no lines.
    symfixture::LoadedLibrary library(SYMFIXTURE_LIBRARY);
    Symbolizer symbolizer;
    std::vector<Frame> frames = symbolizer.user_frames(self(), {library.caller() + 3});
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].symbol == "symfixture_caller");
    CHECK_FALSE(frames[0].inlined);
    CHECK(frames[0].file.empty());
    CHECK(frames[0].line == 0);
}

TEST_CASE("Rust symbol names read as Rust paths", "[symbolizer][rust]") {
    symfixture::Library library(SYMFIXTURE_LIBRARY);
    uint64_t legacy = library.address_of("_ZN10symfixture4rust6legacy17h0123456789abcdefE");
    uint64_t v0 = library.address_of("_RNvNtCs1234_10symfixture4rust2v0");

    Symbolizer symbolizer;
    std::vector<Frame> frames = symbolizer.user_frames(self(), {legacy + 4, v0 + 4});
    REQUIRE(frames.size() == 2);
    CHECK(frames[0].symbol == "symfixture::rust::legacy");
    CHECK(frames[0].offset == 4);
    CHECK(frames[1].symbol == "symfixture::rust::v0");
    CHECK(frames[1].offset == 4);
}
