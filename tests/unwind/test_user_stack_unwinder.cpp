// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "frame_places.hpp"
#include "process/mapped_file.hpp"
#include "process/process_maps.hpp"
#include "unwind/process_unwinder.hpp"
#include "unwind/user_stack_unwinder.hpp"
#include "unwind_fixture.h"

using unwfixture::describe;
using unwfixture::FramePlace;
using unwfixture::FramePlaces;
using waketrace::detail::Mapping;
using waketrace::detail::open_mapped_file;
using waketrace::detail::ProcessMaps;
using waketrace::detail::ProcessUnwinder;
using waketrace::detail::StackSnapshot;
using waketrace::detail::UniqueFd;
using waketrace::detail::UserStackUnwinder;

// The test's own frames under the fixture's: plain names, and real calls
// (the work after each call keeps it from becoming a jump).
extern "C" __attribute__((noinline)) int unwind_test_call_outer(unwfixture_snapshot* out) {
    int result = unwfixture_outer(out, 2);
    __asm__ volatile("" ::: "memory");
    return result + 1;
}

extern "C" __attribute__((noinline)) int unwind_test_call_sort(unwfixture_snapshot* out) {
    int result = unwfixture_sort_and_capture(out);
    __asm__ volatile("" ::: "memory");
    return result + 1;
}

