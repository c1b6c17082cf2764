// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The rules both layouts share: which stacks show, in which order, what a
// lost stack prints, when the "-" delimiter appears. Keeping them here means
// the text and folded outputs cannot drift apart.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "format/format.hpp"
#include "waketrace/profile.hpp"

namespace waketrace::format_internal {

enum class FrameOrder : uint8_t { leaf_first, root_first };
enum class PartOrder : uint8_t { user_then_kernel, kernel_then_user };

inline constexpr std::string_view missed_user_stack = "[Missed User Stack]";
inline constexpr std::string_view missed_kernel_stack = "[Missed Kernel Stack]";
inline constexpr std::string_view part_delimiter = "-";
inline constexpr std::string_view chain_separator = "--";

using EmitFn = std::function<void(std::string_view item)>;

// Calls emit() once per entry of one thread's stacks, in display order:
// frame names, a missed-stack marker, and "-" between the parts when asked.
void walk_stacks(const FormatOptions& options, const Stack& user, const Stack& kernel, PartOrder parts,
                 FrameOrder frames, const EmitFn& emit);

// The same walk for layouts that keep frames as frames (pprof): each entry
// is a frame, or (frame null) one of the markers above.
using EntryFn = std::function<void(const Frame* frame, std::string_view marker)>;
void walk_stack_entries(const FormatOptions& options, const Stack& user, const Stack& kernel, PartOrder parts,
                        FrameOrder frames, const EntryFn& visit);

// The waker a layout shows: wakers[0], or an "unseen" waker when the chain
// carries none, so a malformed chain still prints.
const Waker& first_waker(const WakeChain& chain);

// A task's comm as thread_name() shows it, or "[unknown]" when the kernel gave none.
std::string task_name(const Task& task);

// A task as FormatOptions::task_names names it: task_name(), or with
// "-pid" or "-pid/tid" after it.
std::string task_label(const Task& task, const FormatOptions& options);

// waker_name(), a task waker named by task_label().
std::string waker_label(const Waker& waker, const FormatOptions& options);

// Off-CPU time as offwaketime prints it: whole microseconds, rounded down.
uint64_t total_us(const WakeChain& chain);

// The name with newlines turned into spaces: each entry stays one line.
std::string one_line(std::string_view name);

// Appends `name` to a folded line as one more ';'-separated field. ';'
// splits frames and a newline splits lines: neither survives inside a name
// (';' becomes ':'), or the line would read back as different frames.
void append_folded_field(std::string& line, std::string_view name);

}  // namespace waketrace::format_internal
