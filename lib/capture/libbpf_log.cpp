// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/libbpf_log.hpp"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

namespace waketrace::detail {
namespace {

// Where this thread's libbpf messages go while it runs a start().
thread_local const LibbpfLogRoute::LogFunction* t_route = nullptr;

// The hook that was set before the first route, and how many routes are open.
std::mutex g_hook_mutex;
libbpf_print_fn_t g_previous_hook = nullptr;
size_t g_open_routes = 0;

int routed_print(enum libbpf_print_level level, const char* format, va_list args) {
    if (t_route == nullptr) {
        libbpf_print_fn_t previous;
        {
            std::lock_guard<std::mutex> lock(g_hook_mutex);
            previous = g_previous_hook;
        }
        return previous ? previous(level, format, args) : 0;
    }
    // libbpf's debug level narrates every relocation: not worth a caller's log.
    if (level == LIBBPF_DEBUG || !*t_route)
        return 0;
    va_list copy;
    va_copy(copy, args);
    const int length = std::vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    if (length <= 0)
        return 0;
    try {
        std::string text(size_t(length) + 1, '\0');
        std::vsnprintf(text.data(), text.size(), format, args);
        text.resize(size_t(length));
        while (!text.empty() && text.back() == '\n')
            text.pop_back();  // libbpf ends each message with one; log lines carry none
        // libbpf's messages already start "libbpf: ".
        (*t_route)(level == LIBBPF_WARN ? LogLevel::warning : LogLevel::info, text);
    } catch (...) {
        // A C library is calling: nothing may be thrown through it.
    }
    return length;
}

}  // namespace

LibbpfLogRoute::LibbpfLogRoute(const LogFunction& log) : outer_(t_route) {
    {
        std::lock_guard<std::mutex> lock(g_hook_mutex);
        if (g_open_routes++ == 0)
            g_previous_hook = libbpf_set_print(routed_print);
    }
    t_route = &log;
}

LibbpfLogRoute::~LibbpfLogRoute() {
    t_route = outer_;
    std::lock_guard<std::mutex> lock(g_hook_mutex);
    if (--g_open_routes == 0) {
        // Put back what was there, unless someone set a hook of their own meanwhile.
        const libbpf_print_fn_t current = libbpf_set_print(g_previous_hook);
        if (current != routed_print)
            libbpf_set_print(current);
        g_previous_hook = nullptr;
    }
}

void route_libbpf_messages_until_thread_exit(const LibbpfLogRoute::LogFunction& log) {
    // Destroyed with the thread's other thread_local objects.
    thread_local std::optional<LibbpfLogRoute> route;
    route.emplace(log);
}

}  // namespace waketrace::detail
