// SPDX-License-Identifier: LGPL-2.1-or-later
//
// format_perfetto_trace() on hand-made events (event_builders.hpp), read
// back with protobuf's own parser and replayed as trace processor would:
// tracks and their names, slices rebuilt from begin/end pairs (nesting,
// names, durations), flows from waker to wakee, interrupt wakings on their
// own track, interned stacks resolved to function names, timestamps in
// order. test_perfetto_trace.py has Perfetto's own schema decode a trace.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "event_builders.hpp"
#include "format/perfetto_trace.hpp"
#include "perfetto_trace.pb.h"

namespace wt = waketrace;
namespace pb = perfetto::protos;
using namespace waketrace::test;
using wt::detail::EventTrace;

namespace {

// A slice or an instant (end == begin) as trace processor would hold it.
struct Slice {
    std::string name;
    uint64_t begin = 0;
    uint64_t end = 0;
    bool instant = false;
    uint64_t callstack = 0;
    std::vector<uint64_t> flows;
    std::vector<uint64_t> terminating_flows;
    std::map<std::string, std::string> args;  // debug annotations, values as text
    uint64_t duration() const { return end - begin; }
};

// A decoded trace: its tracks, interning tables and slices per track.
struct Replay {
    pb::Trace trace;
    std::map<uint64_t, pb::TrackDescriptor> tracks;
    std::map<uint64_t, std::string> names, annotation_names, annotation_strings, functions;
    std::map<uint64_t, pb::Frame> frames;
    std::map<uint64_t, std::vector<uint64_t>> callstacks;
    std::map<uint64_t, std::vector<Slice>> slices;  // by track uuid, in begin order

    explicit Replay(const std::string& bytes) {
        REQUIRE(trace.ParseFromString(bytes));
        REQUIRE(trace.packet_size() > 0);
        const pb::TracePacket& first = trace.packet(0);
        CHECK(first.sequence_flags() == pb::TracePacket::SEQ_INCREMENTAL_STATE_CLEARED);
        CHECK(first.trace_packet_defaults().timestamp_clock_id() == pb::BUILTIN_CLOCK_MONOTONIC);
        std::map<uint64_t, std::vector<Slice>> open;
        uint64_t last_timestamp = 0;
        for (const pb::TracePacket& packet : trace.packet()) {
            CHECK(packet.trusted_packet_sequence_id() == 1);
            if (packet.has_timestamp()) {
                CHECK(packet.timestamp() >= last_timestamp);  // one sequence, in order
                last_timestamp = packet.timestamp();
            }
            if (packet.has_interned_data())
                intern(packet.interned_data());
            if (packet.has_track_descriptor()) {
                const uint64_t uuid = packet.track_descriptor().uuid();
                CHECK(tracks.count(uuid) == 0);
                tracks[uuid] = packet.track_descriptor();
            }
            if (packet.has_track_event())
                replay(packet, open);
        }
        for (const auto& [track, stack] : open)
            CHECK(stack.empty());  // every slice ended
    }

    void intern(const pb::InternedData& data) {
        // Each entry is written once: a second one with an iid is a fault.
        for (const auto& entry : data.event_names())
            CHECK(names.emplace(entry.iid(), entry.name()).second);
        for (const auto& entry : data.debug_annotation_names())
            CHECK(annotation_names.emplace(entry.iid(), entry.name()).second);
        for (const auto& entry : data.debug_annotation_string_values())
            CHECK(annotation_strings.emplace(entry.iid(), entry.str()).second);
        for (const auto& entry : data.function_names())
            CHECK(functions.emplace(entry.iid(), entry.str()).second);
        for (const auto& entry : data.frames())
            CHECK(frames.emplace(entry.iid(), entry).second);
        for (const auto& entry : data.callstacks())
            CHECK(callstacks
                      .emplace(entry.iid(),
                               std::vector<uint64_t>(entry.frame_ids().begin(), entry.frame_ids().end()))
                      .second);
    }

