// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A program whose debug info the tests move elsewhere (a build-id directory,
// a .gnu_debuglink file, a debuginfod server) before stripping it. It prints
// "RETURN_ADDRESS WORKER_ADDRESS": a return address inside
// symfixture_split_worker, and that function's start; then waits to be
// killed so another process can read its maps.
#include <stdio.h>
#include <unistd.h>

static void* recorded_return_address;

__attribute__((noinline)) static void symfixture_split_record(void) {
    recorded_return_address = __builtin_return_address(0);
}

__attribute__((noinline)) int symfixture_split_worker(int value);

int symfixture_split_worker(int value) {
    symfixture_split_record();  // line: record call
    return value * 3;
}

int main(void) {
    volatile int result = symfixture_split_worker(4);
    (void)result;
    printf("%p %p\n", recorded_return_address, (void*)&symfixture_split_worker);
    fflush(stdout);
    for (;;)
        pause();
}
