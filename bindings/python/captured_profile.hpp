// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What Profiler.results() and .drain() hand to Python.
#pragma once

#include <waketrace/config.hpp>
#include <waketrace/profile.hpp>

namespace waketrace::python {

// A Profile plus the Config::stacks it was captured with, so that
// Profile.folded() and .text() leave out stacks that were never captured by
// default, as the waketrace command does.
struct CapturedProfile {
    Profile profile;
    StackKinds stacks = StackKinds::both;
};

}  // namespace waketrace::python
