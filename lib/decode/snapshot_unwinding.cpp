// SPDX-License-Identifier: LGPL-2.1-or-later
#include "decode/snapshot_unwinding.hpp"

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include "unwind/user_stack_unwinder.hpp"

namespace waketrace::detail {
namespace {

// Turns ring buffer snapshots into addresses.
class SnapshotUnwinding {
public:
    explicit SnapshotUnwinding(ProcessRegistry& processes)
        : processes_(processes), unwinder_([&processes](uint32_t tgid, const Mapping& mapping) {
              return processes.open_copy(tgid, mapping);
          }) {}

    EventChains::UnwoundStack unwind(const wt_user_stack_event& event) {
        StackSnapshot snapshot;
        snapshot.tgid = event.tgid;
        snapshot.tid = event.tid;
        std::copy(std::begin(event.regs), std::end(event.regs), snapshot.registers.begin());
        snapshot.stack_address = event.regs[dwarf_register::rsp];
        snapshot.stack = event.stack;
        snapshot.stack_size = event.stack_size;

        ProcessImage image = processes_.image(event.tgid);
        std::vector<uint64_t> addresses = unwinder_.unwind(maps_of(image), snapshot);
        // The remembered map predates the stack (a process seen while its
        // loader was still mapping libraries, a dlopen since): the ip is in
        // no mapping. Read the map again, once per remembered map, and
        // unwind again.
        if (!image->maps().find(snapshot.ip()) && image != refreshed_from_) {
            refreshed_from_ = image;
            processes_.remember(event.tgid);
            image = processes_.image(event.tgid);
            if (image != refreshed_from_)
                addresses = unwinder_.unwind(maps_of(image), snapshot);
        }
        return {std::move(image), std::move(addresses)};
    }

private:
    // The unwinder caches per maps object: one per image, sharing its life.
    static std::shared_ptr<const ProcessMaps> maps_of(const ProcessImage& image) {
        return std::shared_ptr<const ProcessMaps>(image, &image->maps());
    }

    ProcessRegistry& processes_;
    UserStackUnwinder unwinder_;
    ProcessImage refreshed_from_;
};

}  // namespace

std::unique_ptr<EventChains> unwinding_event_chains(ProcessRegistry& processes) {
    auto unwinding = std::make_shared<SnapshotUnwinding>(processes);
    return std::make_unique<EventChains>(
        [unwinding](const wt_user_stack_event& event) { return unwinding->unwind(event); },
        // In stream order: the snapshots before it keep the old map.
        [&processes](uint32_t tgid) { processes.remember(tgid); });
}

}  // namespace waketrace::detail
