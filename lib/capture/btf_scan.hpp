// SPDX-License-Identifier: LGPL-2.1-or-later
// Answers the kernel probe's few questions about the kernel's BTF by
// streaming the file through one small buffer, instead of parsing all of it
// into memory. libbpf parses the same 5-6 MB again to load the program, and
// on some machines (virtual ones above all) the first touch of every fresh
// page costs tens of microseconds: one whole parse was ~25% of start-up.
#pragma once

#include <cstddef>
#include <optional>

namespace waketrace::detail {

struct BtfFacts {
    bool sched_switch_typedef = false;  // btf_trace_sched_switch
    int sched_switch_params = -1;       // its prototype's parameters, -1 when unknown
    bool sched_waking_typedef = false;  // btf_trace_sched_waking
    bool kasan_report = false;          // a FUNC of that name
    bool task_pt_regs_helper = false;   // BPF_FUNC_task_pt_regs in enum bpf_func_id
    bool bpf_mem_alloc = false;         // a STRUCT of that name
};

// nullopt when the file cannot be read or holds something this reader does
// not know (another magic, a newer kind): the caller asks libbpf instead.
// `chunk` is the read size; tests make it tiny to cross every boundary.
std::optional<BtfFacts> scan_btf_file(const char* path, size_t chunk = 64 * 1024);

}  // namespace waketrace::detail
