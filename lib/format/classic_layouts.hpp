// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The layouts of offwaketime's two siblings, for profiles captured in their
// modes (Profile::mode): format_text() and format_folded() hand such a
// profile here. See format.hpp for what each line holds.
#pragma once

#include <string>

#include "format/format.hpp"

namespace waketrace::format_internal {

// CaptureMode::offcpu, as offcputime prints it.
std::string offcputime_text(const Profile& profile, const FormatOptions& options);
std::string offcputime_folded(const Profile& profile, const FormatOptions& options);

// CaptureMode::wakeup, as wakeuptime prints it: blocked time, chains in
// ascending order of it.
std::string wakeuptime_text(const Profile& profile, const FormatOptions& options);
std::string wakeuptime_folded(const Profile& profile, const FormatOptions& options);

}  // namespace waketrace::format_internal
