// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/perf_map.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <iterator>

#include <fmt/format.h>

#include "support/read_file.hpp"
#include "waketrace/error.hpp"

namespace waketrace::detail {

namespace {

constexpr std::string_view blanks = " \t";

std::string_view trim(std::string_view text) {
    size_t first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos)
        return {};
    size_t last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

// Takes the number in `base` before the next blank (or the end) and the
// blanks after it.
bool take_number(std::string_view& text, int base, uint64_t& value) {
    size_t end = std::min(text.find_first_of(blanks), text.size());
    std::string_view digits = text.substr(0, end);
    // Not the convention, but some JITs write it and nothing else could be meant.
    if (base == 16 && digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'))
        digits.remove_prefix(2);
    const char* last = digits.data() + digits.size();
    auto [parsed_to, error] = std::from_chars(digits.data(), last, value, base);
    if (digits.empty() || error != std::errc() || parsed_to != last)
        return false;
    text.remove_prefix(end);
    text = text.substr(std::min(text.find_first_not_of(blanks), text.size()));
    return true;
}

struct Line {
    uint64_t start;
    uint64_t end;
    std::string_view name;
};

std::optional<Line> parse_line(std::string_view text) {
    text = trim(text);
    uint64_t start = 0;
    uint64_t size = 0;
    if (!take_number(text, 16, start) || !take_number(text, 16, size) || text.empty())
        return std::nullopt;
    if (size == 0 || start + size < start)  // covers nothing, or wraps around
        return std::nullopt;
    return Line{start, start + size, text};
}

// /tmp is everyone's: refuse what a JIT would not have written, so nobody
// can make a root profiler read (and print) another file or block on a FIFO.
bool is_believable(int fd, const std::optional<PerfMapOwner>& owner) {
    struct stat status {};
    if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode) || status.st_nlink != 1)
        return false;
    if (!owner || owner->uids.empty())
        return true;  // the process is gone: its user can no longer be told
    return std::find(owner->uids.begin(), owner->uids.end(), static_cast<uint32_t>(status.st_uid)) !=
           owner->uids.end();
}

std::optional<PerfMapOwner> read_owner(uint32_t tgid) {
    try {
        return PerfMapOwner::parse_status(read_whole_file(fmt::format("/proc/{}/status", tgid)));
    } catch (const Error&) {
        return std::nullopt;
    }
}

// The numbers after `key` on its line of a /proc/PID/status text.
std::vector<uint32_t> status_numbers(std::string_view status_text, std::string_view key) {
    std::vector<uint32_t> numbers;
    size_t at = 0;
    while (at < status_text.size() && status_text.compare(at, key.size(), key) != 0) {
        size_t next_line = status_text.find('\n', at);
        at = next_line == std::string_view::npos ? status_text.size() : next_line + 1;
    }
    if (at >= status_text.size())
        return numbers;
    std::string_view line = status_text.substr(at + key.size());
    line = trim(line.substr(0, line.find('\n')));
    while (!line.empty()) {
        uint64_t number = 0;
        if (!take_number(line, 10, number) || number > UINT32_MAX)
            return {};
        numbers.push_back(static_cast<uint32_t>(number));
    }
    return numbers;
}

}  // namespace

PerfMapOwner PerfMapOwner::parse_status(std::string_view status_text) {
    PerfMapOwner owner;
    std::vector<uint32_t> namespace_pids = status_numbers(status_text, "NSpid:");
    if (!namespace_pids.empty())
        owner.namespace_pid = namespace_pids.back();
    owner.uids = status_numbers(status_text, "Uid:");
    return owner;
}

std::vector<std::string> perf_map_paths(uint32_t tgid, uint32_t namespace_pid) {
    return {fmt::format("/proc/{}/root/tmp/perf-{}.map", tgid, namespace_pid),
            fmt::format("/tmp/perf-{}.map", tgid)};
}

PerfMap PerfMap::parse(std::string_view text, const PerfMapLimits& limits) {
    PerfMap map;
    map.limits_ = limits;
    while (!text.empty()) {
        size_t line_end = std::min(text.find('\n'), text.size());
        if (line_end <= limits.max_line_bytes && !map.take_line(text.substr(0, line_end)))
            break;
        text.remove_prefix(std::min(line_end + 1, text.size()));
    }
    return map;
}

