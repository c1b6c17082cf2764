// SPDX-License-Identifier: LGPL-2.1-or-later
// Where libbpf's messages go: a library thread's to its profiler's log, any
// other thread's to the hook the program set, which is put back afterwards.
#include <catch2/catch.hpp>

#include <bpf/libbpf.h>

#include <atomic>
#include <cstdarg>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture/libbpf_log.hpp"

namespace wt = waketrace;

namespace {

std::atomic<int> g_program_hook_messages{0};

int program_hook(enum libbpf_print_level, const char*, va_list) {
    ++g_program_hook_messages;
    return 0;
}

// Bytes that are no ELF file: libbpf warns as it refuses them.
void make_libbpf_warn() {
    static const char junk[64] = "not an ELF object";
    bpf_object* object = bpf_object__open_mem(junk, sizeof(junk), nullptr);
    REQUIRE(libbpf_get_error(object) != 0);
}

}  // namespace

TEST_CASE("libbpf's messages on a library thread go to its log, others' to the program's hook") {
    const libbpf_print_fn_t before = libbpf_set_print(program_hook);
    std::mutex mutex;
    std::vector<std::string> logged;
    const wt::detail::LibbpfLogRoute::LogFunction log = [&](wt::LogLevel, std::string_view text) {
        const std::lock_guard<std::mutex> lock(mutex);
        logged.emplace_back(text);
    };
    std::thread library_thread([&] {
        wt::detail::route_libbpf_messages_until_thread_exit(log);
        make_libbpf_warn();
    });
    library_thread.join();
    CHECK(g_program_hook_messages == 0);
    REQUIRE(!logged.empty());
    CHECK(logged.front().rfind("libbpf: ", 0) == 0);

    // The thread has ended: its route is closed and the program's hook is back.
    const size_t logged_by_the_thread = logged.size();
    make_libbpf_warn();
    CHECK(g_program_hook_messages > 0);
    CHECK(logged.size() == logged_by_the_thread);
    CHECK(libbpf_set_print(before) == program_hook);
}
