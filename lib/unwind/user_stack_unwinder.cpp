// SPDX-License-Identifier: LGPL-2.1-or-later
#include "unwind/user_stack_unwinder.hpp"

#include <algorithm>
#include <utility>

namespace waketrace::detail {

namespace {

// The mappings a ProcessUnwinder reports: all it depends on.
std::vector<Mapping> code_mappings(const ProcessMaps& maps) {
    std::vector<Mapping> code;
    for (const Mapping& mapping : maps.mappings())
        if (mapping.executable && mapping.is_file())
            code.push_back(mapping);
    return code;
}

bool same_code(const std::vector<Mapping>& a, const std::vector<Mapping>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Mapping& x, const Mapping& y) {
        return x.start == y.start && x.end == y.end && x.file_offset == y.file_offset && x.inode == y.inode &&
               x.dev_major == y.dev_major && x.dev_minor == y.dev_minor && x.deleted == y.deleted &&
               x.path == y.path;
    });
}

bool same_owner(const std::weak_ptr<const ProcessMaps>& a, const std::shared_ptr<const ProcessMaps>& b) {
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
    stack_end_found_ = 0;
    read_past_copy_ = false;
    if (!maps) {
        if (snapshot.ip() == 0)
            return {};
        return {snapshot.ip()};
    }
    ProcessUnwinder& unwinder = unwinder_for(maps, snapshot.tgid);
    std::vector<uint64_t> addresses = unwinder.unwind(snapshot, max_frames_);
    stack_end_found_ = unwinder.stack_end_found();
    read_past_copy_ = unwinder.read_past_copy();
    return addresses;
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

    std::vector<Mapping> code = code_mappings(*maps);
    found = std::find_if(processes_.begin(), processes_.end(),
                         [&](const CachedProcess& p) { return p.tgid == tgid && same_code(p.code, code); });
    std::shared_ptr<ProcessUnwinder> unwinder =
        found != processes_.end() ? found->unwinder
                                  : std::make_shared<ProcessUnwinder>(*maps, tgid, open_file_);
    if (processes_.size() >= max_processes_)
        processes_.erase(processes_.begin());
    processes_.push_back({maps, maps.get(), tgid, std::move(code), std::move(unwinder)});
    return *processes_.back().unwinder;
}

}  // namespace waketrace::detail
