// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Addresses -> named frames, for kernel and user stacks. The one object of
// this folder the profiler talks to.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "process/process_maps.hpp"
#include "process/process_registry.hpp"
#include "process/unreadable_files.hpp"
#include "support/unique_fd.hpp"
#include "symbolize/kernel_symbols.hpp"
#include "symbolize/perf_map.hpp"
#include "waketrace/config.hpp"
#include "waketrace/profile.hpp"

namespace waketrace::detail {

class DebugSymbols;

class Symbolizer {
public:
    using Log = std::function<void(LogLevel, std::string_view)>;

    // Cheap: nothing is read until frames are asked for. `log` receives why
    // symbols are missing (kallsyms hidden, unreadable files, perf maps cut
    // at their cap); it is called from the thread of whichever call found
    // out (kernel_frames(), user_frames(), prepare(), and the process registry
    // or open_file() when no fd is left). Separate
    // debug files are looked for under `debug_directories` by build-id
    // (DIR/.build-id/xx/rest.debug) and by .gnu_debuglink (beside the file,
    // in its .debug/, and under DIR/<file's directory>/), and through
    // debuginfod when DEBUGINFOD_URLS is set in the environment.
    explicit Symbolizer(Log log = {}, std::string kallsyms_path = "/proc/kallsyms",
                        std::vector<std::string> debug_directories = {"/usr/lib/debug"});
    ~Symbolizer();
    Symbolizer(const Symbolizer&) = delete;
    Symbolizer& operator=(const Symbolizer&) = delete;

    // The processes whose frames this names: remember them there (on
    // announcement, on exec) so that their frames can be named later.
    ProcessRegistry& processes() { return processes_; }

    // Kernel stack addresses -> frames. Loads kallsyms on the first call.
    // Never throws: what cannot be resolved keeps its address, module "[kernel]".
    std::vector<Frame> kernel_frames(const std::vector<uint64_t>& addresses);

    // User stack addresses of process `tgid` -> frames (module = mapped file
    // path, or the perf map naming JIT code), with source file and line when
    // DWARF has them. Functions inlined
    // at an address come first, as frames of their own (inlined = true, the
    // same address), so there may be more frames than addresses. Uses the
    // remembered maps, or reads them now for a process never remembered.
    // Never throws for what cannot be resolved: such frames keep their
    // address, and their module when the address is mapped.
    std::vector<Frame> user_frames(uint32_t tgid, const std::vector<uint64_t>& addresses);
    // The same for addresses taken in `image` of the process, even if the
    // process has exec'd since (--dwarf stacks know their image).
    std::vector<Frame> user_frames(const ProcessImage& image, const std::vector<uint64_t>& addresses);

    // Runs (ProcessRegistry::begin_run): forget_runs_before() also drops the
    // perf maps of the processes it forgets, since a tgid may come back as
    // another process. Thread-safe.
    uint64_t begin_run() { return processes_.begin_run(); }
    void forget_runs_before(uint64_t run);

    // Drains (a profiler drained for ever must not keep all it met):
    // forget_processes() drops exited processes no record names any more
    // (decode/record_references.hpp) with their JIT symbols;
    // forget_unused_files() ends a generation (the time between two drains)
    // and drops the parsed files no remembered process maps and no frame
    // needed in the last `kept_generations` generations, the private copies
    // not handed out in them, and the named frames of snapshots no one
    // holds. A file dropped and needed again is parsed again, from the same
    // bytes, so no frame changes its name. Thread-safe.
    void forget_processes(const std::vector<ProcessRegistry::Exited>& processes);
    void forget_unused_files(uint64_t kept_generations);

    // What is held, for tests and stats.
    struct CacheSizes {
        size_t processes = 0;     // snapshots remembered
        size_t pinned_files = 0;  // files held open for them
        size_t file_copies = 0;   // private copies kept for the next reader
        size_t parsed_files = 0;  // files with parsed symbols (distinct parses)
        size_t named_images = 0;  // snapshots with named frames cached
        size_t named_frames = 0;  // addresses named in those caches
        size_t perf_maps = 0;     // processes whose JIT symbols were read
    };
    CacheSizes cache_sizes();

