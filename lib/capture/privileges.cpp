// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/privileges.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "waketrace/error.hpp"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

namespace waketrace::detail {
namespace {

// Raw capget: libcap would be one more dependency for a three-bit question.
bool has_capability(const __user_cap_data_struct (&effective)[2], int cap) {
    return effective[cap / 32].effective & (1u << (cap % 32));
}

}  // namespace

void require_bpf_privileges() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &header, data) != 0)
        return;  // cannot tell: let the load itself report
    if (has_capability(data, CAP_SYS_ADMIN))
        return;
    std::string missing;
    if (!has_capability(data, CAP_BPF))
        missing = "CAP_BPF";
    if (!has_capability(data, CAP_PERFMON))
        missing += missing.empty() ? "CAP_PERFMON" : " and CAP_PERFMON";
    if (missing.empty())
        return;
    throw Error(EPERM, "not privileged: tracing the scheduler needs " + missing +
                           " (or CAP_SYS_ADMIN); run as root, or grant them with "
                           "`setcap cap_bpf,cap_perfmon+ep` on the program");
}

}  // namespace waketrace::detail
