// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Prints the folded line of a three-level relay chain (builders.hpp) for
// test_flamegraph_chain.py to render with flamegraph.pl. The first argument
// names how the chain ends: "complete" (the default) or "depth_reached"; a
// second argument "text" prints the text layout instead.
#include <cstdio>
#include <string_view>

#include "format/format.hpp"

#include "builders.hpp"

int main(int argc, char** argv) {
    using namespace waketrace;
    const bool truncated = argc > 1 && std::string_view(argv[1]) == "depth_reached";
    const WakeChain relay = test::relay_chain(3, truncated ? ChainEnd::depth_reached : ChainEnd::complete);
    const bool text = argc > 2 && std::string_view(argv[2]) == "text";
    const Profile profile = test::profile_of({relay});
    const std::string out =
        text ? format_text(profile, FormatOptions{}) : format_folded(profile, FormatOptions{});
    std::fputs(out.c_str(), stdout);
    return std::ferror(stdout) ? 1 : 0;
}
