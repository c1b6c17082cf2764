// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Names of JIT-compiled code from the perf map convention: the JIT writes
// /tmp/perf-PID.map, one "START SIZE name" line per function (START and SIZE
// in hex, the name runs to the end of the line and may hold spaces).
//
// When to read it: lazily, at the first lookup of an address that falls in
// an anonymous executable mapping of the process (most processes have no JIT
// and no such file), then update() once more at report time, since JITs
// append as they compile. read() keeps the file open, so update() works even
// after the process exited or when the file lives in its mount namespace.
//
// The file is the traced process's to write: it may be sparse (gigabytes of
// holes on a few KiB of disk), huge, or one endless line. So it is read in
// bounded chunks, up to PerfMapLimits, never in one allocation of its size.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/unique_fd.hpp"

namespace waketrace::detail {

struct PerfMapSymbol {
    std::string_view name;  // points into the PerfMap; valid until update() or its end
    uint64_t offset = 0;    // address - start of the function
};

// What /proc/PID/status says about where a process's perf map is and who
// may have written it.
struct PerfMapOwner {
    // The process's pid inside its own PID namespace (last "NSpid:" field),
    // which is what the JIT puts in the file name. nullopt on kernels
    // without NSpid (before 4.1), where it is the pid we see.
    std::optional<uint32_t> namespace_pid;
    std::vector<uint32_t> uids;  // "Uid:" real, effective, saved, filesystem

    static PerfMapOwner parse_status(std::string_view status_text);
};

// Where to look for the perf map of `tgid`, best first: inside its mount
// namespace under the name it knows itself by, then our own /tmp.
std::vector<std::string> perf_map_paths(uint32_t tgid, uint32_t namespace_pid);

// How much of a perf map is read. Past max_bytes of the file or max_lines
// lines the map is cut: what came before is kept, the rest is never read
// (cut_reason() says which cap was met). Lines longer than max_line_bytes
// are skipped. The defaults bound one map to about 150 MB of memory.
struct PerfMapLimits {
    uint64_t max_bytes = uint64_t(64) << 20;  // 64 MiB
    uint64_t max_lines = 1'000'000;
    size_t max_line_bytes = 64 * 1024;
};

class PerfMap {
public:
    // Parses a whole perf map text. Later lines override earlier ones where
    // they overlap (a JIT re-emits code into freed space); malformed lines,
    // lines above the length cap and empty ranges are skipped, lines past
    // the line cap ignored.
    static PerfMap parse(std::string_view text, const PerfMapLimits& limits = {});

    // Opens and reads the perf map of process `tgid` (perf_map_paths()).
    // nullopt when there is none. Since /tmp is writable by everyone, a file
    // is believed only when it is a regular file, not a symlink, has a single
    // link, and (while the process runs, so its uids are known) belongs to
    // the process's user. The file stays open for update(): one fd per map.
    // Reads at most `limits` of it. Throws waketrace::Error when an accepted
    // file cannot be read.
    static std::optional<PerfMap> read(uint32_t tgid, const PerfMapLimits& limits = {});

    // Reads the lines appended to the file since the last read. A last line
    // still being written (no newline yet) waits for the next update(). A
    // file that shrank was rewritten: it is read again from the start. Does
    // nothing for a parsed map, or once the map was cut (a cut map is never
    // read again). Throws waketrace::Error on a read failure.
    void update();

    // Why the map was cut short ("64 MiB..."), empty while it is whole.
    const std::string& cut_reason() const noexcept { return cut_reason_; }

    // The function whose [START, START + SIZE) holds `address`.
    std::optional<PerfMapSymbol> find(uint64_t address) const;

    // Disjoint address ranges known (an overridden function may be split).
    size_t size() const noexcept { return ranges_.size(); }
    // The file read, empty for a parsed map.
    const std::string& path() const noexcept { return path_; }

private:
    struct Range {
        uint64_t end;           // exclusive
        uint64_t symbol_start;  // START of the line, which a split range keeps
        size_t name_offset;
        size_t name_length;
    };

    // Parses one line (no newline) and counts it; false once the line cap
    // is met, and the map cut.
    bool take_line(std::string_view line);
    void cut(std::string reason);
    void add(uint64_t start, uint64_t end, std::string_view name);

    std::map<uint64_t, Range> ranges_;  // by start
    std::string names_;                 // every name read, back to back
    UniqueFd file_;
    std::string path_;
    uint64_t read_offset_ = 0;  // first byte of the file not parsed yet
    PerfMapLimits limits_;
    uint64_t lines_read_ = 0;
    bool skipping_line_ = false;  // read_offset_ is inside a line too long to keep
    std::string cut_reason_;
};

}  // namespace waketrace::detail
