// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libwaketrace output formats: a Profile rendered the way bcc's offwaketime
// prints it, so existing habits and tools (flamegraph.pl --color=chain) keep
// working. Internal to the library and its bindings (not installed): C++
// programs outside the tree format through the C ABI's wt_profile_format(),
// as waketrace::CapturedProfile::text() and folded() do.
//
//     waketrace::FormatOptions options;
//     options.stacks = config.stacks;
//     std::string text = waketrace::format_folded(profile, options);
//
// Every function here is pure: it reads its arguments, returns a new string,
// touches no global state and may be called from any thread at once.
// None of them throws except std::bad_alloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "waketrace/config.hpp"
#include "waketrace/events.hpp"
#include "waketrace/profile.hpp"

namespace waketrace {

// How a task (a target, or a waker that is a thread) is named: by its comm
// alone, as offwaketime does, so that all threads and processes of one
// name merge; or as "comm-pid" (one root per process) or "comm-pid/tid"
// (one per thread), kept apart.
enum class TaskNames : uint8_t {
    comm,
    per_process,
    per_thread,
};

struct FormatOptions {
    // Which stacks to print; pass the Config::stacks the profile was taken
    // with, so stacks that were never captured are not shown as missing.
    StackKinds stacks = StackKinds::both;
    // offwaketime -d: a "-" between the user and the kernel part of a stack
    // (only when both parts have frames).
    bool delimiter = false;
    // The name every layout gives a task (targets and task wakers; the
    // text layout still prints each one's tid after it).
    TaskNames task_names = TaskNames::comm;
    // Text layout: each chain's histograms (format_chain_histograms()) under
    // its total, when it has any (Config::histograms).
    bool histograms = false;
};

// offwaketime's default layout: one block per chain, in Profile::chains order
// (ascending total), every line indented four spaces:
//
//     waker:           <waker> [<tid>]
//     <waker user frames, root first>
//     <waker kernel frames, root first; the last is nearest the wake-up>
//     --               --
//     <target kernel frames, leaf first>
//     <target user frames, leaf first>
//     target:          <comm> <tid>
//         <total microseconds>
//     (empty line)
//
// Wakers that are not tasks (interrupts, preemption) print their
// waker_name() without a tid. Stacks lost to a capture error print
// "[Missed User Stack]" / "[Missed Kernel Stack]"; stacks never captured
// print nothing. Newlines inside names become spaces.
//
// A chain of several waker levels (Config::chain_depth > 1; wakers[i + 1]
// woke wakers[i]) stacks its hops above that block, the deepest on top, so
// the whole reads down from the first cause to the target. For T <- W1 <- W2:
//
//     [<chain_end_marker()>]             unless the chain is complete
//     waker:           W2 <tid> (overlap <us> us)
//     <W2's waking stacks, root first, as for wakers[0]>
//     --               --
//     <W1's blocked kernel frames, leaf first>
//     <W1's blocked user frames, leaf first>
//     blocked:         W1 <tid>
//     waker:           W1 <tid>
//     ... the block above, unchanged ...
//
// The overlap is Waker::overlap_ns in whole microseconds: how much of the
// target's blocked time the wait that level ended overlapped. A chain with
// one waker that is complete prints exactly as offwaketime's layout.
std::string format_text(const Profile& profile, const FormatOptions& options);

// offwaketime -f: one line per chain, for flamegraph.pl:
//
//     target comm;target user (root first);target kernel (root first);--;
//     waker kernel (leaf first);waker user (leaf first);waker name <total us>
//
// (one line, no spaces around ';'). ';' inside names becomes ':' and newlines
// become spaces, so every line splits back into the same frames. With
// task_names per_process or per_thread, the target comm and each task
// waker's name read "comm-pid" or "comm-pid/tid" instead.
//
// Each deeper waker level i (wakers[i] woke wakers[i - 1]) adds, before the
// total, ";--;" wakers[i - 1]'s blocked stacks (kernel then user, leaf first)
// and ";--;" wakers[i]'s waking stacks (kernel then user, leaf first) and
// name; a chain that is not complete ends in ";--;" chain_end_marker(). So
// flamegraph.pl --color=chain draws the target at the bottom, then each hop
// above the one it caused, every frame after the first "--" as a waker's.
std::string format_folded(const Profile& profile, const FormatOptions& options);

// A profile of the offcpu or wakeup mode (Profile::mode) has half a chain,
// and format_text() and format_folded() print it as the tool of that job
// does. offcpu, offcputime's layouts (no waker; the time off CPU):
//
//     <target kernel frames, leaf first>
//     <target user frames, leaf first>      ("--" before them with delimiter)
//     -                <target> (<tid>)
//         <total us>
//
//     target comm;target user (root first);target kernel (root first) <total us>
//
// wakeup, wakeuptime's layouts (no target stacks; the blocked time, and the
// chains in ascending order of it):
//
//     target:          <target> <tid>
//     <waker kernel frames, leaf first>
//     <waker user frames, leaf first>
//     waker:           <waker> [<tid>]
//         <blocked us>
//
//     waker name;waker user (root first);waker kernel (root first);target <blocked us>

// Profile::threads as a table, largest total first (ties by tid), after a
// heading line: one row per thread with its tid, pid, off-CPU, blocked and
// runqueue microseconds (rounded down), its count of periods, and last its
// comm (task_name(), newlines as spaces):
//
//     Off-CPU time by thread (us), largest first:
//              TID      PID        TOTAL      BLOCKED     RUNQUEUE    COUNT  COMM
//             4242     4240       120034       119800          234       12  worker
//
// Exact even when stacks were sampled, as Profile::threads is.
std::string format_thread_totals(const Profile& profile);

// The line text output starts with, in offwaketime's words: what is traced
// and until when. duration_s: the tracing time, or nullopt for "until
// Ctrl-C"; command: the command being run, if any (without a duration,
// tracing stops when it exits). Ends in '\n'.
std::string format_text_header(StackKinds stacks, CaptureMode mode, std::optional<double> duration_s,
                               std::string_view command = {});

// A thread name (comm) as text. The kernel keeps whatever 15 bytes a thread
// named itself, UTF-8 or not; every output (text, folded, and the bindings'
// strings and tables) shows them this one way: valid UTF-8 as it is, each
// ill-formed sequence as one U+FFFD, following Unicode's "maximal subpart"
// practice (as Python's bytes.decode("utf-8", "replace") does).
std::string thread_name(std::string_view comm);

// One off-CPU event (waketrace --events) as a line: its switch-out time in
// seconds of CLOCK_MONOTONIC, the thread (comm-tid) and its pid, its state
// at switch-out (R preempted, S, D, else the number), its off-CPU, blocked
// and runqueue time in microseconds, `blocked_in` (the function it blocked
// in; "-" when empty) and its waker (comm-tid, "[hardirq]", "[softirq]",
// "[nmi]", "[preempted]" or "[unseen]"), as key=value fields.
std::string format_event_line(const OffCpuEvent& event, std::string_view blocked_in);

// The symbol, or "[unknown]" when the frame could not be resolved. An
// inlined frame ends in "_[i]", the mark flamegraph.pl colours as inlined.
std::string frame_name(const Frame& frame);

// Why a chain stops where it does, bracketed like the other marks that are
// not frames: "[deeper wakers not traced]", "[waker's wait not traced]",
// "[waker's wait lost]" (to_string(ChainEnd)); "[complete]" for a complete
// chain, which the layouts do not print.
std::string chain_end_marker(ChainEnd end);

// The waker levels of a chain on one line, nearest first:
// "relay-2-41 <- relay-1-40 <- [hardirq]" (a task as comm-tid, other
// wakers by waker_name()); "" for a chain without wakers.
std::string waker_path(const WakeChain& chain);

// The waker's comm for task wakers ("[unknown]" if empty); otherwise
// "[hardirq]", "[softirq]", "[nmi]", "[preempted]" or "[unseen waker]".
std::string waker_name(const Waker& waker);

// Which time a flame graph's frame widths show.
enum class FlameMetric : uint8_t {
    total,     // WakeChain::total_ns: off CPU, switch-out to switch-in
    blocked,   // WakeChain::blocked_ns: switch-out to waking
    runqueue,  // WakeChain::runqueue_ns: waking to switch-in
};

struct FlameGraphOptions {
    // Stacks shown and the "-" delimiter, as for the folded layout.
    FormatOptions format;
    // The widths shown when the graph opens; its switch shows the other two.
    FlameMetric metric = FlameMetric::total;
    std::string title;    // empty: "Off-CPU time by wake chain"
    double width = 1200;  // pixels
};

// An interactive flame graph in flamegraph.pl's tradition, as one
// self-contained SVG document (no files, fonts or scripts from elsewhere):
// every chain is the path of its folded line (format_folded(): target comm,
// target frames root first, "--", the waker's, and each deeper waker level),
// merged with every path sharing its prefix; a frame's width is its share of
// the chosen time. Target frames are drawn in blues, each waker level in a
// hue of its own (aqua, green, yellow, purple, then again darker), interrupt
// wakers in orange, "--", "-" and the chain's end in greys. Tooltips give
// each frame's off-CPU, blocked and runqueue microseconds, shares and count.
// In a browser: click a frame to zoom to it, Search (a regular expression)
// highlights matching frames and prints their share of the view, Reset Zoom,
// and a switch between total, blocked and runqueue widths; opened without
// scripts it is a plain picture of `options.metric`. Every name is escaped
// (and ill-formed UTF-8 replaced), so any profile gives well-formed XML.
std::string format_flamegraph_svg(const Profile& profile, const FlameGraphOptions& options);

// One line of a folded file (offwaketime -f, waketrace -f, or any tool
// written for flamegraph.pl): its ';'-separated frames, root first, and its
// value (microseconds, for offwaketime's and ours).
struct FoldedStack {
    std::string frames;
    uint64_t value = 0;
};

// A line of input that is not "FRAMES VALUE". line is 1-based; what() says
// "line N: ..." with the start of the line.
struct FoldedSyntaxError : std::runtime_error {
    FoldedSyntaxError(size_t line_number, const std::string& message)
        : std::runtime_error(message), line(line_number) {}
    size_t line;
};

// Reads a folded file: one stack per line, its frames, one space, and a
// whole number (digits only, at most 2^64 - 1), as flamegraph.pl reads it.
// Empty lines (and a "\r" before a newline) are allowed; anything else
// throws FoldedSyntaxError. Lines with the same frames stay separate (the
// graph sums them).
std::vector<FoldedStack> parse_folded(std::string_view text);

struct DiffGraphOptions {
    // What the two profiles are called in the title, tooltips and switch
    // (file names, say).
    std::string before_name = "before";
    std::string after_name = "after";
    std::string title;  // empty: "Off-CPU time, differential: <before> -> <after>"
    // Frame widths by BEFORE's values when the graph opens (the switch in
    // the graph shows the other); by default AFTER's, as flamegraph.pl's
    // difffolded.pl draws it.
    bool widths_by_before = false;
    double width = 1200;  // pixels
};

// A differential flame graph of two folded profiles, in the same
// interactive SVG as format_flamegraph_svg() (zoom, search, a switch of
// widths): every stack of either merged by common prefix, each frame as
// wide as its AFTER value, coloured by AFTER - BEFORE: red where it grew,
// blue where it shrank, the deeper the larger the change against the
// largest of any frame; grey when unchanged. Tooltips give BEFORE, AFTER
// and the change in microseconds and percent. Frames only in BEFORE have
// no width in AFTER: the subtitle counts those stacks and their time, and
// the switch's "before" widths draw them (in blue). Values are read as
// microseconds, as offwaketime's folded output holds.
std::string format_diff_flamegraph_svg(const std::vector<FoldedStack>& before,
                                       const std::vector<FoldedStack>& after,
                                       const DiffGraphOptions& options);

struct PprofOptions {
    // Which stacks to include, as for the other layouts (no "-" delimiter:
    // pprof's frames say which part they are from by their mapping).
    StackKinds stacks = StackKinds::both;
    // When tracing began, in nanoseconds since the Unix epoch; 0: not said.
    int64_t time_nanos = 0;
};

// The chains as a pprof profile (github.com/google/pprof's profile.proto,
// gzipped, as `go tool pprof`, Pyroscope and Parca read it): bytes, not
// text. Sample types "periods" (count), "offcpu", "blocked" and "runqueue"
// (nanoseconds: WakeChain::count, total_ns, blocked_ns, runqueue_ns);
// "offcpu" is the default. One sample per chain; its locations, innermost
// first: the target's frames (kernel, then user), a location whose
// function is "--", the first waker's frames from the wake-up outward and
// a location named by waker_name(); each deeper level adds "--", the
// blocked frames of the level below, "--", its own waking frames and name;
// an incomplete chain ends in "--" and chain_end_marker(). So the target
// is where the time is flat, and the wakers read as its callers, the first
// cause at the root. Functions inlined at an address are Lines of one
// Location; frames of a mapped file carry a Mapping with the file's path,
// build-id and offsets, so a backend can name them again. Labels:
// target_comm, target_tid, pid, and per waker level (waker, waker2, ...)
// <level>_context, and for tasks <level>_comm, <level>_tid, <level>_pid;
// chain_end when the chain is incomplete.
std::string format_pprof(const Profile& profile, const PprofOptions& options);

// An estimate of a quantile of the periods a histogram counts (`fraction`,
// 0 to 1: 0.5 the median, 1 the longest), in microseconds: the bucket that
// holds it is known exactly, and within it the periods are taken as spread
// evenly, so the error is at most that bucket's width (a factor of 2).
// `max_us`, the longest period when known (WakeChain::max_ns), bounds the
// estimate and closes the last, open-ended bucket. nullopt when empty.
std::optional<double> histogram_quantile_us(const LatencyHistogram::Buckets& buckets, double fraction,
                                            std::optional<double> max_us = std::nullopt);

// A histogram as bcc's runqlat prints one, each line after `indent`, from
// the first bucket with a count to the last:
//
//                off-CPU usecs : count    distribution
//           1024 -> 2047       : 20       |****************************************|
//           2048 -> 4095       : 1        |**                                      |
//
// (ranges in whole microseconds, both ends included; the last bucket's
// upper end is "..."; the bars are scaled to the largest count, 40 stars).
// `unit_label` names what is counted; "" for an empty histogram.
std::string format_histogram(const LatencyHistogram::Buckets& buckets, std::string_view unit_label,
                             std::string_view indent);

// histogram_quantile_us() of a chain's off-CPU periods, or with `runqueue`
// of its runqueue waits; both bounded by the chain's longest period
// (WakeChain::max_ns). nullopt without histograms.
std::optional<double> chain_quantile_us(const WakeChain& chain, double fraction, bool runqueue = false);

// A chain's two histograms, "off-CPU usecs" then "runqueue usecs"; "" when
// it has none.
std::string format_chain_histograms(const WakeChain& chain, std::string_view indent);

// The chains with the most off-CPU time, at most `max_rows`, as one HTML
// <table> (class "waketrace-chains"), largest first: target, waker levels,
// total / blocked / runqueue / max microseconds, count and share of all
// off-CPU time. Clicking a column heading sorts by it (a small inline
// script; without scripts the table stays sorted by total). For notebooks.
std::string format_chain_table_html(const Profile& profile, size_t max_rows);

}  // namespace waketrace
