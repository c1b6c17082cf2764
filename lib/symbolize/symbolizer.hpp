// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Addresses -> named frames, for kernel and user stacks. The one object of
// this folder the profiler talks to.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "symbolize/elf_symbols.hpp"
#include "symbolize/kernel_symbols.hpp"
#include "symbolize/process_maps.hpp"
#include "waketrace/profiler.hpp"

namespace waketrace::detail {

class Symbolizer {
public:
    using Log = std::function<void(LogLevel, std::string_view)>;

    // Cheap: nothing is read until frames are asked for. `log` receives why
    // symbols are missing (kallsyms hidden, unreadable files); it is only
    // called from kernel_frames() and user_frames().
    explicit Symbolizer(Log log = {}, std::string kallsyms_path = "/proc/kallsyms");
    Symbolizer(const Symbolizer&) = delete;
    Symbolizer& operator=(const Symbolizer&) = delete;

    // Snapshots /proc/TGID/maps now, so the process's frames can still be
    // named after it exits. Calling again refreshes the snapshot. Silently
    // does nothing when the maps cannot be read (process gone, no access).
    // Thread-safe: may run concurrently with the frame calls.
    void remember_process(uint32_t tgid);

    // Kernel stack addresses -> frames. Loads kallsyms on the first call.
    // Never throws: what cannot be resolved keeps its address, module "[kernel]".
    std::vector<Frame> kernel_frames(const std::vector<uint64_t>& addresses);

    // User stack addresses of process `tgid` -> frames (module = mapped file
    // path). Uses the remembered maps, or reads them now for a process never
    // remembered. Never throws for what cannot be resolved: such frames keep
    // their address, and their module when the address is mapped.
    std::vector<Frame> user_frames(uint32_t tgid, const std::vector<uint64_t>& addresses);

private:
    using MapsPtr = std::shared_ptr<const ProcessMaps>;

    // One ELF file however many processes map it.
    struct FileKey {
        uint32_t dev_major;
        uint32_t dev_minor;
        uint64_t inode;
        std::string path;
        bool operator<(const FileKey& other) const;
    };

    // Frames already built for one process, valid for one maps snapshot.
    struct ProcessFrames {
        MapsPtr maps;
        std::unordered_map<uint64_t, Frame> by_address;
    };

    void store_maps(uint32_t tgid, ProcessMaps maps);
    MapsPtr maps_of(uint32_t tgid);
    const KernelSymbols* kernel_symbols();
    Frame user_frame(uint32_t tgid, const ProcessMaps& maps, uint64_t address);
    const ElfSymbols* elf_symbols_of(uint32_t tgid, const Mapping& mapping);
    void log(LogLevel level, std::string_view message) const;

    Log log_;
    std::string kallsyms_path_;

    // Held only to look up or replace a snapshot, never during file I/O.
    std::mutex processes_mutex_;
    std::unordered_map<uint32_t, MapsPtr> processes_;

    // Serialises the frame calls and guards the caches below.
    std::mutex symbolize_mutex_;
    bool kernel_load_attempted_ = false;
    std::optional<KernelSymbols> kernel_;
    std::map<FileKey, std::unique_ptr<const ElfSymbols>> elf_files_;  // nullptr: unreadable
    std::unordered_map<uint32_t, ProcessFrames> frame_cache_;
};

}  // namespace waketrace::detail