std::optional<PerfMap> PerfMap::read(uint32_t tgid, const PerfMapLimits& limits) {
    std::optional<PerfMapOwner> owner = read_owner(tgid);
    uint32_t namespace_pid = owner && owner->namespace_pid ? *owner->namespace_pid : tgid;
    for (std::string& path : perf_map_paths(tgid, namespace_pid)) {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
        if (!fd || !is_believable(fd.get(), owner))
            continue;
        PerfMap map;
        map.file_ = std::move(fd);
        map.path_ = std::move(path);
        map.limits_ = limits;
        map.update();
        return map;
    }
    return std::nullopt;
}

bool PerfMap::take_line(std::string_view text) {
    if (lines_read_ >= limits_.max_lines) {
        cut(fmt::format("cut at {} lines", limits_.max_lines));
        return false;
    }
    ++lines_read_;
    if (std::optional<Line> line = parse_line(text))
        add(line->start, line->end, line->name);
    return true;
}

void PerfMap::cut(std::string reason) {
    if (cut_reason_.empty())
        cut_reason_ = std::move(reason);
}

// Streams the file from read_offset_ through one 64 KiB buffer, assembling
// each line in `line` (at most max_line_bytes; longer ones are skipped), and
// stops at end of file or at the byte cap. read_offset_ only moves past
// complete lines, so a last line still being written is read again later.
void PerfMap::update() {
    if (!file_ || !cut_reason_.empty())
        return;
    struct stat status {};
    if (::fstat(file_.get(), &status) != 0)
        throw Error(errno, fmt::format("cannot stat the perf map {}", path_));
    if (static_cast<uint64_t>(status.st_size) < read_offset_) {
        ranges_.clear();
        names_.clear();
        read_offset_ = 0;
        lines_read_ = 0;
        skipping_line_ = false;
    }

    std::string line;
    bool skipping = skipping_line_;
    uint64_t position = read_offset_;
    char buffer[64 * 1024];
    for (;;) {
        if (position >= limits_.max_bytes) {
            cut(fmt::format("cut at {} bytes", limits_.max_bytes));
            return;
        }
        size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof buffer, limits_.max_bytes - position));
        ssize_t got = ::pread(file_.get(), buffer, want, static_cast<off_t>(position));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            throw Error(errno, fmt::format("cannot read the perf map {}", path_));
        if (got == 0)
            break;
        std::string_view chunk(buffer, static_cast<size_t>(got));
        const uint64_t chunk_offset = position;
        position += static_cast<uint64_t>(got);
        for (size_t at = 0; at < chunk.size();) {
            size_t newline = chunk.find('\n', at);
            std::string_view piece = chunk.substr(at, std::min(newline, chunk.size()) - at);
            if (!skipping && line.size() + piece.size() > limits_.max_line_bytes) {
                skipping = true;
                line.clear();
            }
            if (!skipping)
                line.append(piece);
            if (newline == std::string_view::npos)
                break;
            const bool kept = skipping || take_line(line);
            line.clear();
            skipping = false;
            read_offset_ = chunk_offset + newline + 1;
            if (!kept)
                return;
            at = newline + 1;
        }
    }
    // At end of file inside a line too long to keep: skip what was read of
    // it for good, rather than read it again at every update.
    skipping_line_ = skipping;
    if (skipping)
        read_offset_ = position;
}

// Keeps ranges_ disjoint: the new range cuts what it overlaps out of older
// ones, which keep their START so offsets into them stay right.
void PerfMap::add(uint64_t start, uint64_t end, std::string_view name) {
    auto next = ranges_.lower_bound(start);
    if (next != ranges_.begin()) {
        auto before = std::prev(next);
        Range& older = before->second;
        if (older.end > start) {
            if (older.end > end)  // the new range is inside: keep the older one's tail
                ranges_.emplace(end,
                                Range{older.end, older.symbol_start, older.name_offset, older.name_length});
            older.end = start;
        }
    }
    while (next != ranges_.end() && next->first < end) {
        if (next->second.end > end) {  // overlaps the end: keep what lies beyond
            Range tail = next->second;
            ranges_.erase(next);
            ranges_.emplace(end, tail);
            break;
        }
        next = ranges_.erase(next);
    }
    ranges_.emplace(start, Range{end, start, names_.size(), name.size()});
    names_.append(name);
}

std::optional<PerfMapSymbol> PerfMap::find(uint64_t address) const {
    auto above = ranges_.upper_bound(address);
    if (above == ranges_.begin())
        return std::nullopt;
    const Range& range = std::prev(above)->second;
    if (address >= range.end)
        return std::nullopt;
    return PerfMapSymbol{std::string_view(names_).substr(range.name_offset, range.name_length),
                         address - range.symbol_start};
}

}  // namespace waketrace::detail
