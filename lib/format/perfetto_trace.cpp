// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Off-CPU events as a Perfetto trace: the events become marks on tracks
// (slices and instants), the marks are sorted by time, and each becomes a
// TrackEvent packet. Names, frames and stacks are interned as the marks are
// made and written up front, in the first packet after the clock snapshot,
// which Perfetto allows ("emitted proactively in advance of referring to
// them"): a batch writer knows them all before the first event. See
// perfetto_trace.hpp.
#include "format/perfetto_trace.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "format/format.hpp"
#include "perfetto_trace.pb.h"

namespace waketrace::detail {
namespace {

namespace pb = perfetto::protos;

// Everything is written as one producer would: one sequence.
constexpr uint32_t kSequenceId = 1;

// Interning tables, each counting its iids from 1, written into one
// InternedData. Every text is made valid UTF-8 on the way in, as the
// text formats do (thread_name()); build-ids are bytes and kept as such.
class Interned {
public:
    explicit Interned(pb::InternedData& out) : out_(out) {}

    uint64_t event_name(std::string_view name) {
        return intern(event_names_, name, [&](uint64_t iid, const std::string& text) {
            pb::EventName* entry = out_.add_event_names();
            entry->set_iid(iid);
            entry->set_name(text);
        });
    }

    uint64_t annotation_name(std::string_view name) {
        return intern(annotation_names_, name, [&](uint64_t iid, const std::string& text) {
            pb::DebugAnnotationName* entry = out_.add_debug_annotation_names();
            entry->set_iid(iid);
            entry->set_name(text);
        });
    }

    uint64_t annotation_string(std::string_view value) {
        return intern_string(annotation_strings_, value,
                             &pb::InternedData::add_debug_annotation_string_values);
    }

    // The stack of a thread, kernel frames over user frames (both
    // innermost first, as Frame lists are); 0 when both are empty.
    uint64_t callstack(const std::vector<Frame>& kernel, const std::vector<Frame>& user) {
        std::vector<uint64_t> root_first;
        root_first.reserve(kernel.size() + user.size());
        for (auto frame = user.rbegin(); frame != user.rend(); ++frame)
            root_first.push_back(frame_iid(*frame));
        for (auto frame = kernel.rbegin(); frame != kernel.rend(); ++frame)
            root_first.push_back(frame_iid(*frame));
        if (root_first.empty())
            return 0;
        auto [found, added] = callstacks_.try_emplace(std::move(root_first), callstacks_.size() + 1);
        if (added) {
            pb::Callstack* entry = out_.add_callstacks();
            entry->set_iid(found->second);
            for (uint64_t frame : found->first)
                entry->add_frame_ids(frame);
        }
        return found->second;
    }

private:
    using Table = std::unordered_map<std::string, uint64_t>;
    using StringAdder = pb::InternedString* (pb::InternedData::*)();
    // What makes a frame distinct: function name, mapping, address in it,
    // source file and line (iids, 0 when absent).
    using FrameKey = std::tuple<uint64_t, uint64_t, uint64_t, uint64_t, uint32_t>;

    template <typename Write>
    uint64_t intern(Table& table, std::string_view text, Write write) {
        return intern_bytes(table, thread_name(text), write);
    }

    template <typename Write>
    uint64_t intern_bytes(Table& table, std::string bytes, Write write) {
        auto [found, added] = table.try_emplace(std::move(bytes), table.size() + 1);
        if (added)
            write(found->second, found->first);
        return found->second;
    }

    uint64_t intern_string(Table& table, std::string_view text, StringAdder add) {
        return intern(table, text, [&](uint64_t iid, const std::string& valid) {
            pb::InternedString* entry = (out_.*add)();
            entry->set_iid(iid);
            entry->set_str(valid);
        });
    }