namespace {

// Big (64 KiB of stack copy): on the heap, out of the stack being copied.
std::unique_ptr<unwfixture_snapshot> capture_with(int (*call)(unwfixture_snapshot*)) {
    auto capture = std::make_unique<unwfixture_snapshot>();
    call(capture.get());
    REQUIRE(capture->stack_size > 0);
    return capture;
}

StackSnapshot view_of(const unwfixture_snapshot& capture, size_t stack_size) {
    StackSnapshot snapshot;
    snapshot.tgid = static_cast<uint32_t>(getpid());
    snapshot.tid = static_cast<uint32_t>(gettid());
    std::copy(std::begin(capture.registers), std::end(capture.registers), snapshot.registers.begin());
    snapshot.stack_address = capture.stack_address;
    snapshot.stack = capture.stack;
    snapshot.stack_size = std::min(stack_size, capture.stack_size);
    return snapshot;
}

StackSnapshot view_of(const unwfixture_snapshot& capture) { return view_of(capture, capture.stack_size); }

std::shared_ptr<const ProcessMaps> own_maps() {
    std::optional<ProcessMaps> maps = ProcessMaps::read(static_cast<uint32_t>(getpid()));
    REQUIRE(maps);
    return std::make_shared<const ProcessMaps>(std::move(*maps));
}

// The same maps, but the first executable file mapping's inode changed: to
// the unwinder, another file there.
ProcessMaps with_other_inode(const ProcessMaps& maps) {
    std::string text;
    bool changed = false;
    for (const Mapping& m : maps.mappings()) {
        uint64_t inode = m.inode;
        if (m.executable && m.is_file() && !changed) {
            inode += 1;
            changed = true;
        }
        text +=
            fmt::format("{:x}-{:x} {}p {:08x} {:02x}:{:02x} {} {}\n", m.start, m.end,
                        m.executable ? "r-x" : "r--", m.file_offset, m.dev_major, m.dev_minor, inode, m.path);
    }
    REQUIRE(changed);
    return ProcessMaps::parse(text);
}

// libc's qsort, or in a sanitizer build the runtime that intercepts it.
bool is_sort_implementation(const FramePlace& place) {
    return place.file.find("/libc.so") != std::string::npos ||
           place.file.find("/libasan.so") != std::string::npos;
}

size_t open_fd_count() {
    size_t count = 0;
    DIR* directory = opendir("/proc/self/fd");
    REQUIRE(directory);
    while (dirent* entry = readdir(directory))
        count += entry->d_name[0] != '.';
    closedir(directory);
    return count;
}

// Where in the copied stack the word `value` is stored (its byte offset).
std::optional<size_t> stack_offset_of(const unwfixture_snapshot& capture, uint64_t value) {
    for (size_t offset = 0; offset + sizeof value <= capture.stack_size; offset += sizeof value) {
        uint64_t word;
        std::memcpy(&word, capture.stack + offset, sizeof word);
        if (word == value)
            return offset;
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("unwinds a chain built without frame pointers", "[unwind]") {
    auto capture = capture_with(unwind_test_call_outer);
    auto maps = own_maps();
    UserStackUnwinder unwinder(open_mapped_file);

    std::vector<uint64_t> frames = unwinder.unwind(maps, view_of(*capture));
    FramePlaces names(maps);
    std::vector<FramePlace> places = names.places_of(frames);
    INFO(describe(frames, places));

    REQUIRE(frames.size() >= 5);
    CHECK(frames[0] == capture->registers[16]);
    CHECK(places[0].function == "unwfixture_capture");
    CHECK(places[1].function == "unwfixture_inner");
    CHECK(places[2].function == "unwfixture_middle");
    CHECK(places[3].function == "unwfixture_outer");
    CHECK(places[4].function == "unwind_test_call_outer");
    // On through Catch's frames (this executable, built without frame
    // pointers too) to main, with 64 KiB of stack.
    CHECK(std::any_of(places.begin() + 5, places.end(),
                      [](const FramePlace& place) { return place.function == "main"; }));

    SECTION("the same snapshot unwinds the same way again") {
        CHECK(unwinder.unwind(maps, view_of(*capture)) == frames);
    }
}

TEST_CASE("unwinds through libc's qsort, which has no frame pointers", "[unwind]") {
    auto capture = capture_with(unwind_test_call_sort);
    auto maps = own_maps();
    UserStackUnwinder unwinder(open_mapped_file);

    std::vector<uint64_t> frames = unwinder.unwind(maps, view_of(*capture));
    FramePlaces names(maps);
    std::vector<FramePlace> places = names.places_of(frames);
    INFO(describe(frames, places));

    REQUIRE(frames.size() >= 5);
    CHECK(places[0].function == "unwfixture_capture");
    CHECK(places[1].function == "unwfixture_compare_and_capture");
    auto sorter = std::find_if(places.begin(), places.end(), [](const FramePlace& place) {
        return place.function == "unwfixture_sort_and_capture";
    });
    REQUIRE(sorter != places.end());
    // Everything between the comparator and qsort's caller is libc's.
    CHECK(sorter - places.begin() >= 3);
    CHECK(std::all_of(places.begin() + 2, sorter, is_sort_implementation));
    REQUIRE(sorter + 1 != places.end());
    CHECK((sorter + 1)->function == "unwind_test_call_sort");
}

TEST_CASE("one set-up serves different snapshots in turn", "[unwind]") {
    auto chain = capture_with(unwind_test_call_outer);
    auto sort = capture_with(unwind_test_call_sort);
    auto maps = own_maps();
    std::vector<uint64_t> chain_alone = UserStackUnwinder(open_mapped_file).unwind(maps, view_of(*chain));
    std::vector<uint64_t> sort_alone = UserStackUnwinder(open_mapped_file).unwind(maps, view_of(*sort));
    REQUIRE(chain_alone != sort_alone);

    UserStackUnwinder unwinder(open_mapped_file);
    CHECK(unwinder.unwind(maps, view_of(*chain)) == chain_alone);
    CHECK(unwinder.unwind(maps, view_of(*sort)) == sort_alone);
    CHECK(unwinder.unwind(maps, view_of(*chain)) == chain_alone);
    CHECK(unwinder.cached_processes() == 1);
}

TEST_CASE("a truncated stack copy ends the unwind early", "[unwind]") {
    auto capture = capture_with(unwind_test_call_outer);
    auto maps = own_maps();
    UserStackUnwinder unwinder(open_mapped_file);
    std::vector<uint64_t> full = unwinder.unwind(maps, view_of(*capture));
    REQUIRE(full.size() >= 5);

    SECTION("cut just below the return address into outer") {
        std::optional<size_t> slot = stack_offset_of(*capture, full[3]);
        REQUIRE(slot);
        std::vector<uint64_t> frames = unwinder.unwind(maps, view_of(*capture, *slot));
        CHECK(frames == std::vector<uint64_t>(full.begin(), full.begin() + 3));
    }
    SECTION("every cut gives a prefix of the full unwind") {
        for (size_t cut = 0; cut <= 1024; cut += 4) {
            std::vector<uint64_t> frames = unwinder.unwind(maps, view_of(*capture, cut));
            INFO("cut at " << cut);
            REQUIRE_FALSE(frames.empty());
            REQUIRE(frames.size() <= full.size());
            CHECK(std::equal(frames.begin(), frames.end(), full.begin()));
        }
    }
    SECTION("no stack at all gives the ip alone") {
        StackSnapshot snapshot = view_of(*capture, 0);
        snapshot.stack = nullptr;
        CHECK(unwinder.unwind(maps, snapshot) == std::vector<uint64_t>{full[0]});
    }
}

TEST_CASE("without files or maps the ip alone is returned", "[unwind]") {
    auto capture = capture_with(unwind_test_call_outer);
    auto maps = own_maps();
    size_t opens = 0;
    UserStackUnwinder unwinder([&](uint32_t, const Mapping&) {
        ++opens;
        return UniqueFd();
    });

    CHECK(unwinder.unwind(maps, view_of(*capture)) == std::vector<uint64_t>{capture->registers[16]});
    CHECK(opens > 0);
    CHECK(unwinder.unwind(nullptr, view_of(*capture)) == std::vector<uint64_t>{capture->registers[16]});

    StackSnapshot no_ip = view_of(*capture);
    no_ip.registers[16] = 0;
    CHECK(unwinder.unwind(maps, no_ip).empty());
}

TEST_CASE("max_frames bounds the result", "[unwind]") {
    auto capture = capture_with(unwind_test_call_outer);
    auto maps = own_maps();
    UserStackUnwinder unwinder(open_mapped_file, 3);
    std::vector<uint64_t> frames = unwinder.unwind(maps, view_of(*capture));
    REQUIRE(frames.size() == 3);
    FramePlaces names(maps);
    CHECK(names.places_of(frames)[2].function == "unwfixture_middle");
}

TEST_CASE("processes are set up once per maps object, within a bound", "[unwind]") {
    auto capture = capture_with(unwind_test_call_outer);
    auto maps = own_maps();
    size_t opens = 0;
    UserStackUnwinder unwinder(
        [&](uint32_t tgid, const Mapping& mapping) {
            ++opens;
            return open_mapped_file(tgid, mapping);
        },
        127, 2);

    std::vector<uint64_t> first = unwinder.unwind(maps, view_of(*capture));
    size_t opens_per_setup = opens;
    CHECK(opens_per_setup >= 3);  // at least this program, the fixture and libc
    CHECK(unwinder.unwind(maps, view_of(*capture)) == first);
    CHECK(opens == opens_per_setup);
    CHECK(unwinder.cached_processes() == 1);

    // Equal code mappings, another object (a new snapshot of the process
    // after a data mapping came or went): the set-up is shared.
    auto second_maps = std::make_shared<const ProcessMaps>(*maps);
    CHECK(unwinder.unwind(second_maps, view_of(*capture)) == first);
    CHECK(opens == opens_per_setup);
    CHECK(unwinder.cached_processes() == 2);

    // Other code (here one file's inode differs: another file): a set-up
    // of its own, and the least recently used maps object (maps) goes.
    auto third_maps = std::make_shared<const ProcessMaps>(with_other_inode(*maps));
    CHECK(unwinder.unwind(third_maps, view_of(*capture)) == first);
    CHECK(opens == 2 * opens_per_setup);
    CHECK(unwinder.cached_processes() == 2);
    // second_maps is still set up; maps shares its set-up again.
    unwinder.unwind(second_maps, view_of(*capture));
    unwinder.unwind(maps, view_of(*capture));
    CHECK(opens == 2 * opens_per_setup);

    // Released maps are dropped at the next unwind.
    second_maps.reset();
    third_maps.reset();
    unwinder.unwind(maps, view_of(*capture));
    CHECK(unwinder.cached_processes() == 1);
}

TEST_CASE("the files opened are closed with the unwinder", "[unwind]") {
    auto capture = capture_with(unwind_test_call_outer);
    auto maps = own_maps();
    size_t before = open_fd_count();
    {
        UserStackUnwinder unwinder(open_mapped_file);
        unwinder.unwind(maps, view_of(*capture));
        CHECK(open_fd_count() > before);
    }
    CHECK(open_fd_count() == before);
}

TEST_CASE("a code file truncated after set-up is unwound through from its copy", "[unwind][hostile]") {
    auto capture = capture_with(unwind_test_call_outer);
    auto maps = own_maps();
    const uint32_t tgid = static_cast<uint32_t>(getpid());
    std::vector<uint64_t> untouched =
        ProcessUnwinder(*maps, tgid, open_mapped_file).unwind(view_of(*capture), 127);
    REQUIRE(untouched.size() >= 5);

    // The fixture library's CFI is read from a file of the same bytes that
    // the test then cuts, as a process may cut a library it mapped.
    std::string cut_path = (std::filesystem::temp_directory_path() / "unwind-XXXXXX").string();
    UniqueFd cut_file(::mkstemp(cut_path.data()));
    REQUIRE(cut_file);
    bool copied = false;
    auto open_file = [&](uint32_t pid, const Mapping& mapping) {
        if (mapping.path.find("libunwfixture.so") == std::string::npos)
            return open_mapped_file(pid, mapping);
        if (!copied) {
            std::filesystem::copy_file(mapping.path, cut_path,
                                       std::filesystem::copy_options::overwrite_existing);
            copied = true;
        }
        return UniqueFd(::open(cut_path.c_str(), O_RDONLY | O_CLOEXEC));
    };
    ProcessUnwinder unwinder(*maps, tgid, open_file);
    REQUIRE(copied);
    REQUIRE(::truncate(cut_path.c_str(), 0) == 0);

    CHECK(unwinder.unwind(view_of(*capture), 127) == untouched);
    ::unlink(cut_path.c_str());
}

// The memo (unwind/unwind_memo.hpp): a snapshot answered from it must get
// what a fresh unwinder, which remembers nothing, would find.
namespace {

std::vector<uint64_t> fresh_unwind(const std::shared_ptr<const ProcessMaps>& maps,
                                   const StackSnapshot& snapshot) {
    ProcessUnwinder fresh(*maps, static_cast<uint32_t>(getpid()), open_mapped_file);
    return fresh.unwind(snapshot, 127);
}

}  // namespace

TEST_CASE("an unwind from a place seen before is remembered by what decided it", "[unwind]") {
    auto capture = capture_with(unwind_test_call_outer);
    auto maps = own_maps();
    ProcessUnwinder unwinder(*maps, static_cast<uint32_t>(getpid()), open_mapped_file);
    const std::vector<uint64_t> first = unwinder.unwind(view_of(*capture), 127);
    REQUIRE(first.size() >= 5);
    CHECK(unwinder.full_unwinds() == 1);

    // The same snapshot again: answered from the memo.
    CHECK(unwinder.unwind(view_of(*capture), 127) == first);
    CHECK(unwinder.remembered_unwinds() == 1);

    // Other values in registers no frame rule uses (rax, rcx, r11: a
    // syscall's scratch), as at the next blocking: unwound once more with a
    // check, then remembered without them.
    for (uint64_t round = 1; round <= 3; ++round) {
        auto later = std::make_unique<unwfixture_snapshot>(*capture);
        for (size_t reg : {waketrace::detail::dwarf_register::rax, waketrace::detail::dwarf_register::rcx,
                           waketrace::detail::dwarf_register::r11})
            later->registers[reg] += round;
        CHECK(unwinder.unwind(view_of(*later), 127) == first);
        CHECK(unwinder.unwind(view_of(*later), 127) == fresh_unwind(maps, view_of(*later)));
    }
    CHECK(unwinder.full_unwinds() == 2);
    CHECK(unwinder.remembered_unwinds() == 6);
}

TEST_CASE("a snapshot whose return address differs is not answered from the memo", "[unwind]") {
    auto capture = capture_with(unwind_test_call_outer);
    auto maps = own_maps();
    ProcessUnwinder unwinder(*maps, static_cast<uint32_t>(getpid()), open_mapped_file);
    const std::vector<uint64_t> first = unwinder.unwind(view_of(*capture), 127);
    REQUIRE(first.size() >= 3);
    auto again = std::make_unique<unwfixture_snapshot>(*capture);
    again->registers[waketrace::detail::dwarf_register::rax] += 1;
    REQUIRE(unwinder.unwind(view_of(*again), 127) == first);  // remembered by rip, rsp, rbp

    // The first return address on the stack moved one function up (the same
    // caller, another call site): a new unwind, as a fresh unwinder would see it.
    auto moved = std::make_unique<unwfixture_snapshot>(*again);
    uint64_t* words = reinterpret_cast<uint64_t*>(moved->stack);
    size_t slot = 0;
    while (slot < moved->stack_size / 8 && words[slot] != first[1])
        ++slot;
    REQUIRE(slot < moved->stack_size / 8);
    words[slot] = first[2];
    const size_t full_before = unwinder.full_unwinds();
    const std::vector<uint64_t> frames = unwinder.unwind(view_of(*moved), 127);
    CHECK(unwinder.full_unwinds() == full_before + 1);
    CHECK(frames == fresh_unwind(maps, view_of(*moved)));
    CHECK(frames != first);
}

TEST_CASE("an unwind whose frame rules never use rbp is remembered without it", "[unwind]") {
    // Four frames, all in the fixture (built without frame pointers): its
    // rules find each frame from rsp, so rbp is data to them, as a loop
    // counter kept in rbp is at every blocking.
    constexpr size_t kFrames = 4;
    auto capture = capture_with(unwind_test_call_outer);
    auto maps = own_maps();
    ProcessUnwinder unwinder(*maps, static_cast<uint32_t>(getpid()), open_mapped_file);
    const std::vector<uint64_t> first = unwinder.unwind(view_of(*capture), kFrames);
    REQUIRE(first.size() == kFrames);
    for (uint64_t round = 1; round <= 3; ++round) {
        auto later = std::make_unique<unwfixture_snapshot>(*capture);
        later->registers[waketrace::detail::dwarf_register::rbp] += round;
        CHECK(unwinder.unwind(view_of(*later), kFrames) == first);
        ProcessUnwinder fresh(*maps, static_cast<uint32_t>(getpid()), open_mapped_file);
        CHECK(fresh.unwind(view_of(*later), kFrames) == first);
    }
    // The second snapshot was unwound (with the checks that left rbp out),
    // the third and fourth answered from the memo.
    CHECK(unwinder.full_unwinds() == 2);
    CHECK(unwinder.remembered_unwinds() == 2);
}

TEST_CASE("an unwind that reaches the thread's start says where its stack ends", "[unwind]") {
    auto capture = capture_with(unwind_test_call_outer);
    auto maps = own_maps();
    ProcessUnwinder unwinder(*maps, static_cast<uint32_t>(getpid()), open_mapped_file);
    const std::vector<uint64_t> frames = unwinder.unwind(view_of(*capture), 127);
    const uint64_t end = unwinder.stack_end_found();
    INFO("stack at " << capture->stack_address << ", " << capture->stack_size << " bytes copied, end "
                     << end);
    CHECK_FALSE(unwinder.read_past_copy());
    REQUIRE(end > capture->stack_address);
    REQUIRE(end <= capture->stack_address + capture->stack_size);
    const size_t needed = end - capture->stack_address;

    // A copy that stops at the end unwinds the same, to the same end.
    ProcessUnwinder cut_at_end(*maps, static_cast<uint32_t>(getpid()), open_mapped_file);
    CHECK(cut_at_end.unwind(view_of(*capture, needed), 127) == frames);
    CHECK(cut_at_end.stack_end_found() == end);
    CHECK_FALSE(cut_at_end.read_past_copy());

    // One word less and the unwind stops short of the start: no end found.
    // (libdwfl ends such an unwind as it ends one at the start, with the
    // return address undefined: what tells them apart is the failed read.)
    ProcessUnwinder cut_short(*maps, static_cast<uint32_t>(getpid()), open_mapped_file);
    const std::vector<uint64_t> fewer = cut_short.unwind(view_of(*capture, needed - 8), 127);
    CHECK(fewer.size() < frames.size());
    CHECK(cut_short.stack_end_found() == 0);
    CHECK(cut_short.read_past_copy());

    // Stopped by max_frames, or answered from the memo: no end found.
    ProcessUnwinder limited(*maps, static_cast<uint32_t>(getpid()), open_mapped_file);
    limited.unwind(view_of(*capture), 3);
    CHECK(limited.stack_end_found() == 0);
    CHECK(unwinder.unwind(view_of(*capture), 127) == frames);
    CHECK(unwinder.remembered_unwinds() == 1);
    CHECK(unwinder.stack_end_found() == 0);

    // The user stack unwinder passes it on.
    UserStackUnwinder user_stacks(open_mapped_file);
    CHECK(user_stacks.unwind(maps, view_of(*capture)) == frames);
    CHECK(user_stacks.stack_end_found() == end);
}
