// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/symbolizer.hpp"

#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "symbolize/demangle.hpp"
#include "symbolize/mapped_file.hpp"

namespace waketrace::detail {

namespace {

constexpr std::string_view vmlinux_module = "[kernel]";

Frame unresolved_frame(uint64_t address, std::string_view module) {
    Frame frame;
    frame.address = address;
    frame.module = module;
    return frame;
}

}  // namespace

bool Symbolizer::FileKey::operator<(const FileKey& other) const {
    return std::tie(dev_major, dev_minor, inode, path) <
           std::tie(other.dev_major, other.dev_minor, other.inode, other.path);
}

Symbolizer::Symbolizer(Log log, std::string kallsyms_path)
    : log_(std::move(log)), kallsyms_path_(std::move(kallsyms_path)) {}

void Symbolizer::log(LogLevel level, std::string_view message) const {
    if (log_)
        log_(level, message);
}

// --- processes -------------------------------------------------------------

void Symbolizer::remember_process(uint32_t tgid) {
    try {
        if (std::optional<ProcessMaps> maps = ProcessMaps::read(tgid))
            store_maps(tgid, std::move(*maps));
    } catch (const Error&) {
        // No access to this process: its frames will stay unresolved, and
        // user_frames() says so when they are asked for.
    }
}

void Symbolizer::store_maps(uint32_t tgid, ProcessMaps maps) {
    std::lock_guard<std::mutex> lock(processes_mutex_);
    MapsPtr& stored = processes_[tgid];
    // A zombie's maps read as empty: the snapshot taken while it ran is better.
    if (maps.empty() && stored && !stored->empty())
        return;
    stored = std::make_shared<const ProcessMaps>(std::move(maps));
}

Symbolizer::MapsPtr Symbolizer::maps_of(uint32_t tgid) {
    {
        std::lock_guard<std::mutex> lock(processes_mutex_);
        auto found = processes_.find(tgid);
        if (found != processes_.end())
            return found->second;
    }
    // Never announced (or announced too late): read now, and remember even a
    // failure as empty maps so the next stack of this process is not re-read.
    std::optional<ProcessMaps> maps;
    try {
        maps = ProcessMaps::read(tgid);
    } catch (const Error& error) {
        log(LogLevel::debug, fmt::format("process {}: {}", tgid, error.what()));
    }
    store_maps(tgid, maps ? std::move(*maps) : ProcessMaps());
    std::lock_guard<std::mutex> lock(processes_mutex_);
    return processes_[tgid];
}

// --- kernel ----------------------------------------------------------------

const KernelSymbols* Symbolizer::kernel_symbols() {
    if (!kernel_load_attempted_) {
        kernel_load_attempted_ = true;
        try {
            kernel_ = KernelSymbols::load(kallsyms_path_);
            if (kernel_->addresses_hidden())
                log(LogLevel::warning,
                    fmt::format("{} hides kernel addresses: kernel frames stay unresolved "
                                "(run as root, or set kernel.kptr_restrict=0)",
                                kallsyms_path_));
        } catch (const Error& error) {
            log(LogLevel::warning,
                fmt::format("kernel frames stay unresolved: {}", error.what()));
        }
    }
    return kernel_ ? &*kernel_ : nullptr;
}

std::vector<Frame> Symbolizer::kernel_frames(const std::vector<uint64_t>& addresses) {
    std::lock_guard<std::mutex> lock(symbolize_mutex_);
    const KernelSymbols* symbols = kernel_symbols();
    std::vector<Frame> frames;
    frames.reserve(addresses.size());
    for (uint64_t address : addresses)
        frames.push_back(symbols ? symbols->resolve(address)
                                 : unresolved_frame(address, vmlinux_module));
    return frames;
}

// --- user ------------------------------------------------------------------

std::vector<Frame> Symbolizer::user_frames(uint32_t tgid, const std::vector<uint64_t>& addresses) {
    std::lock_guard<std::mutex> lock(symbolize_mutex_);
    MapsPtr maps = maps_of(tgid);
    ProcessFrames& cache = frame_cache_[tgid];
    if (cache.maps != maps) {
        // remember_process() refreshed the snapshot: addresses may mean
        // other files now.
        cache.by_address.clear();
        cache.maps = maps;
    }

    std::vector<Frame> frames;
    frames.reserve(addresses.size());
    for (uint64_t address : addresses) {
        auto [cached, inserted] = cache.by_address.try_emplace(address);
        if (inserted)
            cached->second = user_frame(tgid, *maps, address);
        frames.push_back(cached->second);
    }
    return frames;
}

Frame Symbolizer::user_frame(uint32_t tgid, const ProcessMaps& maps, uint64_t address) {
    const Mapping* mapping = maps.find(address);
    if (!mapping)
        return unresolved_frame(address, {});
    Frame frame = unresolved_frame(address, mapping->path);
    if (!mapping->is_file())
        return frame;
    const ElfSymbols* elf = elf_symbols_of(tgid, *mapping);
    if (!elf)
        return frame;
    uint64_t file_offset = address - mapping->start + mapping->file_offset;
    if (std::optional<ResolvedSymbol> symbol = elf->lookup_file_offset(file_offset)) {
        frame.symbol = demangle(symbol->name);
        frame.offset = symbol->offset;
    }
    return frame;
}

const ElfSymbols* Symbolizer::elf_symbols_of(uint32_t tgid, const Mapping& mapping) {
    FileKey key{mapping.dev_major, mapping.dev_minor, mapping.inode, mapping.path};
    auto [entry, inserted] = elf_files_.try_emplace(std::move(key));
    if (!inserted)
        return entry->second.get();

    UniqueFd fd = open_mapped_file(tgid, mapping);
    if (!fd) {
        log(LogLevel::debug, fmt::format("cannot open {}{} mapped by process {}", mapping.path,
                                         mapping.deleted ? " (deleted)" : "", tgid));
        return nullptr;
    }
    try {
        entry->second =
            std::make_unique<const ElfSymbols>(ElfSymbols::load(std::move(fd), mapping.path));
    } catch (const Error& error) {
        log(LogLevel::debug, fmt::format("no symbols from {}", error.what()));
    }
    return entry->second.get();
}

}  // namespace waketrace::detail