    uint64_t frame_iid(const Frame& frame) {
        const uint64_t name = frame.resolved() ? intern_string(function_names_, frame.symbol,
                                                               &pb::InternedData::add_function_names)
                                               : 0;
        const uint64_t source = frame.file.empty() ? 0
                                                   : intern_string(source_paths_, frame.file,
                                                                   &pb::InternedData::add_source_paths);
        // A file's frames by their offset in it, which a symbolizer holding
        // the same file (by build-id) can name again; others by address.
        const uint64_t rel_pc = frame.file_offset.value_or(frame.address);
        FrameKey key{name, mapping_iid(frame), rel_pc, source, frame.line};
        auto [found, added] = frames_.try_emplace(key, frames_.size() + 1);
        if (added) {
            pb::Frame* entry = out_.add_frames();
            entry->set_iid(found->second);
            if (name)
                entry->set_function_name_id(name);
            entry->set_mapping_id(std::get<1>(key));
            entry->set_rel_pc(rel_pc);
            if (source) {
                entry->set_source_path_iid(source);
                if (frame.line)
                    entry->set_line_number(frame.line);
            }
        }
        return found->second;
    }

    // Trace processors before 2025 take a frame only with a mapping, so
    // every frame has one: its module ("[kernel]", a kernel module, a
    // file's path; "[unknown]" when none is known), with the file's
    // build-id. A path is interned as its components, which trace
    // processor joins back with "/" before each one.
    uint64_t mapping_iid(const Frame& frame) {
        const std::string_view module = frame.module.empty() ? "[unknown]" : std::string_view(frame.module);
        auto [found, added] =
            mappings_.try_emplace({std::string(module), frame.build_id}, mappings_.size() + 1);
        if (!added)
            return found->second;
        pb::Mapping* entry = out_.add_mappings();
        entry->set_iid(found->second);
        if (!frame.build_id.empty())
            entry->set_build_id(intern_bytes(build_ids_, build_id_bytes(frame.build_id),
                                             [&](uint64_t iid, const std::string& bytes) {
                                                 pb::InternedString* build_id = out_.add_build_ids();
                                                 build_id->set_iid(iid);
                                                 build_id->set_str(bytes);
                                             }));
        size_t start = 0;
        while (start <= module.size()) {
            size_t end = module.find('/', start);
            if (end == std::string_view::npos)
                end = module.size();
            if (end > start)
                entry->add_path_string_ids(intern_string(mapping_paths_, module.substr(start, end - start),
                                                         &pb::InternedData::add_mapping_paths));
            start = end + 1;
        }
        return found->second;
    }

    // Perfetto keeps build-ids as their bytes (and prints them in hex);
    // Frame::build_id is hex. Text that is not hex is kept as it is.
    static std::string build_id_bytes(const std::string& hex) {
        auto digit = [](char c) -> int {
            if (c >= '0' && c <= '9')
                return c - '0';
            if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
            if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
            return -1;
        };
        std::string bytes;
        for (size_t i = 0; i + 1 < hex.size(); i += 2) {
            const int high = digit(hex[i]), low = digit(hex[i + 1]);
            if (high < 0 || low < 0)
                return hex;
            bytes.push_back(char(high * 16 + low));
        }
        return hex.size() % 2 ? hex : bytes;
    }

    pb::InternedData& out_;
    Table event_names_, annotation_names_, annotation_strings_;
    Table function_names_, source_paths_, mapping_paths_, build_ids_;
    std::map<std::pair<std::string, std::string>, uint64_t> mappings_;
    std::map<FrameKey, uint64_t> frames_;
    std::map<std::vector<uint64_t>, uint64_t> callstacks_;
};

// The frames of the events' stacks, each asked of EventTrace::frames once.
class StackFrames {
public:
    explicit StackFrames(const EventTrace& trace) : trace_(trace) {}

    const std::vector<Frame>& kernel(StackId id) { return get(id, 0, true); }
    const std::vector<Frame>& user(StackId id, uint32_t tgid) { return get(id, tgid, false); }

private:
    const std::vector<Frame>& get(StackId id, uint32_t tgid, bool kernel) {
        static const std::vector<Frame> none;
        if (id < 0 || !trace_.frames)
            return none;
        auto [found, added] = cache_.try_emplace({id, tgid, kernel});
        if (added)
            found->second = trace_.frames(id, tgid, kernel);
        return found->second;
    }

