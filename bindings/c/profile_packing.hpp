// SPDX-License-Identifier: LGPL-2.1-or-later
// A C++ Profile -> the C API's wt_profile (and back: profile_from() in
// waketrace/c_bridge.hpp). The C form is one malloc'd block (structs, arrays
// and strings together), so one free() releases it and every pointer inside
// borrows from it.
#pragma once

#include "waketrace/profile.hpp"
#include "waketrace/waketrace.h"

#include <cstdint>

namespace waketrace::c_api {

// A frame's source details, which wt_frame has no room for (wt_frame_source).
struct FrameDetails {
    const char* file;  // null when unknown
    uint32_t line;
    uint32_t inlined;
    // Frame::file_offset and build_id, for the pprof layout's mappings
    // (no C function gives them out yet).
    const char* build_id;  // "" when unknown
    uint64_t file_offset;
    bool has_file_offset;
};

// Losses::chain_states_full, hop_map_full and hop_collisions: wt_profile has
// no room left for them, so the block keeps them in front of it
// (wt_profile_extra_losses).
struct ExtraLosses {
    uint64_t chain_states_full;
    uint64_t hop_map_full;
    uint64_t hop_collisions;
    uint64_t untraced_children;
    uint64_t histogram_map_full;
    uint64_t off_cpu_events;
};

// Throws std::bad_alloc. Release with free_profile().
wt_profile* pack_profile(const Profile& profile);
void free_profile(wt_profile* profile) noexcept;
// Details of a frame of `profile`; null for a wt_frame not in it.
const FrameDetails* frame_details(const wt_profile& profile, const wt_frame& frame) noexcept;
// c_bridge::profile_from() and what only the block holds: each frame's
// file offset and build-id (Frame::file_offset, build_id). Throws
// std::bad_alloc, or Error (EINVAL) for a wt_profile not made here.
Profile unpack_profile(const wt_profile& profile);

// The histograms of `chain`, a chain of `profile` (all zero without them);
// false for a wt_chain not in it.
bool chain_histogram(const wt_profile& profile, const wt_chain& chain, LatencyHistogram& out) noexcept;
// The chain losses of a profile made by pack_profile().
const ExtraLosses& extra_losses(const wt_profile& profile) noexcept;
// Profile::mode of a profile made by pack_profile().
CaptureMode capture_mode(const wt_profile& profile) noexcept;

}  // namespace waketrace::c_api
