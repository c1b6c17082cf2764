// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/stack_archive.hpp"

#include <utility>

namespace waketrace::detail {

void StackArchive::add(int32_t id, std::vector<uint64_t> frames) {
    const std::lock_guard<std::mutex> lock(mutex_);
    auto [it, inserted] = stacks_.try_emplace(id, std::move(frames));
    if (!inserted && it->second != frames)
        collided_.insert(id);
}

StackArchive::Lookup StackArchive::find(int32_t id, std::vector<uint64_t> in_kernel) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    Lookup lookup;
    const auto archived = stacks_.find(id);
    if (collided_.count(id) ||
        (archived != stacks_.end() && !in_kernel.empty() && archived->second != in_kernel)) {
        lookup.collision = true;
        return lookup;
    }
    if (!in_kernel.empty())
        lookup.frames = std::move(in_kernel);
    else if (archived != stacks_.end())
        lookup.frames = archived->second;
    return lookup;
}

size_t StackArchive::size() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return stacks_.size();
}

}  // namespace waketrace::detail
