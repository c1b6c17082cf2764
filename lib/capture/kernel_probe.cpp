// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/kernel_probe.hpp"

#include <bpf/btf.h>
#include <fmt/format.h>

#include <cerrno>
#include <memory>
#include <string_view>

#include "waketrace/error.hpp"

namespace waketrace::detail {
namespace {

constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";

struct BtfDeleter {
    void operator()(btf* b) const noexcept { btf__free(b); }
};
using BtfPtr = std::unique_ptr<btf, BtfDeleter>;

bool has_type(const btf* vmlinux, const char* name, int kind) {
    return btf__find_by_name_kind(vmlinux, name, kind) > 0;
}

// The tracepoint's typedef points at a prototype; -1 when it has another shape.
int sched_switch_params(const btf* vmlinux) {
    const int typedef_id = btf__find_by_name_kind(vmlinux, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
    if (typedef_id < 0)
        return -1;
    const btf_type* pointer = btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, typedef_id)->type);
    if (!pointer || !btf_is_ptr(pointer))
        return -1;
    const btf_type* proto = btf__type_by_id(vmlinux, pointer->type);
    return proto && btf_is_func_proto(proto) ? int(btf_vlen(proto)) : -1;
}

// Helpers are numbered by the kernel's enum bpf_func_id; a helper is there
// when its BPF_FUNC_ name is.
bool has_helper(const btf* vmlinux, std::string_view helper) {
    const int enum_id = btf__find_by_name_kind(vmlinux, "bpf_func_id", BTF_KIND_ENUM);
    if (enum_id < 0)
        return false;
    const btf_type* type = btf__type_by_id(vmlinux, enum_id);
    const struct btf_enum* values = btf_enum(type);
    for (uint16_t i = 0; i < btf_vlen(type); ++i) {
        const char* name = btf__name_by_offset(vmlinux, values[i].name_off);
        if (name && std::string_view(name) == helper)
            return true;
    }
    return false;
}

}  // namespace

BtfFacts btf_facts_from(const btf* vmlinux) {
    BtfFacts facts;
    facts.sched_switch_typedef = has_type(vmlinux, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
    facts.sched_switch_params = sched_switch_params(vmlinux);
    facts.sched_waking_typedef = has_type(vmlinux, "btf_trace_sched_waking", BTF_KIND_TYPEDEF);
    facts.kasan_report = has_type(vmlinux, "kasan_report", BTF_KIND_FUNC);
    facts.task_pt_regs_helper = has_helper(vmlinux, "BPF_FUNC_task_pt_regs");
    facts.bpf_mem_alloc = has_type(vmlinux, "bpf_mem_alloc", BTF_KIND_STRUCT);
    return facts;
}

KernelFeatures features_from(const BtfFacts& facts) {
    KernelFeatures features;
    // The prototype's first parameter is the `void *__data` cookie; the 4th
    // traced argument, prev_state, makes it 5.
    features.switch_prev_state = facts.sched_switch_params >= 5;
    // The btf_trace_* typedefs came with tp_btf itself (5.5).
    features.tp_btf = facts.sched_switch_typedef && facts.sched_waking_typedef;
    features.task_pt_regs = facts.task_pt_regs_helper;
    // Tracing programs may use hash maps that allocate on demand since the
    // allocator safe in any context (bpf_mem_alloc) came, in 6.1.
    features.maps_on_demand = facts.bpf_mem_alloc;
    // KASAN doubles THREAD_SIZE; its runtime shows in BTF as functions.
    if (facts.kasan_report)
        features.task_stack_size *= 2;
    return features;
}

KernelFeatures probe_kernel() {
    if (const std::optional<BtfFacts> facts = scan_btf_file(kVmlinuxBtf))
        return features_from(*facts);
    // Unreadable by the scan (a kind newer than it knows, say): libbpf's
    // whole parse answers the same questions.
    BtfPtr vmlinux(btf__load_vmlinux_btf());
    if (!vmlinux && errno != ENOENT) {
        // There is BTF, but it could not be read (EMFILE, ENOMEM, ...).
        const int err = errno;
        throw Error(err, fmt::format("reading the kernel's BTF ({}) failed", kVmlinuxBtf));
    }
    if (!vmlinux) {
        throw Error(ENOTSUP,
                    "the kernel exposes no BTF (/sys/kernel/btf/vmlinux): waketrace needs a kernel "
                    "built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 5.8)");
    }
    return features_from(btf_facts_from(vmlinux.get()));
}

}  // namespace waketrace::detail