    void replay(const pb::TracePacket& packet, std::map<uint64_t, std::vector<Slice>>& open) {
        const pb::TrackEvent& event = packet.track_event();
        REQUIRE(tracks.count(event.track_uuid()) == 1);  // described before use
        std::vector<Slice>& stack = open[event.track_uuid()];
        if (event.type() == pb::TrackEvent::TYPE_SLICE_END) {
            REQUIRE(!stack.empty());
            Slice slice = stack.back();
            stack.pop_back();
            slice.end = packet.timestamp();
            insert(event.track_uuid(), slice);
            return;
        }
        CHECK(packet.sequence_flags() == pb::TracePacket::SEQ_NEEDS_INCREMENTAL_STATE);
        Slice slice;
        REQUIRE(names.count(event.name_iid()) == 1);
        slice.name = names.at(event.name_iid());
        slice.begin = slice.end = packet.timestamp();
        slice.callstack = event.callstack_iid();
        if (slice.callstack)
            CHECK(callstacks.count(slice.callstack) == 1);
        slice.flows.assign(event.flow_ids().begin(), event.flow_ids().end());
        slice.terminating_flows.assign(event.terminating_flow_ids().begin(),
                                       event.terminating_flow_ids().end());
        for (const pb::DebugAnnotation& annotation : event.debug_annotations()) {
            std::string value = annotation.has_string_value_iid()
                                    ? annotation_strings.at(annotation.string_value_iid())
                                : annotation.has_uint_value() ? std::to_string(annotation.uint_value())
                                                              : (annotation.bool_value() ? "true" : "false");
            slice.args[annotation_names.at(annotation.name_iid())] = value;
        }
        if (event.type() == pb::TrackEvent::TYPE_INSTANT) {
            slice.instant = true;
            insert(event.track_uuid(), slice);
        } else {
            REQUIRE(event.type() == pb::TrackEvent::TYPE_SLICE_BEGIN);
            // Slices on one track follow one another: this writer never nests them.
            CHECK(stack.empty());
            stack.push_back(slice);
        }
    }

    void insert(uint64_t track, const Slice& slice) {
        std::vector<Slice>& list = slices[track];
        auto at = std::upper_bound(list.begin(), list.end(), slice,
                                   [](const Slice& a, const Slice& b) { return a.begin < b.begin; });
        list.insert(at, slice);
    }

    uint64_t thread_track(uint32_t tid) const {
        for (const auto& [uuid, track] : tracks)
            if (track.has_thread() && track.thread().tid() == tid)
                return uuid;
        FAIL("no track for thread " << tid);
        return 0;
    }
    uint64_t named_track(const std::string& name) const {
        for (const auto& [uuid, track] : tracks)
            if (track.name() == name)
                return uuid;
        FAIL("no track " << name);
        return 0;
    }
    const std::vector<Slice>& on(uint64_t track) const {
        static const std::vector<Slice> none;
        auto found = slices.find(track);
        return found == slices.end() ? none : found->second;
    }
    std::vector<Slice> named(uint64_t track, const std::string& name) const {
        std::vector<Slice> result;
        for (const Slice& slice : on(track))
            if (slice.name == name)
                result.push_back(slice);
        return result;
    }

    // A callstack's function names, root first ("?" for a frame without one).
    std::vector<std::string> stack_names(uint64_t callstack) const {
        std::vector<std::string> result;
        for (uint64_t frame : callstacks.at(callstack)) {
            const uint64_t name = frames.at(frame).function_name_id();
            result.push_back(name ? functions.at(name) : "?");
        }
        return result;
    }
};

std::vector<std::string> split(const std::string& root_first) {
    std::vector<std::string> result;
    size_t start = 0;
    while (start <= root_first.size()) {
        size_t end = root_first.find(';', start);
        if (end == std::string::npos)
            end = root_first.size();
        result.push_back(root_first.substr(start, end - start));
        start = end + 1;
    }
    return result;
}

EventTrace sample_trace(size_t rounds = 6) {
    EventTrace trace;
    trace.events = sample_events(rounds);
    trace.frames = event_stack_frames;
    trace.realtime_offset_ns = 1'700'000'000'000'000'000;
    return trace;
}

}  // namespace

