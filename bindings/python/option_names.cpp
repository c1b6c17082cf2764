// SPDX-License-Identifier: LGPL-2.1-or-later
#include "option_names.hpp"

#include <pybind11/pybind11.h>

#include <fmt/format.h>

#include <string>

namespace waketrace::python {
namespace {

[[noreturn]] void reject(const char* option, std::string_view name, const char* accepted) {
    throw pybind11::value_error(fmt::format("{}='{}' is not one of {}", option, name, accepted));
}

}  // namespace

ThreadKind parse_thread_kind(std::string_view name) {
    if (name == "all")
        return ThreadKind::all;
    if (name == "user")
        return ThreadKind::user_only;
    if (name == "kernel")
        return ThreadKind::kernel_only;
    reject("threads", name, "'all', 'user', 'kernel'");
}

StackKinds parse_stack_kinds(std::string_view name) {
    if (name == "both")
        return StackKinds::both;
    if (name == "kernel")
        return StackKinds::kernel_only;
    if (name == "user")
        return StackKinds::user_only;
    reject("stacks", name, "'both', 'kernel', 'user'");
}

TaskNames task_names_of(bool per_process, bool per_thread) {
    if (per_process && per_thread)
        throw pybind11::value_error("per_process=True and per_thread=True cannot be combined");
    return per_process ? TaskNames::per_process : per_thread ? TaskNames::per_thread : TaskNames::comm;
}

AttachMode parse_attach_mode(std::string_view name) {
    if (name == "auto")
        return AttachMode::automatic;
    if (name == "tp_btf")
        return AttachMode::tp_btf;
    if (name == "raw_tp")
        return AttachMode::raw_tp;
    reject("attach", name, "'auto', 'tp_btf', 'raw_tp'");
}

std::string_view stack_status_name(StackStatus status) {
    switch (status) {
    case StackStatus::ok: return "ok";
    case StackStatus::not_captured: return "not_captured";
    case StackStatus::irq_dropped: return "irq_dropped";
    case StackStatus::collision: return "collision";
    case StackStatus::map_full: return "map_full";
    case StackStatus::error: return "error";
    }
    return "unknown";
}

std::string_view chain_end_name(ChainEnd end) {
    switch (end) {
    case ChainEnd::complete: return "complete";
    case ChainEnd::depth_reached: return "depth_reached";
    case ChainEnd::waker_untraced: return "waker_untraced";
    case ChainEnd::waker_lost: return "waker_lost";
    }
    return "unknown";
}

std::string_view log_level_name(LogLevel level) {
    switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    }
    return "unknown";
}

}  // namespace waketrace::python
