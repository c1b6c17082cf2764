// SPDX-License-Identifier: LGPL-2.1-or-later
// Main of the live BPF tests. They need CAP_BPF + CAP_PERFMON (or root): on a
// machine without them the whole binary is skipped (exit 77, meson's SKIP)
// with a message -- except under CI=true, where it runs and fails, because a
// skipped BPF test is not a passing one.
//
// WAKETRACE_LIVE_TESTS, when set, is a Catch test spec added to the command
// line (e.g. "~[precise-timing]"): the emulated kernel guest leaves out the
// tests whose bounds are finer than emulation's timer jitter, and says so.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
    const char* ci = std::getenv("CI");
    const bool under_ci = ci && std::strcmp(ci, "true") == 0;
    if (geteuid() != 0 && !under_ci) {
        std::fprintf(stderr,
                     "SKIP: live BPF tests need root (CAP_BPF and CAP_PERFMON); "
                     "run them with sudo. Under CI=true they fail instead.\n");
        return 77;
    }
    std::vector<char*> args(argv, argv + argc);
    char* spec = std::getenv("WAKETRACE_LIVE_TESTS");
    if (spec && *spec) {
        std::fprintf(stderr, "WAKETRACE_LIVE_TESTS: running the tests that match \"%s\"\n", spec);
        args.push_back(spec);
    }
    return Catch::Session().run(int(args.size()), args.data());
}
