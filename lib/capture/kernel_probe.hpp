// SPDX-License-Identifier: LGPL-2.1-or-later
// What the running kernel offers, probed once when a profiler starts. Every
// kernel difference the BPF program must know about is decided here.
#pragma once

#include <cstdint>

#include "capture/btf_scan.hpp"

struct btf;

namespace waketrace::detail {

struct KernelFeatures {
    bool tp_btf = false;               // tp_btf programs for the sched tracepoints (5.5+)
    bool switch_prev_state = false;    // sched_switch passes prev_state (5.18+)
    bool task_pt_regs = false;         // the bpf_task_pt_regs helper (5.15+)
    bool maps_on_demand = false;       // BPF_F_NO_PREALLOC hash maps in tracing programs (6.1+)
    uint64_t task_stack_size = 16384;  // THREAD_SIZE: x86-64's, doubled under KASAN
};

// Throws Error(ENOTSUP) when the kernel has no BTF: CO-RE cannot work then.
KernelFeatures probe_kernel();

// The steps, for tests: what a BTF parsed by libbpf says (scan_btf_file's
// answers, the slow way), and what the answers mean.
BtfFacts btf_facts_from(const btf* vmlinux);
KernelFeatures features_from(const BtfFacts& facts);

}  // namespace waketrace::detail
