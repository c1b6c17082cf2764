// SPDX-License-Identifier: LGPL-2.1-or-later
#include "format/xml_text.hpp"

#include "format/format.hpp"

namespace waketrace::format_internal {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool forbidden_control(unsigned char c) { return c < 0x20 && c != '\t' && c != '\n' && c != '\r'; }

// U+FFFE and U+FFFF, in UTF-8: EF BF BE / EF BF BF.
bool noncharacter_at(std::string_view text, size_t i) {
    return i + 2 < text.size() && uint8_t(text[i]) == 0xEF && uint8_t(text[i + 1]) == 0xBF &&
           (uint8_t(text[i + 2]) == 0xBE || uint8_t(text[i + 2]) == 0xBF);
}

}  // namespace

std::string xml_escaped(std::string_view text) {
    // Valid UTF-8 first, so what follows only meets whole characters.
    const std::string valid = thread_name(text);
    std::string out;
    out.reserve(valid.size());
    for (size_t i = 0; i < valid.size(); ++i) {
        const char c = valid[i];
        switch (c) {
        case '&': out += "&amp;"; continue;
        case '<': out += "&lt;"; continue;
        case '>': out += "&gt;"; continue;
        case '"': out += "&quot;"; continue;
        case '\'': out += "&apos;"; continue;
        default: break;
        }
        if (forbidden_control(uint8_t(c))) {
            out += kReplacement;
        } else if (noncharacter_at(valid, i)) {
            out += kReplacement;
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace waketrace::format_internal
