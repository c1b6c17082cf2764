// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What makes the flame graph SVG interactive, kept apart from the code that
// writes it: the style sheet and the script, which read the attributes the
// writer puts on the root and on each frame (see flamegraph_svg.cpp).
#pragma once

#include <string_view>

namespace waketrace::format_internal {

// CSS for the <style> element.
std::string_view flamegraph_style();

// JavaScript for the <script> element, which must come after the frames.
// It finds its own <svg> (so several graphs can share an HTML page), sets
// no globals, and redraws the frames from their data-* attributes on every
// zoom, search or metric switch.
std::string_view flamegraph_script();

}  // namespace waketrace::format_internal
