// Main of the live BPF tests. They need CAP_BPF + CAP_PERFMON (or root): on a
// machine without them the whole binary is skipped (exit 77, meson's SKIP)
// with a message -- except under CI=true, where it runs and fails, because a
// skipped BPF test is not a passing one.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
    const char* ci = std::getenv("CI");
    const bool under_ci = ci && std::strcmp(ci, "true") == 0;
    if (geteuid() != 0 && !under_ci) {
        std::fprintf(stderr, "SKIP: live BPF tests need root (CAP_BPF and CAP_PERFMON); "
                             "run them with sudo. Under CI=true they fail instead.\n");
        return 77;
    }
    return Catch::Session().run(argc, argv);
}
