// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include <unistd.h>

#include "fixtures.hpp"
#include "process/process_maps.hpp"

using waketrace::detail::Mapping;
using waketrace::detail::ProcessMaps;

namespace {

constexpr std::string_view fixture_maps =
    "00400000-00452000 r-xp 00000000 08:02 173521                 /usr/bin/dbus-daemon\n"
    "00651000-00652000 rw-p 00051000 08:02 173521                 /usr/bin/dbus-daemon\n"
    "00e03000-00e24000 rw-p 00000000 00:00 0                                  [heap]\n"
    "7f0000000000-7f0000010000 r-xp 00002000 fd:01 42     /opt/my app/lib x.so (deleted)\n"
    "7f0000010000-7f0000020000 rw-p 00000000 00:00 0 \n"
    "7f0000020000-7f0000021000 r--p 00000000 00:00 0\n"
    "this line is not a mapping\n"
    "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
    "7ffd000fe000-7ffd00100000 r-xp 00000000 00:00 0                          [vdso]\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

[[gnu::noinline]] int function_in_test_binary(int value) { return value * 7 + 1; }

}  // namespace

TEST_CASE("maps text parses every field", "[maps]") {
    ProcessMaps maps = ProcessMaps::parse(fixture_maps);
    REQUIRE(maps.mappings().size() == 9);

    const Mapping& text = maps.mappings()[0];
    CHECK(text.start == 0x400000);
    CHECK(text.end == 0x452000);
    CHECK(text.file_offset == 0);
    CHECK(text.dev_major == 8);
    CHECK(text.dev_minor == 2);
    CHECK(text.inode == 173521);
    CHECK(text.path == "/usr/bin/dbus-daemon");
    CHECK(text.executable);
    CHECK_FALSE(text.deleted);
    CHECK(text.is_file());

    const Mapping& data = maps.mappings()[1];
    CHECK(data.file_offset == 0x51000);
    CHECK_FALSE(data.executable);
}

TEST_CASE("maps text with tricky paths", "[maps]") {
    ProcessMaps maps = ProcessMaps::parse(fixture_maps);

    SECTION("a deleted file with spaces in its path") {
        const Mapping* mapping = maps.find(0x7f0000000123);
        REQUIRE(mapping);
        CHECK(mapping->path == "/opt/my app/lib x.so");
        CHECK(mapping->deleted);
        CHECK(mapping->dev_major == 0xfd);
        CHECK(mapping->dev_minor == 1);
        CHECK(mapping->file_offset == 0x2000);
        CHECK(mapping->inode == 42);
    }
    SECTION("anonymous memory, with or without trailing space") {
        for (uint64_t address : {uint64_t{0x7f0000010000}, uint64_t{0x7f0000020800}}) {
            const Mapping* mapping = maps.find(address);
            REQUIRE(mapping);
            CHECK(mapping->path.empty());
            CHECK(mapping->inode == 0);
            CHECK_FALSE(mapping->is_file());
        }
    }
    SECTION("special names are kept and are not files") {
        for (auto [address, name] : {std::pair<uint64_t, std::string_view>{0xe04000, "[heap]"},
                                     {0x7ffd00000010, "[stack]"},
                                     {0x7ffd000ff000, "[vdso]"},
                                     {0xffffffffff600000, "[vsyscall]"}}) {
            const Mapping* mapping = maps.find(address);
            REQUIRE(mapping);
            CHECK(mapping->path == name);
            CHECK_FALSE(mapping->is_file());
        }
    }
}

TEST_CASE("maps lookup bounds", "[maps]") {
    ProcessMaps maps = ProcessMaps::parse(fixture_maps);
    CHECK(maps.find(0x3fffff) == nullptr);              // below the first mapping
    CHECK(maps.find(0x400000) == &maps.mappings()[0]);  // start is inside
    CHECK(maps.find(0x451fff) == &maps.mappings()[0]);
    CHECK(maps.find(0x452000) == nullptr);  // end is outside; a gap follows
    CHECK(maps.find(0x7f0000020fff) == &maps.mappings()[5]);
    CHECK(maps.find(0xffffffffffffffff) == nullptr);
    CHECK(ProcessMaps::parse("").find(0x400000) == nullptr);
}

TEST_CASE("maps of this process hold the test binary", "[maps][live]") {
    std::optional<ProcessMaps> maps = ProcessMaps::read(static_cast<uint32_t>(getpid()));
    REQUIRE(maps);
    const Mapping* mapping = maps->find(reinterpret_cast<uint64_t>(&function_in_test_binary));
    REQUIRE(mapping);
    CHECK(mapping->executable);
    CHECK(mapping->is_file());
    CHECK(mapping->path == symfixture::canonical_path("/proc/self/exe"));
    CHECK(function_in_test_binary(1) == 8);
}

TEST_CASE("maps of an exited process are absent", "[maps][live]") {
    CHECK_FALSE(ProcessMaps::read(static_cast<uint32_t>(symfixture::exited_pid())));
}
