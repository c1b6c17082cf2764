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
    explicit SnapshotUnwinding(Symbolizer& symbolizer)
        : symbolizer_(symbolizer),
          unwinder_([&symbolizer](uint32_t tgid, const Mapping& mapping) {
              return symbolizer.open_file(tgid, mapping);
          }) {}

    EventChains::UnwoundStack unwind(const wt_user_stack_event& event) {
        StackSnapshot snapshot;
        snapshot.tgid = event.tgid;
        snapshot.tid = event.tid;
        std::copy(std::begin(event.regs), std::end(event.regs), snapshot.registers.begin());
        snapshot.stack_address = event.regs[dwarf_register::rsp];
        snapshot.stack = event.stack;
        snapshot.stack_size = event.stack_size;

        Symbolizer::ProcessImage image = symbolizer_.process_image(event.tgid);
        std::vector<uint64_t> addresses = unwinder_.unwind(maps_of(image), snapshot);
        // The remembered map predates the stack (a process seen while its
        // loader was still mapping libraries, a dlopen since): the ip is in
        // no mapping. Read the map again, once per remembered map, and
        // unwind again.
        if (!image->maps().find(snapshot.ip()) && image != refreshed_from_) {
            refreshed_from_ = image;
            symbolizer_.remember_process(event.tgid);
            image = symbolizer_.process_image(event.tgid);
            if (image != refreshed_from_)
                addresses = unwinder_.unwind(maps_of(image), snapshot);
        }
        return {std::move(image), std::move(addresses)};
    }

private:
    // The unwinder caches per maps object: one per image, sharing its life.
    static std::shared_ptr<const ProcessMaps> maps_of(const Symbolizer::ProcessImage& image) {
        return std::shared_ptr<const ProcessMaps>(image, &image->maps());
    }

    Symbolizer& symbolizer_;
    UserStackUnwinder unwinder_;
    Symbolizer::ProcessImage refreshed_from_;
};

}  // namespace

std::unique_ptr<EventChains> unwinding_event_chains(Symbolizer& symbolizer) {
    auto unwinding = std::make_shared<SnapshotUnwinding>(symbolizer);
    return std::make_unique<EventChains>(
        [unwinding](const wt_user_stack_event& event) { return unwinding->unwind(event); },
        // In stream order: the snapshots before it keep the old map.
        [&symbolizer](uint32_t tgid) { symbolizer.remember_process(tgid); });
}

}  // namespace waketrace::detail
