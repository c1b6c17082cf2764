// SPDX-License-Identifier: LGPL-2.1-or-later
// Checks the capabilities loading a tracing BPF program needs, before libbpf
// fails with a bare EPERM, so the error can name what is missing.
#pragma once

namespace waketrace::detail {

// Throws Error(EPERM) naming the missing capabilities.
void require_bpf_privileges();

}  // namespace waketrace::detail
