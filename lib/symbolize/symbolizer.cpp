// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/symbolizer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "symbolize/build_id.hpp"
#include "symbolize/debug_symbols.hpp"
#include "process/private_copy.hpp"

namespace waketrace::detail {

namespace {

constexpr std::string_view vmlinux_module = "[kernel]";

// Named frames kept per process snapshot; past it the cache starts again.
constexpr size_t kMaxNamedAddressesPerImage = 1 << 16;

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

Symbolizer::Symbolizer(Log log, std::string kallsyms_path, std::vector<std::string> debug_directories)
    : kallsyms_path_(std::move(kallsyms_path)),
      debuginfo_path_(debuginfo_path_for(debug_directories)),
      unreadable_(std::move(log)),
      processes_(unreadable_) {}

Symbolizer::~Symbolizer() = default;

size_t Symbolizer::files_parsed() const { return files_parsed_.load(); }

void Symbolizer::forget_runs_before(uint64_t run) {
    std::vector<uint32_t> forgotten = processes_.forget_runs_before(run);
    // A tgid may come back as another process: its JIT symbols must not.
    std::lock_guard<std::mutex> lock(symbolize_mutex_);
    for (uint32_t tgid : forgotten)
        perf_maps_.erase(tgid);
}

// --- forgetting ------------------------------------------------------------

Symbolizer::FileKey Symbolizer::key_of(const Mapping& mapping) {
    return {mapping.dev_major, mapping.dev_minor, mapping.inode, mapping.path};
}

void Symbolizer::forget_processes(const std::vector<ProcessRegistry::Exited>& processes) {
    processes_.forget(processes);
    std::lock_guard<std::mutex> lock(symbolize_mutex_);
    for (const ProcessRegistry::Exited& process : processes)
        perf_maps_.erase(process.tgid);
}

void Symbolizer::forget_unused_files(uint64_t kept_generations) {
    // Kept whatever their use: the files of the processes remembered, and
    // of the snapshots still held elsewhere whose frames were named.
    std::set<FileKey> mapped;
    auto add_files = [&](const ProcessSnapshot& process) {
        for (const Mapping& mapping : process.maps().mappings())
            if (mapping.executable && mapping.is_file())
                mapped.insert(key_of(mapping));
    };
    processes_.for_each_image(add_files);
    std::lock_guard<std::mutex> lock(symbolize_mutex_);
    for (const auto& [address, frames] : frame_cache_)
        if (ProcessImage held = frames.snapshot.lock())
            add_files(*held);
    ++generation_;
    for (auto it = files_.begin(); it != files_.end();) {
        const bool unused = it->second.used_in + kept_generations < generation_;
        it = unused && !mapped.count(it->first) ? files_.erase(it) : std::next(it);
    }
    // A parse shared by build-id goes with the last key that uses it.
    for (auto it = files_by_build_id_.begin(); it != files_by_build_id_.end();)
        it = it->second.use_count() == 1 ? files_by_build_id_.erase(it) : std::next(it);
    for (auto it = frame_cache_.begin(); it != frame_cache_.end();)
        it = it->second.snapshot.expired() ? frame_cache_.erase(it) : std::next(it);
    processes_.forget_unused_copies(kept_generations);
}

Symbolizer::CacheSizes Symbolizer::cache_sizes() {
    CacheSizes sizes;
    sizes.processes = processes_.size();
    sizes.pinned_files = processes_.pinned_files();
    sizes.file_copies = processes_.file_copies();
    std::lock_guard<std::mutex> lock(symbolize_mutex_);
    std::set<const DebugSymbols*> parses;
    for (const auto& [key, file] : files_)
        if (file.symbols)
            parses.insert(file.symbols.get());
    sizes.parsed_files = parses.size();
    sizes.named_images = frame_cache_.size();
    for (const auto& [snapshot, frames] : frame_cache_)
        sizes.named_frames += frames.by_address.size();
    sizes.perf_maps = perf_maps_.size();
    return sizes;
}

// --- kernel ----------------------------------------------------------------

const KernelSymbols* Symbolizer::kernel_symbols() {
    if (!kernel_load_attempted_) {
        kernel_load_attempted_ = true;
        try {
            kernel_ = KernelSymbols::load(kallsyms_path_);
            if (kernel_->addresses_hidden())
                log(LogLevel::warning, fmt::format("{} hides kernel addresses: kernel frames stay unresolved "
                                                   "(run as root, or set kernel.kptr_restrict=0)",
                                                   kallsyms_path_));
        } catch (const Error& error) {
            log(LogLevel::warning, fmt::format("kernel frames stay unresolved: {}", error.what()));
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
        frames.push_back(symbols ? symbols->resolve(address) : unresolved_frame(address, vmlinux_module));
    return frames;
}

void Symbolizer::prepare(const std::vector<uint32_t>& tgids, const std::atomic<bool>& cancelled) {
    {
        std::lock_guard<std::mutex> lock(symbolize_mutex_);
        kernel_symbols();
    }
    for (uint32_t tgid : tgids) {
        const ProcessImage process = processes_.image(tgid);
        for (const Mapping& mapping : process->maps().mappings()) {
            if (cancelled.load(std::memory_order_relaxed))
                return;
            if (!mapping.executable || !mapping.is_file())
                continue;
            std::lock_guard<std::mutex> lock(symbolize_mutex_);
            if (DebugSymbols* symbols = debug_symbols_of(*process, mapping))
                symbols->load_debug_info();
        }
    }
}

// --- user ------------------------------------------------------------------

std::vector<Frame> Symbolizer::user_frames(uint32_t tgid, const std::vector<uint64_t>& addresses) {
    return user_frames(processes_.image(tgid), addresses);
}

std::vector<Frame> Symbolizer::user_frames(const ProcessImage& snapshot,
                                           const std::vector<uint64_t>& addresses) {
    std::lock_guard<std::mutex> lock(symbolize_mutex_);
    ProcessFrames& cache = frames_of(snapshot);
    // A process that runs for ever with new code (a JIT) would fill it.
    if (cache.by_address.size() > kMaxNamedAddressesPerImage)
        cache.by_address.clear();
    std::vector<Frame> frames;
    frames.reserve(addresses.size());
    for (uint64_t address : addresses) {
        auto [cached, inserted] = cache.by_address.try_emplace(address);
        if (inserted)
            cached->second = frames_at(*snapshot, address);
        frames.insert(frames.end(), cached->second.begin(), cached->second.end());
    }
    return frames;
}

Symbolizer::ProcessFrames& Symbolizer::frames_of(const ProcessImage& snapshot) {
    if (frame_cache_.size() >= frame_cache_sweep_at_) {
        for (auto it = frame_cache_.begin(); it != frame_cache_.end();)
            it = it->second.snapshot.expired() ? frame_cache_.erase(it) : std::next(it);
        frame_cache_sweep_at_ = std::max<size_t>(8, 2 * frame_cache_.size());
    }
    ProcessFrames& cache = frame_cache_[snapshot.get()];
    if (cache.snapshot.lock() != snapshot)  // new, or a dead snapshot's address reused
        cache = ProcessFrames{snapshot, {}};
    return cache;
}

// Innermost first: the functions inlined at `address`, then the one holding it.
std::vector<Frame> Symbolizer::frames_at(const ProcessSnapshot& process, uint64_t address) {
    const Mapping* mapping = process.maps().find(address);
    if (!mapping)
        return {unresolved_frame(address, {})};
    if (!mapping->is_file())
        return jit_frames_at(process.tgid(), *mapping, address);
    // Kept on every frame, named or not, so that another tool holding the
    // file can name it (pprof's mappings).
    const uint64_t file_offset = address - mapping->start + mapping->file_offset;
    DebugSymbols* symbols = debug_symbols_of(process, *mapping);
    std::vector<Frame> frames;
    if (symbols)
        frames = symbols->frames_at_file_offset(file_offset);
    if (frames.empty())
        frames.push_back(unresolved_frame(address, mapping->path));
    for (Frame& frame : frames) {
        frame.address = address;
        frame.module = mapping->path;
        frame.file_offset = file_offset;
        if (symbols)
            frame.build_id = symbols->build_id();
    }
    return frames;
}

// Anonymous executable memory is JIT code, named (if at all) by the perf
// map the JIT writes. Read at the first such address, and again on a miss,
// since JITs append as they compile.
std::vector<Frame> Symbolizer::jit_frames_at(uint32_t tgid, const Mapping& mapping, uint64_t address) {
    Frame frame = unresolved_frame(address, mapping.path);
    if (!mapping.executable || !mapping.path.empty())
        return {frame};  // [vdso], [heap], [stack] and data: no perf map names them
    auto [entry, inserted] = perf_maps_.try_emplace(tgid);
    std::optional<PerfMap>& perf_map = entry->second;
    const bool was_cut = perf_map && !perf_map->cut_reason().empty();
    try {
        if (inserted)
            perf_map = PerfMap::read(tgid);
        else if (perf_map && !perf_map->find(address))
            perf_map->update();
    } catch (const Error& error) {
        log(LogLevel::debug, fmt::format("process {}: perf map: {}", tgid, error.what()));
    }
    if (perf_map && !was_cut && !perf_map->cut_reason().empty())
        log(LogLevel::warning,
            fmt::format("process {}: perf map {} {}: JIT functions written after that stay "
                        "unresolved",
                        tgid, perf_map->path(), perf_map->cut_reason()));
    if (perf_map) {
        if (std::optional<PerfMapSymbol> symbol = perf_map->find(address)) {
            frame.symbol = std::string(symbol->name);
            frame.offset = symbol->offset;
            frame.module = perf_map->path();
        }
    }
    return {frame};
}

DebugSymbols* Symbolizer::debug_symbols_of(const ProcessSnapshot& process, const Mapping& mapping) {
    auto [entry, inserted] = files_.try_emplace(key_of(mapping));
    entry->second.used_in = generation_;
    if (inserted) {
        int error = 0;
        entry->second.symbols = parse_file(process, mapping, error);
        if (!entry->second.symbols && UnreadableFiles::is_shortage(error)) {
            files_.erase(entry);
            return nullptr;
        }
    }
    return entry->second.symbols.get();
}

// A file is known by its contents: another path, inode or container with the
// same build-id and the same bytes reuses what was parsed.
std::shared_ptr<DebugSymbols> Symbolizer::parse_file(const ProcessSnapshot& process, const Mapping& mapping,
                                                     int& error) {
    UniqueFd copy = processes_.open_copy(process, mapping, error);
    if (!copy)
        return nullptr;
    std::string build_id = read_build_id(copy.get());
    if (!build_id.empty()) {
        if (std::shared_ptr<DebugSymbols> same = parsed_copy(build_id, copy))
            return same;
    }
    std::shared_ptr<DebugSymbols> symbols;
    try {
        ++files_parsed_;
        symbols = std::make_shared<DebugSymbols>(
            std::move(copy), mapping.path, debuginfo_path_,
            [this](int errno_value, std::string_view message) { unreadable_.report(errno_value, message); });
        if (symbols->symbol_count() == 0)
            log(LogLevel::debug,
                fmt::format("{}: no function symbols (stripped, and no debug file found)", mapping.path));
    } catch (const Error& parse_error) {
        error = parse_error.errno_value();
        if (error == ENOEXEC)
            log(LogLevel::debug, fmt::format("no symbols from {}", parse_error.what()));
        else
            unreadable_.report(error, parse_error.what());
        return nullptr;  // never cached by build-id: the genuine file may share it
    }
    if (!build_id.empty())
        files_by_build_id_.emplace(std::move(build_id), symbols);
    return symbols;
}

std::shared_ptr<DebugSymbols> Symbolizer::parsed_copy(const std::string& build_id,
                                                      const UniqueFd& copy) const {
    auto [first, last] = files_by_build_id_.equal_range(build_id);
    for (auto candidate = first; candidate != last; ++candidate) {
        if (has_contents(copy.get(), candidate->second->contents()))
            return candidate->second;
    }
    return nullptr;
}

}  // namespace waketrace::detail
