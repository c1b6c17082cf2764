// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Profiler's docstring, from the keywords it takes: a signature line with
// their defaults and a paragraph each, the scalar ones from options::table.
#pragma once

#include <string>

namespace waketrace::python {

std::string profiler_doc();

}  // namespace waketrace::python
