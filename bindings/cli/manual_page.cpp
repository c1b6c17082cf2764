// SPDX-License-Identifier: LGPL-2.1-or-later
//
// wt-manual-page TEMPLATE > waketrace.8: the manual with the entries of the
// options of include/waketrace/options.hpp written from their rows, so that
// an option added to the table is documented in the manual as in --help,
// with no edit here or in the template.
//
// In the template (itself valid roff: the markers are comments):
//   .\" @option NAME    the row NAME's entry: .TP, its spellings, its help
//                       with bounds and default; the template's lines after
//                       the marker (up to the next .TP or .SH) follow it,
//                       as more about the option
//   .\" @other-options  the entries of the rows no marker named, in the
//                       table's order
#include <cctype>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include "option_specs.hpp"
#include "options.hpp"

namespace {

namespace cli = waketrace::cli;

// Text for a roff text line: hyphens as \- (they are options and numbers
// here), backslashes doubled, and a leading '.' or '\'' kept from reading
// as a request.
std::string roff_text(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '-')
            out += "\\-";
        else
            out += c;
    }
    if (!out.empty() && (out.front() == '.' || out.front() == '\''))
        out.insert(0, "\\&");
    return out;
}

// ".BR \%\-m ", " \-\-min\-block\-time " \fIUS\fR"" or ".BI \%\-\-max\-chains " N"".
std::string tag_line(const cli::OptionSpec& spec) {
    const std::string long_name = "\\-\\-" + roff_text(spec.long_name);
    std::string value;
    if (spec.takes_value())
        value = " \\fI" + roff_text(spec.value_name) + "\\fR";
    if (spec.short_name)
        return ".BR \\%\\-" + std::string(1, spec.short_name) + " \", \" " + long_name +
               (value.empty() ? "" : " \"" + value + "\"");
    if (value.empty())
        return ".B \\%" + long_name;
    return ".BI \\%" + long_name + " \" " + roff_text(spec.value_name) + "\"";
}

const cli::OptionSpec* spec_of(std::string_view name) {
    for (const cli::OptionSpec& spec : cli::option_specs())
        if (spec.option && spec.option->name == name)
            return &spec;
    return nullptr;
}

// Roff source lines of at most 78 bytes, each sentence on a line of its own
// (man pages' convention, which mandoc checks).
std::string wrapped(const std::string& text) {
    constexpr size_t kWidth = 78;
    std::string out;
    std::string line;
    std::istringstream words(text);
    std::string word;
    while (words >> word) {
        if (!line.empty() && line.size() + 1 + word.size() > kWidth) {
            out += line + '\n';
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
        if (word.back() == '.' || word.back() == ':') {
            out += line + '\n';
            line.clear();
        }
    }
    if (!line.empty())
        out += line + '\n';
    return out;
}

void write_entry(std::ostream& out, const cli::OptionSpec& spec) {
    std::string help = cli::option_help(*spec.option) + ".";
    help[0] = char(std::toupper(static_cast<unsigned char>(help[0])));
    out << ".TP\n" << tag_line(spec) << '\n' << wrapped(roff_text(help));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: wt-manual-page TEMPLATE\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::cerr << "wt-manual-page: cannot read " << argv[1] << '\n';
        return 1;
    }
    constexpr std::string_view option_marker = ".\\\" @option ";
    constexpr std::string_view others_marker = ".\\\" @other-options";
    std::set<std::string> placed;
    std::string line;
    std::string page;
    bool others_written = false;
    std::ostringstream out;
    while (std::getline(in, line)) {
        if (line.rfind(option_marker, 0) == 0) {
            const std::string name = line.substr(option_marker.size());
            const cli::OptionSpec* spec = spec_of(name);
            if (!spec) {
                std::cerr << "wt-manual-page: " << argv[1] << " names " << name
                          << ", which is not an option of the table\n";
                return 1;
            }
            write_entry(out, *spec);
            placed.insert(name);
        } else if (line == others_marker) {
            others_written = true;
            // Placed after the whole template is read: markers may follow.
            out << others_marker << '\n';
        } else {
            out << line << '\n';
        }
    }
    if (!others_written) {
        std::cerr << "wt-manual-page: " << argv[1] << " has no " << others_marker << " line\n";
        return 1;
    }
    std::ostringstream others;
    for (const cli::OptionSpec& spec : cli::option_specs())
        if (spec.option && !placed.count(std::string(spec.option->name)))
            write_entry(others, spec);
    page = out.str();
    const std::string marker_line = std::string(others_marker) + '\n';
    page.replace(page.find(marker_line), marker_line.size(), others.str());
    std::cout << page;
    return std::cout.good() ? 0 : 1;
}
