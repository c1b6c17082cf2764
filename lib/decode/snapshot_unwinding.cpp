// SPDX-License-Identifier: LGPL-2.1-or-later
#include "decode/snapshot_unwinding.hpp"

#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "decode/stack_end_learner.hpp"
#include "unwind/user_stack_unwinder.hpp"

namespace waketrace::detail {
namespace {

// Turns ring buffer snapshots into addresses.
class SnapshotUnwinding {
public:
    SnapshotUnwinding(ProcessRegistry& processes, LearnStackEnd learn)
        : processes_(processes),
          unwinder_([&processes](uint32_t tgid, const Mapping& mapping) {
              return processes.open_copy(tgid, mapping);
          }),
          learn_(std::move(learn)) {}

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
        learn_stack_end(event);
        return {std::move(image), std::move(addresses)};
    }

private:
    void learn_stack_end(const wt_user_stack_event& event) {
        if (!learn_)
            return;
        StackEndLearner::Unwound unwound;
        unwound.tid = event.tid;
        unwound.thread_start_ns = event.thread_start_ns;
        unwound.stack_address = event.regs[dwarf_register::rsp];
        unwound.stack_size = event.stack_size;
        unwound.end_found = unwinder_.stack_end_found();
        unwound.read_past_copy = unwinder_.read_past_copy();
        if (std::optional<uint64_t> end = ends_.on_unwind(unwound))
            learn_(event.tid, event.thread_start_ns, *end);
    }

    // The unwinder caches per maps object: one per image, sharing its life.
    static std::shared_ptr<const ProcessMaps> maps_of(const ProcessImage& image) {
        return std::shared_ptr<const ProcessMaps>(image, &image->maps());
    }

    ProcessRegistry& processes_;
    UserStackUnwinder unwinder_;
    ProcessImage refreshed_from_;
    LearnStackEnd learn_;
    StackEndLearner ends_;
};

}  // namespace

std::unique_ptr<EventChains> unwinding_event_chains(ProcessRegistry& processes, LearnStackEnd learn) {
    auto unwinding = std::make_shared<SnapshotUnwinding>(processes, std::move(learn));
    return std::make_unique<EventChains>(
        [unwinding](const wt_user_stack_event& event) { return unwinding->unwind(event); },
        // In stream order: the snapshots before it keep the old map.
        [&processes](uint32_t tgid) { processes.remember(tgid); });
}

}  // namespace waketrace::detail
