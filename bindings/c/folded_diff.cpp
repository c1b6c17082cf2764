// SPDX-License-Identifier: LGPL-2.1-or-later
// wt_folded_diff_svg(): two folded texts in, the library's differential
// flame graph out, guarded like every exported function.
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "format/format.hpp"
#include "last_error.hpp"
#include "waketrace/error.hpp"
#include "waketrace/waketrace.h"

namespace wt = waketrace;

namespace {

bool all_zero(const unsigned char* bytes, size_t size) {
    for (size_t i = 0; i < size; ++i)
        if (bytes[i] != 0)
            return false;
    return true;
}

// The options as the library takes them. There is no older, smaller
// struct wt_diff_opts: sz must cover it all, and bytes beyond it (a newer
// caller's fields) must be zero.
wt::DiffGraphOptions diff_options(const wt_diff_opts* opts) {
    wt::DiffGraphOptions options;
    if (!opts)
        return options;
    if (opts->sz < sizeof(wt_diff_opts))
        throw wt::Error(EINVAL,
                        fmt::format("opts->sz is {}: set it to sizeof(struct wt_diff_opts)", opts->sz));
    const auto* bytes = reinterpret_cast<const unsigned char*>(opts);
    if (!all_zero(opts->reserved, sizeof(opts->reserved)) ||
        !all_zero(bytes + sizeof(wt_diff_opts), opts->sz - sizeof(wt_diff_opts)))
        throw wt::Error(EINVAL, "reserved bytes of struct wt_diff_opts must be zero");
    if (opts->flags & ~WT_DIFF_WIDTHS_BY_BEFORE)
        throw wt::Error(EINVAL, "opts->flags has bits other than WT_DIFF_*");
    if (opts->before_name)
        options.before_name = opts->before_name;
    if (opts->after_name)
        options.after_name = opts->after_name;
    if (opts->title)
        options.title = opts->title;
    options.widths_by_before = (opts->flags & WT_DIFF_WIDTHS_BY_BEFORE) != 0;
    return options;
}

std::vector<wt::FoldedStack> folded_side(const char* text, const char* which) {
    if (!text)
        throw wt::Error(EINVAL, std::string(which) + " is NULL");
    try {
        return wt::parse_folded(text);
    } catch (const wt::FoldedSyntaxError& e) {
        throw wt::Error(EINVAL, fmt::format("{} is not folded lines: {}", which, e.what()));
    }
}

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

char* wt_folded_diff_svg(const char* before, const char* after, const wt_diff_opts* opts) {
    return wt::c_api::guarded_pointer([&]() -> char* {
        const std::vector<wt::FoldedStack> then = folded_side(before, "before");
        const std::vector<wt::FoldedStack> now = folded_side(after, "after");
        const std::string svg = wt::format_diff_flamegraph_svg(then, now, diff_options(opts));
        char* copy = static_cast<char*>(std::malloc(svg.size() + 1));
        if (!copy)
            throw std::bad_alloc();
        std::memcpy(copy, svg.c_str(), svg.size() + 1);
        return copy;
    });
}

}  // extern "C"
#pragma GCC visibility pop
