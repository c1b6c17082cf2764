// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Python spelling of the library's enums: option strings in
// (Profiler(threads="user")), status and level strings out.
#pragma once

#include <string_view>

#include <waketrace/config.hpp>
#include <waketrace/profile.hpp>

#include "format/format.hpp"

namespace waketrace::python {

// Each throws pybind11::value_error naming the accepted values.
ThreadKind parse_thread_kind(std::string_view name);  // "all", "user", "kernel"
StackKinds parse_stack_kinds(std::string_view name);  // "both", "kernel", "user"
AttachMode parse_attach_mode(std::string_view name);  // "auto", "tp_btf", "raw_tp"

// The per_process= / per_thread= keywords of the layouts (not both).
TaskNames task_names_of(bool per_process, bool per_thread);

// The C++ enumerator's name ("ok", "not_captured", "collision", ...), so
// Python code can compare against a fixed word rather than prose.
std::string_view stack_status_name(StackStatus status);
// "complete", "depth_reached", "waker_untraced", "waker_lost".
std::string_view chain_end_name(ChainEnd end);
std::string_view log_level_name(LogLevel level);  // "debug", "info", "warning"

}  // namespace waketrace::python
