#include "capture/kernel_probe.hpp"

#include <bpf/btf.h>

#include <cerrno>
#include <memory>
#include <string_view>

#include "waketrace/profiler.hpp"

namespace waketrace::detail {
namespace {

struct BtfDeleter {
    void operator()(btf* b) const noexcept { btf__free(b); }
};
using BtfPtr = std::unique_ptr<btf, BtfDeleter>;

// The tracepoint's typedef points at a prototype whose first parameter is the
// `void *__data` cookie; the 4th traced argument, prev_state, makes it 5.
bool sched_switch_has_prev_state(const btf* vmlinux) {
    const int typedef_id = btf__find_by_name_kind(vmlinux, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
    if (typedef_id < 0)
        return false;
    const btf_type* pointer = btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, typedef_id)->type);
    if (!pointer || !btf_is_ptr(pointer))
        return false;
    const btf_type* proto = btf__type_by_id(vmlinux, pointer->type);
    return proto && btf_is_func_proto(proto) && btf_vlen(proto) >= 5;
}

bool has_type(const btf* vmlinux, const char* name, int kind) {
    return btf__find_by_name_kind(vmlinux, name, kind) > 0;
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

KernelFeatures probe_kernel() {
    BtfPtr vmlinux(btf__load_vmlinux_btf());
    if (!vmlinux) {
        throw Error(ENOTSUP,
                    "the kernel exposes no BTF (/sys/kernel/btf/vmlinux): waketrace needs a kernel "
                    "built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 5.8)");
    }
    KernelFeatures features;
    features.switch_prev_state = sched_switch_has_prev_state(vmlinux.get());
    // The btf_trace_* typedefs came with tp_btf itself (5.5).
    features.tp_btf = has_type(vmlinux.get(), "btf_trace_sched_switch", BTF_KIND_TYPEDEF) &&
                      has_type(vmlinux.get(), "btf_trace_sched_waking", BTF_KIND_TYPEDEF);
    features.task_pt_regs = has_helper(vmlinux.get(), "BPF_FUNC_task_pt_regs");
    // KASAN doubles THREAD_SIZE; its runtime shows in BTF as functions.
    if (has_type(vmlinux.get(), "kasan_report", BTF_KIND_FUNC))
        features.task_stack_size *= 2;
    return features;
}

}  // namespace waketrace::detail
