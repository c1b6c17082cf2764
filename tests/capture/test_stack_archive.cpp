// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The stacks moved out of the kernel map: an id names the same frames
// before and after a move, and an id seen with two different stacks is a
// collision from then on, never named with either stack's frames.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "capture/stack_archive.hpp"

using waketrace::detail::StackArchive;

namespace {
const std::vector<uint64_t> kStack = {0xffffffff81000010, 0xffffffff81000200, 0xffffffff81003000};
const std::vector<uint64_t> kOther = {0x401000, 0x402000};
}  // namespace

TEST_CASE("a moved stack is found by its id, the kernel map's copy first") {
    StackArchive archive;
    archive.add(7, kStack);
    CHECK(archive.find(7, {}).frames == kStack);      // moved, not stored again
    CHECK(archive.find(7, kStack).frames == kStack);  // stored again after the move
    CHECK_FALSE(archive.find(7, kStack).collision);
    CHECK(archive.find(8, kOther).frames == kOther);  // never moved
    CHECK(archive.find(9, {}).frames.empty());        // unknown
    CHECK_FALSE(archive.find(9, {}).collision);
    archive.add(7, kStack);  // moved a second time: the same
    CHECK(archive.size() == 1);
    CHECK_FALSE(archive.find(7, {}).collision);
}

TEST_CASE("an id that named two stacks is a collision, whichever way it is found") {
    SECTION("the kernel map holds another stack under a moved id") {
        StackArchive archive;
        archive.add(7, kStack);
        const StackArchive::Lookup found = archive.find(7, kOther);
        CHECK(found.collision);
        CHECK(found.frames.empty());
    }
    SECTION("a second move brings another stack under the same id") {
        StackArchive archive;
        archive.add(7, kStack);
        archive.add(7, kOther);
        CHECK(archive.find(7, {}).collision);
        CHECK(archive.find(7, kStack).collision);  // even the first stack's copy
        CHECK(archive.find(7, {}).frames.empty());
    }
}

TEST_CASE("a drain keeps only the stacks something still names") {
    StackArchive archive;
    archive.add(7, kStack);
    archive.add(8, kOther);
    archive.add(9, kOther);
    archive.add(9, kStack);  // 9 collided
    CHECK(archive.keep_only({8}) == 2);
    CHECK(archive.size() == 1);
    CHECK(archive.find(8, {}).frames == kOther);
    // Forgotten: found nowhere, and not mistaken for a stack without frames.
    CHECK_FALSE(archive.find(7, {}).found);
    CHECK_FALSE(archive.find(7, {}).collision);
    // Once nothing names a collided id, a stack stored under it later is
    // that stack alone.
    CHECK_FALSE(archive.find(9, kOther).collision);
    CHECK(archive.find(9, kOther).frames == kOther);
}

TEST_CASE("a stack without frames is found, not missing") {
    StackArchive archive;
    archive.add(5, {});
    CHECK(archive.find(5, {}).found);
    CHECK(archive.find(5, {}).frames.empty());
    CHECK(archive.find(6, std::vector<uint64_t>{}).found);  // in the kernel map, empty
}
