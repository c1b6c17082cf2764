// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The split-program fixture (fixture_split_program.c) with its debug info
// moved out, as distributions ship binaries: what the debug-file tests share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "waketrace/profile.hpp"

namespace symfixture {

// The hex build-id of the ELF file at `path` (empty when it has none).
std::string build_id_of(const std::string& path);

// Copies the split program to `program`, saves its debug info to
// `debug_file` (objcopy --only-keep-debug), then strips the copy
// (strip --strip-all): names and lines survive only in `debug_file`.
void split_debug_info(const std::string& program, const std::string& debug_file);

// What a frame of symfixture_split_worker must hold when its debug info was
// found: checked with Catch2, for the program run as `program`.
void check_split_worker_frames(const std::vector<waketrace::Frame>& frames, const RunningProgram& program,
                               const std::string& path);

}  // namespace symfixture