    // Loads now what naming frames will need later, so that naming them is
    // quick: kallsyms, and the symbol tables and DWARF of the executable
    // files `tgids` map. Takes the lock a file at a time, so it may run on a
    // thread of its own while frames are asked for, and returns early once
    // `cancelled` is set (what is left is loaded when first needed, as
    // always). Never throws.
    void prepare(const std::vector<uint32_t>& tgids, const std::atomic<bool>& cancelled);

    // How many ELF files were parsed so far. A file is parsed once per
    // contents, however many processes, paths or containers map it: files
    // with the same build-id share one parse only when their bytes are the
    // same too (a build-id is only a claim); files without a build-id are
    // parsed once per (device, inode, path). For tests and stats.
    size_t files_parsed() const;
    // How many times a mapped file (or its debug file) could not be read:
    // not opened (no fd left, gone), above the size cap, not copied. Each
    // lack of resources (EMFILE, ENFILE, ENOMEM, EFBIG) is logged at warning
    // level the first time, others at debug level. A file that failed for
    // want of fds or memory is tried again at the next address that needs
    // it (addresses already named keep their unresolved frames). For tests
    // and stats.
    size_t files_unreadable() const { return unreadable_.count(); }

private:
    // One ELF file however many processes map it.
    struct FileKey {
        uint32_t dev_major;
        uint32_t dev_minor;
        uint64_t inode;
        std::string path;
        bool operator<(const FileKey& other) const;
    };

    // Frames already built for one snapshot of a process. Held weakly: a
    // snapshot replaced by a newer one (exec, a new start()) and no longer
    // used by any stack lets its frames go too, so a profiler started and
    // stopped for ever does not keep every snapshot it ever took.
    struct ProcessFrames {
        std::weak_ptr<const ProcessSnapshot> snapshot;  // expired: the key's memory may be reused
        std::unordered_map<uint64_t, std::vector<Frame>> by_address;
    };

    static FileKey key_of(const Mapping& mapping);
    const KernelSymbols* kernel_symbols();
    ProcessFrames& frames_of(const ProcessImage& snapshot);  // swept of dead snapshots now and then
    std::vector<Frame> frames_at(const ProcessSnapshot& process, uint64_t address);
    std::vector<Frame> jit_frames_at(uint32_t tgid, const Mapping& mapping, uint64_t address);
    DebugSymbols* debug_symbols_of(const ProcessSnapshot& process, const Mapping& mapping);
    // `error`: why nullptr came back (an errno value), 0 when it did not.
    std::shared_ptr<DebugSymbols> parse_file(const ProcessSnapshot& process, const Mapping& mapping,
                                             int& error);
    std::shared_ptr<DebugSymbols> parsed_copy(const std::string& build_id, const UniqueFd& copy) const;
    void log(LogLevel level, std::string_view message) const { unreadable_.log(level, message); }

    std::string kallsyms_path_;
    std::string debuginfo_path_;  // libdwfl's spelling of the debug directories

    UnreadableFiles unreadable_;  // before processes_, which reports to it
    ProcessRegistry processes_;

    // Serialises the frame calls and guards the caches below.
    std::mutex symbolize_mutex_;
    bool kernel_load_attempted_ = false;
    std::optional<KernelSymbols> kernel_;
    // The same parsed file may sit under several keys (paths, inodes) when
    // their build-ids and bytes match.
    struct ParsedFile {
        std::shared_ptr<DebugSymbols> symbols;  // nullptr: unreadable
        uint64_t used_in = 0;                   // the generation it was last asked for in
    };
    std::map<FileKey, ParsedFile> files_;
    uint64_t generation_ = 0;  // forget_unused_files() calls so far
    // Only files parsed successfully, and several per build-id when files
    // claim one build-id with different bytes: a forged build-id or a
    // corrupted copy never stands in for the genuine file.
    std::unordered_multimap<std::string, std::shared_ptr<DebugSymbols>> files_by_build_id_;
    std::atomic<size_t> files_parsed_{0};  // read without the lock by files_parsed()
    std::unordered_map<const ProcessSnapshot*, ProcessFrames> frame_cache_;
    size_t frame_cache_sweep_at_ = 8;  // entries; twice the live ones after a sweep
    // JIT symbols, read at the first address in anonymous executable memory;
    // nullopt: the process has no perf map.
    std::unordered_map<uint32_t, std::optional<PerfMap>> perf_maps_;
};

}  // namespace waketrace::detail
