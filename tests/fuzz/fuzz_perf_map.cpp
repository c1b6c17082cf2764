// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The perf map parser, two ways that must agree: parse() of the whole text,
// and read() of /tmp/perf-PID.map holding its first part then update() after
// the rest was appended (the first input byte says where to cut), as a JIT
// writes it. Also the /proc/PID/status reader that says who owns the map.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "symbolize/perf_map.hpp"
#include "support/unique_fd.hpp"

using waketrace::detail::PerfMap;
using waketrace::detail::PerfMapSymbol;
using waketrace::detail::UniqueFd;

namespace {

// This process's own perf map, which PerfMap::read(getpid()) finds.
class OwnPerfMap {
public:
    OwnPerfMap() : path_(fmt::format("/tmp/perf-{}.map", ::getpid())) { ::unlink(path_.c_str()); }
    ~OwnPerfMap() { ::unlink(path_.c_str()); }
    OwnPerfMap(const OwnPerfMap&) = delete;
    OwnPerfMap& operator=(const OwnPerfMap&) = delete;

    void append(std::string_view text) const {
        UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
            std::abort();  // a harness that cannot set up tests nothing
    }

private:
    std::string path_;
};

// Addresses worth looking up: each line's START, its neighbours, and its end.
std::vector<uint64_t> probe_addresses(std::string_view text) {
    std::vector<uint64_t> probes{0, UINT64_MAX};
    while (!text.empty()) {
        size_t end = text.find('\n');
        std::string line(text.substr(0, end));
        char* after_start = nullptr;
        uint64_t start = std::strtoull(line.c_str(), &after_start, 16);
        uint64_t size = std::strtoull(after_start, nullptr, 16);
        probes.insert(probes.end(), {start - 1, start, start + 1, start + size - 1, start + size});
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    }
    return probes;
}

bool same(const std::optional<PerfMapSymbol>& a, const std::optional<PerfMapSymbol>& b) {
    if (!a || !b)
        return !a && !b;
    return a->name == b->name && a->offset == b->offset;
}

void check_status_parser(std::string_view text) {
    auto owner = waketrace::detail::PerfMapOwner::parse_status(text);
    if (owner.uids.size() > text.size())
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    check_status_parser(text);
    // A JIT ends every line; parse() also takes an unterminated last one,
    // which update() leaves for later, so end the text for the comparison.
    text += '\n';
    const size_t cut = data[0] * text.size() / 256;

    const PerfMap parsed = PerfMap::parse(text);
    const OwnPerfMap file;
    file.append(std::string_view(text).substr(0, cut));
    std::optional<PerfMap> read = PerfMap::read(static_cast<uint32_t>(::getpid()));
    if (!read)
        std::abort();
    file.append(std::string_view(text).substr(cut));
    read->update();

    if (read->size() != parsed.size())
        std::abort();
    for (uint64_t address : probe_addresses(text)) {
        std::optional<PerfMapSymbol> symbol = parsed.find(address);
        if (!same(symbol, read->find(address)))
            std::abort();
        if (symbol && symbol->offset > address)
            std::abort();
    }
    return 0;
}
