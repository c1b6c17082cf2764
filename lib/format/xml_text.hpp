// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Names as XML text. Symbols and comms are whatever bytes a program or the
// kernel holds; an SVG or HTML document must be well-formed XML 1.0 and
// UTF-8 whatever they are.
#pragma once

#include <string>
#include <string_view>

namespace waketrace::format_internal {

// `text` safe in XML 1.0 element content and in quoted attribute values:
// & < > " ' as entities, ill-formed UTF-8 repaired as thread_name() repairs
// comms, and characters XML 1.0 forbids (controls other than tab, newline
// and carriage return; U+FFFE, U+FFFF) as U+FFFD.
std::string xml_escaped(std::string_view text);

}  // namespace waketrace::format_internal
