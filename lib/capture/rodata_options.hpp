// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The options the BPF program reads as globals of the same name
// (options::Option::bpf_global): set in its .rodata before load, found by
// name in the object's BTF, so a new one needs no line here or in the loader.
#pragma once

#include <cstddef>

#include "waketrace/profiler.hpp"

struct bpf_object;

namespace waketrace::detail {

// `rodata` is the opened, not yet loaded, object's .rodata (the skeleton's
// `rodata`). Throws Error when the program lacks a global the table says it
// reads, or its size differs from the Config member's: the table and
// waketrace.bpf.c disagree.
void set_rodata_options(const bpf_object* object, void* rodata, size_t rodata_size, const Config& config);

}  // namespace waketrace::detail