    const EventTrace& trace_;
    std::map<std::tuple<StackId, uint32_t, bool>, std::vector<Frame>> cache_;
};

// The tracks: one per process and per thread met (targets and task
// wakers), one per interrupt kind that woke someone.
class Tracks {
public:
    // `events` in time order, so that "last seen" means last in time.
    explicit Tracks(const std::vector<const OffCpuEvent*>& events) {
        for (const OffCpuEvent* event : events) {
            meet(event->target);
            if (event->waker_context == WakerContext::task)
                meet(event->waker);
            else if (is_interrupt(event->waker_context))
                interrupts_.emplace(event->waker_context, 0);
        }
        // uuids in a fixed order, small so that they encode short.
        uint64_t uuid = 0;
        for (auto& [tgid, process] : processes_)
            process.uuid = ++uuid;
        for (auto& [tid, thread] : threads_)
            thread.uuid = ++uuid;
        for (auto& [context, interrupt_uuid] : interrupts_)
            interrupt_uuid = ++uuid;
    }

    static bool is_interrupt(WakerContext context) {
        return context == WakerContext::hardirq || context == WakerContext::softirq ||
               context == WakerContext::nmi;
    }

    uint64_t thread_uuid(uint32_t tid) const { return threads_.at(tid).uuid; }
    uint64_t interrupt_uuid(WakerContext context) const { return interrupts_.at(context); }

    // One TrackDescriptor per track: each process, then its threads; the
    // interrupt tracks last.
    template <typename Add>
    void describe(Add add) const {
        std::map<uint32_t, std::vector<uint32_t>> threads_of;
        for (const auto& [tid, thread] : threads_)
            threads_of[thread.tgid].push_back(tid);
        for (const auto& [tgid, process] : processes_) {
            pb::TrackDescriptor descriptor;
            descriptor.set_uuid(process.uuid);
            descriptor.mutable_process()->set_pid(int32_t(tgid));
            descriptor.mutable_process()->set_process_name(thread_name(process_name(tgid, process)));
            add(std::move(descriptor));
            for (uint32_t tid : threads_of[tgid]) {
                const Thread& thread = threads_.at(tid);
                descriptor.Clear();
                descriptor.set_uuid(thread.uuid);
                descriptor.set_parent_uuid(process.uuid);
                descriptor.mutable_thread()->set_pid(int32_t(tgid));
                descriptor.mutable_thread()->set_tid(tid);
                descriptor.mutable_thread()->set_thread_name(thread_name(thread.comm));
                add(std::move(descriptor));
            }
        }
        for (const auto& [context, uuid] : interrupts_) {
            pb::TrackDescriptor descriptor;
            descriptor.set_uuid(uuid);
            descriptor.set_name(fmt::format("[{}]", to_string(context)));
            descriptor.set_description(fmt::format(
                "Wakeups from {} context: no task to blame, so they start here", to_string(context)));
            add(std::move(descriptor));
        }
    }

private:
    struct Process {
        std::string first_comm;
        uint64_t uuid = 0;
    };
    struct Thread {
        uint32_t tgid = 0;
        std::string comm;  // the last seen
        uint64_t uuid = 0;
    };

    // A thread is named as last seen: threads name themselves once started
    // (pthread_setname_np), and a process's main thread after its exec, so
    // the first name seen is often its parent's.
    void meet(const Task& task) {
        Thread& thread = threads_.try_emplace(task.tid, Thread{task.tgid, task.comm, 0}).first->second;
        thread.tgid = task.tgid;
        thread.comm = task.comm;
        processes_.try_emplace(task.tgid, Process{task.comm, 0});
    }

    std::string process_name(uint32_t tgid, const Process& process) const {
        auto main_thread = threads_.find(tgid);
        if (main_thread != threads_.end() && main_thread->second.tgid == tgid)
            return main_thread->second.comm;
        return process.first_comm;
    }

