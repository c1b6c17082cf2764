// SPDX-License-Identifier: LGPL-2.1-or-later
#include "process/process_snapshot.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>

#include "process/mapped_file.hpp"

namespace waketrace::detail {

namespace {

bool by_identity(const std::pair<FileIdentity, PinnedFiles::Pin>& file, const FileIdentity& identity) {
    return file.first < identity;
}

}  // namespace

std::optional<ProcessSnapshot> ProcessSnapshot::take(uint32_t tgid, PinnedFiles& files) {
    std::optional<ProcessMaps> maps = ProcessMaps::read(tgid);
    if (!maps)
        return std::nullopt;

    auto state = std::make_shared<State>();
    state->tgid = tgid;
    state->maps = std::move(*maps);
    for (const Mapping& mapping : state->maps.mappings()) {
        if (!mapping.executable || !mapping.is_file() || mapping.inode == 0)
            continue;
        FileIdentity identity = FileIdentity::of(mapping);
        auto slot = std::lower_bound(state->files.begin(), state->files.end(), identity, by_identity);
        if (slot != state->files.end() && slot->first == identity)
            continue;  // the same file mapped twice
        if (PinnedFiles::Pin pin = files.pin(tgid, mapping))
            state->files.insert(slot, {identity, std::move(pin)});
    }
    return ProcessSnapshot(std::move(state));
}

std::optional<ProcessSnapshot> ProcessSnapshot::take(uint32_t tgid) {
    PinnedFiles files;
    return take(tgid, files);
}

ProcessSnapshot ProcessSnapshot::empty(uint32_t tgid) {
    auto state = std::make_shared<State>();
    state->tgid = tgid;
    return ProcessSnapshot(std::move(state));
}

UniqueFd ProcessSnapshot::open_file(const Mapping& mapping) const {
    FileIdentity identity = FileIdentity::of(mapping);
    auto found = std::lower_bound(state_->files.begin(), state_->files.end(), identity, by_identity);
    if (found != state_->files.end() && found->first == identity) {
        if (UniqueFd copy(::fcntl(found->second->get(), F_DUPFD_CLOEXEC, 0)); copy)
            return copy;
        if (errno == EMFILE || errno == ENFILE)
            return UniqueFd();  // errno says why; an open would fail alike
    }
    return open_mapped_file(state_->tgid, mapping);
}

}  // namespace waketrace::detail
