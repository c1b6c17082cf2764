// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Stacks moved out of the kernel's stack map, so that the map never fills:
// once it is half full, ChainGrowth moves every stack here and the program
// stores new ones in the room that frees. A chain read later finds its
// stacks in the map or here. Moving is safe because a stack's id is a hash
// of its frames: a stack stored again after the move gets the same id, and
// any chain that names the id means those frames. The one exception, two
// different stacks with the same 30-bit hash at different times, is found
// when both are seen, and such an id is then reported as a collision rather
// than named with the wrong frames.
//
// Kept stacks are forgotten again at a drain (keep_only()): once no open
// period, chain or other record still names an id, nothing will ask for it,
// and a stack stored again later is stored in the kernel map. So the
// archive holds what the records not yet read name, not every stack ever
// met.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace waketrace::detail {

class StackArchive {
public:
    // What is known of one stack id.
    struct Lookup {
        std::vector<uint64_t> frames;  // innermost first
        bool found = false;            // a stack has the id (it may have no frames)
        bool collision = false;        // the id has held two different stacks
    };

    // Keeps a stack moved out of the kernel map. Thread-safe.
    void add(int32_t id, std::vector<uint64_t> frames);
    // Resolves `id`, preferring the frames the kernel map holds now
    // (`in_kernel`, nullopt when it holds none). Thread-safe.
    Lookup find(int32_t id, std::optional<std::vector<uint64_t>> in_kernel) const;
    // Forgets every stack and collision whose id is not in `referenced`;
    // returns how many stacks went. Thread-safe.
    size_t keep_only(const std::unordered_set<int32_t>& referenced);
    size_t size() const;

private:
    mutable std::mutex mutex_;
    std::unordered_map<int32_t, std::vector<uint64_t>> stacks_;
    std::unordered_set<int32_t> collided_;
};

}  // namespace waketrace::detail
