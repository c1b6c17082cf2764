// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What a process holds, for checking that repeated use leaves nothing
// behind: its fds, the BPF objects behind them, its memory; and how many BPF
// objects the whole system has (the kernel frees a program or map once no
// fd, link or pin holds it, so one that outlived its Profiler would show
// here even without an fd).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace waketrace::test {

struct BpfObjectCounts {
    size_t programs = 0;
    size_t maps = 0;
    size_t links = 0;  // always 0 for the system count
};

struct ProcessUsage {
    size_t fds = 0;
    BpfObjectCounts bpf_held;    // behind this process's fds (/proc/self/fdinfo)
    BpfObjectCounts bpf_system;  // every program and map loaded on the machine
    uint64_t rss_kib = 0;        // VmRSS
    // malloc: allocated, not freed (mallinfo2, every arena; under
    // AddressSanitizer, whose allocator mallinfo2 does not see, its own count)
    uint64_t heap_in_use_kib = 0;
};

// AddressSanitizer keeps freed memory in a quarantine (256 MiB by default)
// before reusing it, so a process's RSS grows under it until the quarantine
// is full, leak or not: there only the heap count says whether memory is
// kept.
#if defined(__SANITIZE_ADDRESS__)
#define WT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WT_TEST_ASAN 1
#endif
#endif
#ifndef WT_TEST_ASAN
#define WT_TEST_ASAN 0
#endif
inline constexpr bool kRssFollowsHeap = !WT_TEST_ASAN;

ProcessUsage process_usage();
std::string describe(const ProcessUsage& usage);

}  // namespace waketrace::test