    std::map<uint32_t, Process> processes_;
    std::map<uint32_t, Thread> threads_;
    std::map<WakerContext, uint64_t> interrupts_;
};

// One TrackEvent to write: a slice's begin or end, or an instant.
struct Mark {
    enum class Edge : uint8_t { instant, begin, end };
    uint64_t ts = 0;
    uint64_t track = 0;
    Edge edge = Edge::instant;
    uint64_t name = 0;       // event name iid (begins and instants)
    uint64_t callstack = 0;  // callstack iid, 0: none
    uint64_t flow = 0;       // a flow that starts here, 0: none
    uint64_t terminating_flow = 0;
    // One debug annotation, when annotation_name != 0: an interned string
    // (annotation_string) or, without one, annotation_uint; or true.
    uint64_t annotation_name = 0;
    uint64_t annotation_string = 0;
    std::optional<uint64_t> annotation_uint;
    bool annotation_true = false;

    static Mark named(uint64_t name_iid) {
        Mark mark;
        mark.name = name_iid;
        return mark;
    }
};

// Turns the events into marks, interning what they name.
class Timeline {
public:
    Timeline(const Tracks& tracks, Interned& interned, StackFrames& stacks)
        : tracks_(tracks), interned_(interned), stacks_(stacks) {
        running_ = interned_.event_name("running");
        runnable_ = interned_.event_name("runnable");
        preempted_ = interned_.event_name("runnable (preempted)");
    }

    // One thread's periods, by switch-out time.
    void add_thread(const std::vector<const OffCpuEvent*>& periods) {
        const uint64_t track = tracks_.thread_uuid(periods.front()->target.tid);
        std::optional<uint64_t> last_switch_in;
        for (const OffCpuEvent* event : periods) {
            // Overlapping periods (not expected) are cut so that slices
            // follow one another, as a track's slices must nest.
            const uint64_t out = std::max(event->switch_out_ns, last_switch_in.value_or(0));
            const uint64_t in = std::max(event->switch_in_ns, out);
            if (last_switch_in && out > *last_switch_in)
                slice(track, *last_switch_in, out, Mark::named(running_));
            add_period(*event, track, out, in);
            last_switch_in = in;
        }
    }

    std::vector<Mark> take() { return std::move(marks_); }

private:
    // Switched out while still runnable: never blocked, and any waking
    // seen is not what let it run again.
    static bool preempted(const OffCpuEvent& event) {
        return event.waker_context == WakerContext::preempted || event.state == 0;
    }

    void add_period(const OffCpuEvent& event, uint64_t track, uint64_t out, uint64_t in) {
        if (preempted(event)) {
            slice(track, out, in, Mark::named(preempted_));
            return;
        }
        if (!event.waking_ns) {
            blocked(event, track, out, in);
            return;
        }
        const uint64_t waking = std::clamp(event.waking_ns, out, in);
        blocked(event, track, out, waking);
        Mark runnable = Mark::named(runnable_);
        if (event.waker_context == WakerContext::task || Tracks::is_interrupt(event.waker_context)) {
            runnable.terminating_flow = ++flows_;
            waker(event, waking, flows_);
        }
        slice(track, waking, in, runnable);
    }

    void blocked(const OffCpuEvent& event, uint64_t track, uint64_t begin, uint64_t end) {
        const std::vector<Frame>& kernel = stacks_.kernel(event.target_kernel_stack);
        const std::vector<Frame>& user = stacks_.user(event.target_user_stack, event.target.tgid);
        Mark mark = Mark::named(interned_.event_name(blocked_slice_name(kernel, user)));
        mark.callstack = interned_.callstack(kernel, user);
        mark.annotation_name = interned_.annotation_name("state");
        switch (event.state) {
        case 1: mark.annotation_string = interned_.annotation_string("S (sleeping)"); break;
        case 2: mark.annotation_string = interned_.annotation_string("D (uninterruptible)"); break;
        default: mark.annotation_uint = event.state;
        }
        slice(track, begin, end, mark);
    }