TEST_CASE("perfetto: a track per thread, under its process, named by comm") {
    const Replay replay(wt::detail::format_perfetto_trace(sample_trace()));
    std::map<int64_t, std::string> threads;
    std::map<int32_t, std::string> processes;
    for (const auto& [uuid, track] : replay.tracks) {
        if (track.has_thread()) {
            threads[track.thread().tid()] = track.thread().thread_name();
            REQUIRE(replay.tracks.count(track.parent_uuid()) == 1);
            CHECK(replay.tracks.at(track.parent_uuid()).process().pid() == track.thread().pid());
        }
        if (track.has_process())
            processes[track.process().pid()] = track.process().process_name();
    }
    CHECK(threads ==
          std::map<int64_t, std::string>{{7, "kworker/0:1"}, {100, "ping"}, {101, "pong"}, {200, "worker"}});
    // A process is named by its main thread.
    CHECK(processes == std::map<int32_t, std::string>{{7, "kworker/0:1"}, {100, "ping"}, {200, "worker"}});
}

TEST_CASE("perfetto: blocked, runnable and running slices follow one another with the events' times") {
    const EventTrace trace = sample_trace();
    const Replay replay(wt::detail::format_perfetto_trace(trace));

    for (const wt::Task& task : {kPing, kPong}) {
        CAPTURE(task.comm);
        std::vector<wt::OffCpuEvent> periods;
        for (const wt::OffCpuEvent& event : trace.events)
            if (event.target.tid == task.tid)
                periods.push_back(event);
        std::sort(periods.begin(), periods.end(),
                  [](const auto& a, const auto& b) { return a.switch_out_ns < b.switch_out_ns; });
        const uint64_t track = replay.thread_track(task.tid);

        // Named by the innermost user frame: read().
        const std::vector<Slice> blocked = replay.named(track, "read");
        const std::vector<Slice> runnable = replay.named(track, "runnable");
        const std::vector<Slice> running = replay.named(track, "running");
        REQUIRE(blocked.size() == periods.size());
        REQUIRE(runnable.size() == periods.size());
        REQUIRE(running.size() == periods.size() - 1);
        for (size_t i = 0; i < periods.size(); ++i) {
            CHECK(blocked[i].begin == periods[i].switch_out_ns);
            CHECK(blocked[i].duration() == periods[i].blocked_ns());
            CHECK(blocked[i].args.at("state") == "S (sleeping)");
            CHECK(runnable[i].begin == periods[i].waking_ns);
            CHECK(runnable[i].duration() == periods[i].runqueue_ns());
            if (i > 0) {
                CHECK(running[i - 1].begin == periods[i - 1].switch_in_ns);
                CHECK(running[i - 1].end == periods[i].switch_out_ns);
            }
        }
        // Nothing else on a pipe thread's track but its wakings of the other.
        const std::vector<Slice> wakings =
            replay.named(track, task.tid == kPing.tid ? "wakes pong" : "wakes ping");
        CHECK(wakings.size() == periods.size());
        CHECK(replay.on(track).size() == blocked.size() + runnable.size() + running.size() + wakings.size());
    }

    const uint64_t worker = replay.thread_track(kWorker.tid);
    const std::vector<Slice>& slices = replay.on(worker);
    std::vector<std::tuple<std::string, uint64_t, uint64_t>> seen;
    for (const Slice& slice : slices)
        seen.emplace_back(slice.name, slice.begin - 1'000'000'000, slice.duration());
    // Preempted: one runnable slice. The timer's wait has no user stack:
    // named by the kernel's first frame past the scheduler. The page wait
    // likewise (its user stack a capture error), in D state.
    CHECK(seen == std::vector<std::tuple<std::string, uint64_t, uint64_t>>{
                      {"runnable (preempted)", 10'000, 50'000},
                      {"running", 60'000, 10'000},
                      {"do_nanosleep", 70'000, 100'000},
                      {"runnable", 170'000, 2'000},
                      {"running", 172'000, 8'000},
                      {"folio_wait_bit_common", 180'000, 200'000},
                      {"runnable", 380'000, 1'000},
                  });
    CHECK(slices[2].args.at("state") == "S (sleeping)");
    CHECK(slices[5].args.at("state") == "D (uninterruptible)");
}

TEST_CASE("perfetto: one flow per waking, from the waker's instant to the wakee's runnable slice") {
    const EventTrace trace = sample_trace();
    const Replay replay(wt::detail::format_perfetto_trace(trace));

    struct Ends {
        std::vector<std::pair<uint64_t, Slice>> starts, ends;  // (track, slice)
    };
    std::map<uint64_t, Ends> flows;
    for (const auto& [track, slices] : replay.slices)
        for (const Slice& slice : slices) {
            for (uint64_t flow : slice.flows)
                flows[flow].starts.emplace_back(track, slice);
            for (uint64_t flow : slice.terminating_flows)
                flows[flow].ends.emplace_back(track, slice);
        }
    // Every event but the preempted one was woken.
    CHECK(flows.size() == trace.events.size() - 1);
    size_t interrupt_wakings = 0;
    for (const auto& [flow, ends] : flows) {
        CAPTURE(flow);
        REQUIRE(ends.starts.size() == 1);
        REQUIRE(ends.ends.size() == 1);
        const auto& [waker_track, instant] = ends.starts[0];
        const auto& [wakee_track, runnable] = ends.ends[0];
        CHECK(instant.instant);
        CHECK(instant.begin == runnable.begin);  // the waking
        CHECK(runnable.name == "runnable");
        CHECK(!runnable.instant);
        CHECK(waker_track != wakee_track);
        const pb::TrackDescriptor& waker = replay.tracks.at(waker_track);
        const pb::TrackDescriptor& wakee = replay.tracks.at(wakee_track);
        CHECK(instant.name == "wakes " + wakee.thread().thread_name());
        if (!waker.has_thread()) {
            ++interrupt_wakings;
            // Interrupt wakings are on their own track, named by the kind.
            CHECK(waker.name() == "[hardirq]");
            CHECK(wakee.thread().tid() == kWorker.tid);
        }
    }
    CHECK(interrupt_wakings == 1);
    CHECK(replay.on(replay.named_track("[hardirq]")).size() == 1);

    // The waker outside the filters is still who woke the worker from its page wait.
    const std::vector<Slice>& kworker = replay.on(replay.thread_track(kKworker.tid));
    REQUIRE(kworker.size() == 1);
    CHECK(kworker[0].name == "wakes worker");
    CHECK(kworker[0].begin == 1'000'000'000 + 380'000);
    CHECK(kworker[0].args.at("outside_filters") == "true");
}

TEST_CASE("perfetto: stacks are interned once and attached to blocked slices and wakings") {
    const EventTrace trace = sample_trace();
    std::map<std::tuple<wt::StackId, uint32_t, bool>, int> asked;
    EventTrace counting = trace;
    counting.frames = [&](wt::StackId id, uint32_t tgid, bool kernel) {
        ++asked[{id, tgid, kernel}];
        return event_stack_frames(id, tgid, kernel);
    };
    const Replay replay(wt::detail::format_perfetto_trace(counting));
    for (const auto& [key, count] : asked) {
        CHECK(std::get<0>(key) >= 0);  // stack ids < 0 are not asked for
        CHECK(count == 1);
    }

    // Distinct stacks, distinct frames, distinct function names.
    std::set<std::vector<std::string>> stacks;
    for (const auto& [iid, frames] : replay.callstacks)
        CHECK(stacks.insert(replay.stack_names(iid)).second);
    std::set<std::string> functions;
    for (const auto& [iid, name] : replay.functions)
        CHECK(functions.insert(name).second);
    // ping's and pong's read and write stacks, the worker's two waits, and
    // the timer's and kworker's waking stacks.
    CHECK(stacks.size() == 8);

    const auto ping_read = split("main;ping_loop;read;ksys_read;vfs_read;pipe_read;schedule;__schedule");
    const auto pong_write =
        split("start_thread;pong_loop;write;vfs_write;pipe_write;__wake_up_common;try_to_wake_up");
    const uint64_t ping = replay.thread_track(kPing.tid), pong = replay.thread_track(kPong.tid);
    for (const Slice& slice : replay.named(ping, "read"))
        CHECK(replay.stack_names(slice.callstack) == ping_read);
    for (const Slice& slice : replay.named(pong, "wakes ping"))
        CHECK(replay.stack_names(slice.callstack) == pong_write);
    for (const Slice& slice : replay.on(ping))
        if (slice.name == "running" || slice.name == "runnable")
            CHECK(slice.callstack == 0);

    const Slice& timer = replay.on(replay.named_track("[hardirq]")).at(0);
    CHECK(replay.stack_names(timer.callstack) ==
          split("hrtimer_interrupt;__hrtimer_run_queues;hrtimer_wakeup;try_to_wake_up"));
    const std::vector<Slice> sleep = replay.named(replay.thread_track(kWorker.tid), "do_nanosleep");
    REQUIRE(sleep.size() == 1);
    CHECK(replay.stack_names(sleep[0].callstack) ==
          split("hrtimer_nanosleep;do_nanosleep;schedule;__schedule"));

    // User frames carry their file's mapping and build-id bytes, kernel frames "[kernel]".
    const pb::InternedData& interned = replay.trace.packet(1).interned_data();
    std::map<uint64_t, std::string> paths, build_ids;
    for (const auto& entry : interned.mapping_paths())
        paths[entry.iid()] = entry.str();
    for (const auto& entry : interned.build_ids())
        build_ids[entry.iid()] = entry.str();
    std::set<std::string> mappings;
    for (const auto& mapping : interned.mappings()) {
        std::string path;
        for (uint64_t part : mapping.path_string_ids())
            path += "/" + paths.at(part);
        if (mapping.build_id())
            CHECK(build_ids.at(mapping.build_id()) == std::string("\x01\x23\x45\x67\x89\xab\xcd\xef", 8));
        mappings.insert(path);
    }
    CHECK(mappings == std::set<std::string>{"/[kernel]", "/usr/bin/pingpong"});
    for (const auto& [iid, frame] : replay.frames)
        CHECK(frame.mapping_id() != 0);
}

TEST_CASE("perfetto: a clock snapshot ties CLOCK_MONOTONIC to the wall clock") {
    const EventTrace trace = sample_trace();
    const Replay replay(wt::detail::format_perfetto_trace(trace));
    const pb::ClockSnapshot& snapshot = replay.trace.packet(0).clock_snapshot();
    std::map<uint32_t, uint64_t> clocks;
    for (const auto& clock : snapshot.clocks())
        clocks[clock.clock_id()] = clock.timestamp();
    const uint64_t start = 1'000'000'000 + 10'000;  // the earliest switch-out
    CHECK(clocks ==
          std::map<uint32_t, uint64_t>{{pb::BUILTIN_CLOCK_REALTIME, start + trace.realtime_offset_ns},
                                       {pb::BUILTIN_CLOCK_MONOTONIC, start},
                                       {pb::BUILTIN_CLOCK_BOOTTIME, start}});
    CHECK(snapshot.primary_trace_clock() == pb::BUILTIN_CLOCK_MONOTONIC);
}

TEST_CASE("perfetto: input order does not matter, and one thread's overlapping periods are cut") {
    EventTrace trace = sample_trace();
    const std::string sorted = wt::detail::format_perfetto_trace(trace);
    std::reverse(trace.events.begin(), trace.events.end());
    CHECK(wt::detail::format_perfetto_trace(trace) == sorted);

    // The worker's timer wait said to start inside its preempted period.
    trace = sample_trace();
    trace.events[1].switch_out_ns = trace.events[0].switch_out_ns + 20'000;
    const Replay replay(wt::detail::format_perfetto_trace(trace));
    const std::vector<Slice>& slices = replay.on(replay.thread_track(kWorker.tid));
    REQUIRE(slices.size() >= 2);
    CHECK(slices[0].name == "runnable (preempted)");
    CHECK(slices[1].name == "do_nanosleep");
    CHECK(slices[1].begin == slices[0].end);
}

TEST_CASE("perfetto: no events, no frames") {
    const Replay empty(wt::detail::format_perfetto_trace(EventTrace{}));
    CHECK(empty.trace.packet_size() == 1);  // the clock snapshot
    CHECK(empty.tracks.empty());

    EventTrace trace = sample_trace();
    trace.frames = nullptr;
    const Replay unnamed(wt::detail::format_perfetto_trace(trace));
    CHECK(unnamed.callstacks.empty());
    CHECK(unnamed.named(unnamed.thread_track(kPing.tid), "blocked").size() == 3);
}

TEST_CASE("perfetto: a blocked slice is named by the user frame, else the kernel's past the scheduler") {
    auto frames = [](std::initializer_list<const char*> symbols) {
        std::vector<wt::Frame> result;
        for (const char* symbol : symbols) {
            wt::Frame frame;
            frame.symbol = symbol;
            result.push_back(frame);
        }
        return result;
    };
    using wt::detail::blocked_slice_name;
    CHECK(blocked_slice_name(frames({"__schedule", "schedule", "pipe_read"}), frames({"read", "main"})) ==
          "read");
    CHECK(blocked_slice_name(frames({"__schedule", "schedule", "pipe_read"}), {}) == "pipe_read");
    // An unresolved innermost user frame gives way to the kernel's.
    CHECK(blocked_slice_name(frames({"schedule", "futex_wait"}), frames({"", "main"})) == "futex_wait");
    CHECK(blocked_slice_name(frames({"finish_task_switch.isra.0", "__schedule", "schedule",
                                     "schedule_hrtimeout_range_clock", "", "do_poll.constprop.0"}),
                             {}) == "do_poll.constprop.0");
    CHECK(blocked_slice_name(frames({"__schedule", "schedule", "io_schedule", "folio_wait_bit_common"}),
                             {}) == "folio_wait_bit_common");
    CHECK(blocked_slice_name(frames({"__schedule", "preempt_schedule_common"}), {}) == "blocked");
    CHECK(blocked_slice_name({}, {}) == "blocked");
    CHECK(!wt::detail::is_scheduler_frame("do_nanosleep"));
    CHECK(wt::detail::is_scheduler_frame("schedule_timeout"));
    CHECK(wt::detail::is_scheduler_frame("__switch_to_asm"));
}

TEST_CASE("perfetto: bytes per event of a long ping-pong") {
    EventTrace trace;
    // CLOCK_MONOTONIC three days after boot, as on a server: 8-byte varints.
    trace.events = ping_pong_events(10'000, 3 * 86'400'000'000'000);
    trace.frames = event_stack_frames;
    const std::string bytes = wt::detail::format_perfetto_trace(trace);
    const double per_event = double(bytes.size()) / double(trace.events.size());
    std::printf("perfetto trace: %zu events, %zu bytes, %.1f bytes per event\n", trace.events.size(),
                bytes.size(), per_event);
    const Replay replay(bytes);
    CHECK(replay.named(replay.thread_track(kPing.tid), "read").size() == 5'000);
    // 3 slices (2 packets each) and 1 instant per period, about 20-30 bytes a packet.
    CHECK(per_event < 250);
}
