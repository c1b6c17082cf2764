// SPDX-License-Identifier: LGPL-2.1-or-later
#include "format/flame_layout.hpp"

#include <vector>

#include <fmt/format.h>

#include "format/flamegraph_script.hpp"

namespace waketrace::format_internal {

std::string grouped(uint64_t number) {
    const std::string digits = fmt::format("{}", number);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

std::string micros(uint64_t ns) { return grouped((ns + 500) / 1000) + " \u00b5s"; }

std::string fitted_label(const std::string& name, double width) {
    const double fits = (width - 6) / kFlameCharWidth;
    if (fits < 3)
        return {};
    std::vector<size_t> starts;  // byte offset of each character
    for (size_t i = 0; i < name.size(); ++i)
        if ((uint8_t(name[i]) & 0xC0) != 0x80)
            starts.push_back(i);
    if (fits >= double(starts.size()))
        return name;
    const auto room = size_t(fits);
    return name.substr(0, starts[room - 2]) + "..";
}

std::string flame_footer(double width, double height, std::string_view empty_message) {
    std::string out;
    if (!empty_message.empty())
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", width / 2,
                           kFlameTop + 10, empty_message);
    const double y = height - kFlameBottom / 2 + 5;
    out += fmt::format("<text class=\"details\" x=\"{}\" y=\"{}\"> </text>\n", kFlamePad, y);
    out += fmt::format("<text class=\"matched\" x=\"{}\" y=\"{}\"> </text>\n", width - kFlamePad, y);
    out += fmt::format("<script type=\"text/ecmascript\"><![CDATA[{}]]></script>\n", flamegraph_script());
    out += "</svg>\n";
    return out;
}

}  // namespace waketrace::format_internal