    // The waker's side of a waking: an instant on its track, where the flow
    // to the woken thread's runnable slice starts.
    void waker(const OffCpuEvent& event, uint64_t waking, uint64_t flow) {
        const bool task = event.waker_context == WakerContext::task;
        const std::vector<Frame>& kernel = stacks_.kernel(event.waker_kernel_stack);
        const std::vector<Frame>& user = stacks_.user(event.waker_user_stack, event.waker.tgid);
        Mark mark = Mark::named(interned_.event_name(fmt::format("wakes {}", event.target.comm)));
        mark.ts = waking;
        mark.track =
            task ? tracks_.thread_uuid(event.waker.tid) : tracks_.interrupt_uuid(event.waker_context);
        mark.callstack = interned_.callstack(kernel, user);
        mark.flow = flow;
        if (event.waker_outside_filters) {
            mark.annotation_name = interned_.annotation_name("outside_filters");
            mark.annotation_true = true;
        }
        marks_.push_back(mark);
    }

    void slice(uint64_t track, uint64_t begin, uint64_t end, Mark mark) {
        mark.ts = begin;
        mark.track = track;
        mark.edge = Mark::Edge::begin;
        marks_.push_back(mark);
        Mark end_mark;
        end_mark.ts = end;
        end_mark.track = track;
        end_mark.edge = Mark::Edge::end;
        marks_.push_back(end_mark);
    }

