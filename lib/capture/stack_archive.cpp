// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/stack_archive.hpp"

#include <iterator>
#include <utility>

namespace waketrace::detail {

void StackArchive::add(int32_t id, std::vector<uint64_t> frames) {
    const std::lock_guard<std::mutex> lock(mutex_);
    auto [it, inserted] = stacks_.try_emplace(id, std::move(frames));
    if (!inserted && it->second != frames)
        collided_.insert(id);
}

StackArchive::Lookup StackArchive::find(int32_t id, std::optional<std::vector<uint64_t>> in_kernel) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    Lookup lookup;
    const auto archived = stacks_.find(id);
    if (collided_.count(id) || (archived != stacks_.end() && in_kernel && archived->second != *in_kernel)) {
        lookup.collision = true;
        return lookup;
    }
    if (in_kernel) {
        lookup.frames = std::move(*in_kernel);
        lookup.found = true;
    } else if (archived != stacks_.end()) {
        lookup.frames = archived->second;
        lookup.found = true;
    }
    return lookup;
}

size_t StackArchive::keep_only(const std::unordered_set<int32_t>& referenced) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const size_t before = stacks_.size();
    for (auto it = stacks_.begin(); it != stacks_.end();)
        it = referenced.count(it->first) ? std::next(it) : stacks_.erase(it);
    // A collision is only about the stacks named until now: once none is
    // named, a stack stored under the id later means that stack alone.
    for (auto it = collided_.begin(); it != collided_.end();)
        it = referenced.count(*it) ? std::next(it) : collided_.erase(it);
    return before - stacks_.size();
}

size_t StackArchive::size() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return stacks_.size();
}

}  // namespace waketrace::detail
