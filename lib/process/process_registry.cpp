// SPDX-License-Identifier: LGPL-2.1-or-later
#include "process/process_registry.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include <fmt/format.h>

namespace waketrace::detail {

void ProcessRegistry::remember(uint32_t tgid) {
    try {
        if (std::optional<ProcessSnapshot> snapshot = ProcessSnapshot::take(tgid, pinned_files_))
            store(std::move(*snapshot));
    } catch (const Error& error) {
        // No access to this process: its frames will stay unresolved, and
        // the symbolizer says so when they are asked for. A lack of fds is
        // worth a warning now.
        if (UnreadableFiles::is_shortage(error.errno_value()))
            report_failure(tgid, error);
    }
}

void ProcessRegistry::store(ProcessSnapshot snapshot) {
    std::lock_guard<std::mutex> lock(mutex_);
    Stored& stored = processes_[snapshot.tgid()];
    stored.run = run_;
    // A zombie's maps read as empty: the snapshot taken while it ran is better.
    if (snapshot.maps().empty() && stored.snapshot && !stored.snapshot->maps().empty())
        return;
    stored.snapshot = std::make_shared<const ProcessSnapshot>(std::move(snapshot));
}

void ProcessRegistry::report_failure(uint32_t tgid, const Error& error) {
    std::string message = fmt::format("process {}: {}", tgid, error.what());
    if (UnreadableFiles::is_shortage(error.errno_value()))
        unreadable_.report(error.errno_value(), message);
    else
        unreadable_.log(LogLevel::debug, message);
}

ProcessImage ProcessRegistry::image(uint32_t tgid) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto found = processes_.find(tgid);
        if (found != processes_.end())
            return found->second.snapshot;
    }
    // Never announced (or announced too late): take it now, and remember
    // even a failure as empty maps so the next stack of this process does
    // not try again.
    std::optional<ProcessSnapshot> snapshot;
    try {
        snapshot = ProcessSnapshot::take(tgid, pinned_files_);
    } catch (const Error& error) {
        report_failure(tgid, error);
    }
    store(snapshot ? std::move(*snapshot) : ProcessSnapshot::empty(tgid));
    std::lock_guard<std::mutex> lock(mutex_);
    return processes_[tgid].snapshot;
}

UniqueFd ProcessRegistry::open_copy(uint32_t tgid, const Mapping& mapping) {
    int error = 0;
    return open_copy(*image(tgid), mapping, error);
}

UniqueFd ProcessRegistry::open_copy(const ProcessSnapshot& process, const Mapping& mapping, int& error) {
    UniqueFd fd = process.open_file(mapping);
    if (!fd) {
        error = errno;
        unreadable_.report(
            error, fmt::format("cannot open {}{} mapped by process {}: {}", mapping.path,
                               mapping.deleted ? " (deleted)" : "", process.tgid(), std::strerror(error)));
        return fd;
    }
    try {
        return copies_.copy_of(fd.get(), mapping.path);
    } catch (const Error& copy_error) {
        error = copy_error.errno_value();
        unreadable_.report(error, copy_error.what());
        return UniqueFd();
    }
}

uint64_t ProcessRegistry::begin_run() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ++run_;
}

std::vector<uint32_t> ProcessRegistry::forget_runs_before(uint64_t run) {
    std::vector<uint32_t> forgotten;
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = processes_.begin(); it != processes_.end();) {
        if (it->second.run < run) {
            forgotten.push_back(it->first);
            it = processes_.erase(it);
        } else {
            ++it;
        }
    }
    return forgotten;
}

std::vector<ProcessRegistry::Exited> ProcessRegistry::exited() {
    std::vector<Exited> stored;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& [tgid, entry] : processes_)
            stored.push_back({tgid, entry.snapshot});
    }
    // kill(pid, 0) sends nothing: ESRCH says no process has the id.
    stored.erase(std::remove_if(stored.begin(), stored.end(),
                                [](const Exited& process) {
                                    return !(::kill(pid_t(process.tgid), 0) != 0 && errno == ESRCH);
                                }),
                 stored.end());
    return stored;
}

void ProcessRegistry::forget(const std::vector<Exited>& processes) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Exited& process : processes) {
        auto found = processes_.find(process.tgid);
        if (found != processes_.end() && found->second.snapshot == process.image)
            processes_.erase(found);
    }
}

void ProcessRegistry::for_each_image(const std::function<void(const ProcessSnapshot&)>& visit) {
    std::vector<ProcessImage> images;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        images.reserve(processes_.size());
        for (const auto& [tgid, entry] : processes_)
            images.push_back(entry.snapshot);
    }
    for (const ProcessImage& image : images)
        visit(*image);
}

size_t ProcessRegistry::size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return processes_.size();
}

}  // namespace waketrace::detail