    const Tracks& tracks_;
    Interned& interned_;
    StackFrames& stacks_;
    uint64_t running_ = 0, runnable_ = 0, preempted_ = 0;
    uint64_t flows_ = 0;
    std::vector<Mark> marks_;
};

// In time order. At one timestamp instants come first, so that a flow
// starts (at the waker's instant) before it ends (at the runnable slice
// that begins at the same waking), and an instant at a slice's end is
// inside it; one track's begins and ends keep the order they were made in,
// which nests them.
void sort_marks(std::vector<Mark>& marks) {
    std::stable_sort(marks.begin(), marks.end(), [](const Mark& a, const Mark& b) {
        const bool a_instant = a.edge == Mark::Edge::instant, b_instant = b.edge == Mark::Edge::instant;
        return std::tie(a.ts, b_instant) < std::tie(b.ts, a_instant);
    });
}

pb::TracePacket* add_packet(pb::Trace& out) {
    pb::TracePacket* packet = out.add_packet();
    packet->set_trusted_packet_sequence_id(kSequenceId);
    return packet;
}

void write_mark(const Mark& mark, pb::TracePacket& packet) {
    packet.set_timestamp(mark.ts);
    pb::TrackEvent* event = packet.mutable_track_event();
    event->set_track_uuid(mark.track);
    if (mark.edge == Mark::Edge::end) {
        event->set_type(pb::TrackEvent::TYPE_SLICE_END);
        return;
    }
    packet.set_sequence_flags(pb::TracePacket::SEQ_NEEDS_INCREMENTAL_STATE);
    event->set_type(mark.edge == Mark::Edge::begin ? pb::TrackEvent::TYPE_SLICE_BEGIN
                                                   : pb::TrackEvent::TYPE_INSTANT);
    event->set_name_iid(mark.name);
    if (mark.callstack)
        event->set_callstack_iid(mark.callstack);
    if (mark.flow)
        event->add_flow_ids(mark.flow);
    if (mark.terminating_flow)
        event->add_terminating_flow_ids(mark.terminating_flow);
    if (mark.annotation_name) {
        pb::DebugAnnotation* annotation = event->add_debug_annotations();
        annotation->set_name_iid(mark.annotation_name);
        if (mark.annotation_string)
            annotation->set_string_value_iid(mark.annotation_string);
        else if (mark.annotation_uint)
            annotation->set_uint_value(*mark.annotation_uint);
        else
            annotation->set_bool_value(mark.annotation_true);
    }
}

// The first packet: resets the sequence's state, makes CLOCK_MONOTONIC the
// clock of every later packet, and ties it to the wall clock at `start`.
void write_clocks(pb::Trace& out, uint64_t start, int64_t realtime_offset_ns) {
    pb::TracePacket* packet = add_packet(out);
    packet->set_sequence_flags(pb::TracePacket::SEQ_INCREMENTAL_STATE_CLEARED);
    packet->set_first_packet_on_sequence(true);
    packet->mutable_trace_packet_defaults()->set_timestamp_clock_id(pb::BUILTIN_CLOCK_MONOTONIC);
    pb::ClockSnapshot* snapshot = packet->mutable_clock_snapshot();
    const int64_t realtime = int64_t(start) + realtime_offset_ns;
    // BOOTTIME is the clock older trace processors draw in without
    // primary_trace_clock: the same as MONOTONIC here (the time spent
    // suspended, which they differ by, is not in the events).
    for (auto [clock, value] :
         {std::pair{pb::BUILTIN_CLOCK_MONOTONIC, start}, std::pair{pb::BUILTIN_CLOCK_BOOTTIME, start},
          std::pair{pb::BUILTIN_CLOCK_REALTIME, uint64_t(std::max<int64_t>(realtime, 0))}}) {
        pb::ClockSnapshot::Clock* entry = snapshot->add_clocks();
        entry->set_clock_id(clock);
        entry->set_timestamp(value);
    }
    snapshot->set_primary_trace_clock(pb::BUILTIN_CLOCK_MONOTONIC);
}

}  // namespace

bool is_scheduler_frame(std::string_view symbol) {
    const size_t start = symbol.find_first_not_of('_');
    if (start == std::string_view::npos)
        return false;
    symbol.remove_prefix(start);
    for (std::string_view plumbing :
         {"schedule", "io_schedule", "preempt_schedule", "finish_task_switch", "context_switch", "switch_to"})
        if (symbol.substr(0, plumbing.size()) == plumbing)
            return true;
    return false;
}

std::string blocked_slice_name(const std::vector<Frame>& kernel, const std::vector<Frame>& user) {
    if (!user.empty() && user.front().resolved())
        return user.front().symbol;
    for (const Frame& frame : kernel)
        if (frame.resolved() && !is_scheduler_frame(frame.symbol))
            return frame.symbol;
    return "blocked";
}

std::string format_perfetto_trace(const EventTrace& trace) {
    std::vector<const OffCpuEvent*> events;
    events.reserve(trace.events.size());
    for (const OffCpuEvent& event : trace.events)
        events.push_back(&event);
    // By thread, then switch-out: each thread's periods in a row.
    std::stable_sort(events.begin(), events.end(), [](const OffCpuEvent* a, const OffCpuEvent* b) {
        return std::tie(a->target.tid, a->switch_out_ns) < std::tie(b->target.tid, b->switch_out_ns);
    });
    std::vector<const OffCpuEvent*> in_time_order = events;
    std::stable_sort(
        in_time_order.begin(), in_time_order.end(),
        [](const OffCpuEvent* a, const OffCpuEvent* b) { return a->switch_out_ns < b->switch_out_ns; });

    pb::Trace out;
    const uint64_t start = in_time_order.empty() ? 0 : in_time_order.front()->switch_out_ns;
    write_clocks(out, start, trace.realtime_offset_ns);

    pb::InternedData interned_data;
    Interned interned(interned_data);
    StackFrames stacks(trace);
    const Tracks tracks(in_time_order);
    Timeline timeline(tracks, interned, stacks);
    for (auto first = events.begin(); first != events.end();) {
        auto last = std::find_if(first, events.end(), [&](const OffCpuEvent* event) {
            return event->target.tid != (*first)->target.tid;
        });
        timeline.add_thread(std::vector<const OffCpuEvent*>(first, last));
        first = last;
    }
    std::vector<Mark> marks = timeline.take();
    sort_marks(marks);

    // The tracks, the first of them with every interned entry.
    bool first_descriptor = true;
    tracks.describe([&](pb::TrackDescriptor descriptor) {
        pb::TracePacket* packet = add_packet(out);
        packet->set_timestamp(start);
        *packet->mutable_track_descriptor() = std::move(descriptor);
        if (first_descriptor) {
            packet->set_sequence_flags(pb::TracePacket::SEQ_NEEDS_INCREMENTAL_STATE);
            *packet->mutable_interned_data() = std::move(interned_data);
            first_descriptor = false;
        }
    });
    for (const Mark& mark : marks)
        write_mark(mark, *add_packet(out));

    std::string encoded;
    if (!out.SerializeToString(&encoded))
        throw std::bad_alloc();  // only a message above 2 GiB fails to encode
    return encoded;
}

}  // namespace waketrace::detail
