// SPDX-License-Identifier: LGPL-2.1-or-later
#include "unwind/user_stack_unwinder.hpp"

#include <algorithm>
#include <utility>

namespace waketrace::detail {

namespace {

bool same_owner(const std::weak_ptr<const ProcessMaps>& a,
                const std::shared_ptr<const ProcessMaps>& b) {
    return !a.owner_before(b) && !b.owner_before(a);
}

}  // namespace

UserStackUnwinder::UserStackUnwinder(OpenFile open_file, size_t max_frames, size_t max_processes)
    : open_file_(std::move(open_file)),
      max_frames_(std::max<size_t>(max_frames, 1)),
      max_processes_(std::max<size_t>(max_processes, 1)) {}

UserStackUnwinder::~UserStackUnwinder() = default;
UserStackUnwinder::UserStackUnwinder(UserStackUnwinder&&) noexcept = default;
UserStackUnwinder& UserStackUnwinder::operator=(UserStackUnwinder&&) noexcept = default;

std::vector<uint64_t> UserStackUnwinder::unwind(const std::shared_ptr<const ProcessMaps>& maps,
                                                const StackSnapshot& snapshot) {
    if (!maps) {
        if (snapshot.ip() == 0)
            return {};
        return {snapshot.ip()};
    }
    return unwinder_for(maps, snapshot.tgid).unwind(snapshot, max_frames_);
}

ProcessUnwinder& UserStackUnwinder::unwinder_for(const std::shared_ptr<const ProcessMaps>& maps,
                                                 uint32_t tgid) {
    // A released ProcessMaps means its process is done with: free its files now.
    processes_.erase(std::remove_if(processes_.begin(), processes_.end(),
                                    [](const CachedProcess& p) { return p.owner.expired(); }),
                     processes_.end());

    auto found = std::find_if(processes_.begin(), processes_.end(), [&](const CachedProcess& p) {
        return p.maps == maps.get() && same_owner(p.owner, maps);
    });
    if (found != processes_.end()) {
        std::rotate(found, found + 1, processes_.end());
        return *processes_.back().unwinder;
    }

    auto unwinder = std::make_unique<ProcessUnwinder>(*maps, tgid, open_file_);
    if (processes_.size() >= max_processes_)
        processes_.erase(processes_.begin());
    processes_.push_back({maps, maps.get(), std::move(unwinder)});
    return *processes_.back().unwinder;
}

}  // namespace waketrace::detail
