// SPDX-License-Identifier: LGPL-2.1-or-later
// The public C header compiles as C++ too (with -Werror), and its constants
// are usable in constant expressions there.
#include <waketrace/waketrace.h>

#include <cstdio>

static_assert(WT_STACKS_USER_ONLY == 2, "stack kinds are part of the ABI");
static_assert(sizeof(wt_profiler_opts) % 8 == 0, "options keep their 8-byte alignment");

int main() {
    wt_profiler_opts opts{};
    opts.sz = sizeof(opts);
    wt_profiler* profiler = wt_profiler_new(&opts);
    const bool ok = profiler != nullptr;
    wt_profiler_free(profiler);
    if (!ok)
        std::fprintf(stderr, "wt_profiler_new failed: %s\n", wt_last_error());
    return ok ? 0 : 1;
}
