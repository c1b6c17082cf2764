// SPDX-License-Identifier: LGPL-2.1-or-later
#include "frame_places.hpp"

#include <fmt/format.h>

using waketrace::detail::Mapping;
using waketrace::test::ElfSymbols;
using waketrace::test::ResolvedSymbol;

namespace unwfixture {

FramePlaces::FramePlaces(std::shared_ptr<const waketrace::detail::ProcessMaps> maps)
    : maps_(std::move(maps)) {}

FramePlace FramePlaces::place_of(uint64_t address) {
    const Mapping* mapping = maps_->find(address);
    if (!mapping || !mapping->is_file())
        return {};
    auto symbols = symbols_.find(mapping->path);
    if (symbols == symbols_.end())
        symbols = symbols_.emplace(mapping->path, ElfSymbols::load(mapping->path)).first;
    std::optional<ResolvedSymbol> symbol =
        symbols->second.lookup_file_offset(address - mapping->start + mapping->file_offset);
    return {mapping->path, symbol ? std::string(symbol->name) : std::string()};
}

std::vector<FramePlace> FramePlaces::places_of(const std::vector<uint64_t>& frames) {
    std::vector<FramePlace> places;
    for (size_t i = 0; i < frames.size(); ++i)
        places.push_back(place_of(i == 0 ? frames[i] : frames[i] - 1));
    return places;
}

std::string describe(const std::vector<uint64_t>& frames, const std::vector<FramePlace>& places) {
    std::string text;
    for (size_t i = 0; i < frames.size() && i < places.size(); ++i)
        text += fmt::format("#{} {:#x} {} ({})\n", i, frames[i], places[i].function, places[i].file);
    return text;
}

}  // namespace unwfixture
