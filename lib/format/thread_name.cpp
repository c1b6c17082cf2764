// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Thread names to valid UTF-8: a comm is bytes (prctl(PR_SET_NAME) takes
// any), but the outputs are text that must print and encode anywhere.
#include <cstdint>

#include "format/format.hpp"

namespace waketrace {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the sequence a lead byte starts (0: not a lead byte), and the
// range its second byte must fall in, which rules out overlong forms,
// surrogates and code points above U+10FFFF (RFC 3629, Unicode table 3-7).
struct Lead {
    size_t length;
    uint8_t second_min;
    uint8_t second_max;
};

Lead lead_of(uint8_t byte) {
    if (byte < 0x80)
        return {1, 0, 0};
    if (byte >= 0xC2 && byte <= 0xDF)
        return {2, 0x80, 0xBF};
    if (byte == 0xE0)
        return {3, 0xA0, 0xBF};
    if (byte == 0xED)
        return {3, 0x80, 0x9F};
    if (byte >= 0xE1 && byte <= 0xEF)
        return {3, 0x80, 0xBF};
    if (byte == 0xF0)
        return {4, 0x90, 0xBF};
    if (byte >= 0xF1 && byte <= 0xF3)
        return {4, 0x80, 0xBF};
    if (byte == 0xF4)
        return {4, 0x80, 0x8F};
    return {0, 0, 0};
}

// Bytes of a well-formed sequence at the start of `text` that are present
// and valid: the whole length when complete, less when it breaks off.
size_t valid_prefix(std::string_view text, const Lead& lead) {
    size_t used = 1;
    for (; used < lead.length && used < text.size(); ++used) {
        const auto byte = uint8_t(text[used]);
        const uint8_t min = used == 1 ? lead.second_min : 0x80;
        const uint8_t max = used == 1 ? lead.second_max : 0xBF;
        if (byte < min || byte > max)
            break;
    }
    return used;
}

}  // namespace

std::string thread_name(std::string_view comm) {
    std::string text;
    text.reserve(comm.size());
    while (!comm.empty()) {
        const Lead lead = lead_of(uint8_t(comm[0]));
        if (lead.length == 0) {
            text += kReplacement;
            comm.remove_prefix(1);
            continue;
        }
        const size_t used = valid_prefix(comm, lead);
        if (used == lead.length)
            text.append(comm.substr(0, used));
        else
            text += kReplacement;  // one for the whole broken-off sequence
        comm.remove_prefix(used);
    }
    return text;
}

}  // namespace waketrace
