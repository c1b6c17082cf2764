// SPDX-License-Identifier: LGPL-2.1-or-later
#include "process_usage.hpp"

#include <bpf/bpf.h>
#include <dirent.h>
#include <fmt/format.h>
#include <malloc.h>

#include <fstream>
#include <string>

// AddressSanitizer's allocator, which mallinfo2 does not see, counts for
// itself (declared here: GCC installs no sanitizer headers).
#if WT_TEST_ASAN
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace waketrace::test {
namespace {

template <typename Visit>
void for_each_fd(Visit visit) {
    DIR* dir = opendir("/proc/self/fd");
    if (!dir)
        return;
    const int own = dirfd(dir);
    while (const dirent* entry = readdir(dir)) {
        if (entry->d_name[0] == '.')
            continue;
        const int fd = std::stoi(entry->d_name);
        if (fd != own)
            visit(fd);
    }
    closedir(dir);
}

// /proc/self/fdinfo/FD names the BPF object an fd holds by its id line.
void count_bpf_object(int fd, BpfObjectCounts& counts) {
    std::ifstream info("/proc/self/fdinfo/" + std::to_string(fd));
    std::string line;
    while (std::getline(info, line)) {
        if (line.rfind("prog_id:", 0) == 0)
            ++counts.programs;
        else if (line.rfind("map_id:", 0) == 0)
            ++counts.maps;
        else if (line.rfind("link_id:", 0) == 0)
            ++counts.links;
    }
}

template <typename NextId>
size_t count_ids(NextId next_id) {
    size_t count = 0;
    for (uint32_t id = 0; next_id(id, &id) == 0;)
        ++count;
    return count;
}

uint64_t rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stoull(line.substr(6));
    return 0;
}

}  // namespace

// What malloc has handed out and not had back.
static size_t heap_in_use_bytes() {
#if WT_TEST_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    const struct mallinfo2 heap = mallinfo2();
    return heap.uordblks + heap.hblkhd;  // small chunks, and mmapped ones
#endif
}

ProcessUsage process_usage() {
    ProcessUsage usage;
    for_each_fd([&usage](int fd) {
        ++usage.fds;
        count_bpf_object(fd, usage.bpf_held);
    });
    usage.bpf_system.programs = count_ids(bpf_prog_get_next_id);
    usage.bpf_system.maps = count_ids(bpf_map_get_next_id);
    usage.rss_kib = rss_kib();
    usage.heap_in_use_kib = heap_in_use_bytes() / 1024;
    return usage;
}

std::string describe(const ProcessUsage& usage) {
    return fmt::format(
        "RSS {} KiB, heap in use {} KiB, {} fds (BPF: {} programs, {} maps, {} links); "
        "system: {} BPF programs, {} maps",
        usage.rss_kib, usage.heap_in_use_kib, usage.fds, usage.bpf_held.programs, usage.bpf_held.maps,
        usage.bpf_held.links, usage.bpf_system.programs, usage.bpf_system.maps);
}

}  // namespace waketrace::test
