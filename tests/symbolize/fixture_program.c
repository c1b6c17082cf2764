// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A non-PIE (ET_EXEC) program for the symbolizer tests: prints the address of
// one of its functions, then waits to be killed so another process can read
// its maps.
#include <stdio.h>
#include <unistd.h>

int symfixture_program_worker(int value);

int symfixture_program_worker(int value) {
    int result = value + 11;
    return result * 5;
}

int main(void) {
    printf("%p\n", (void *)&symfixture_program_worker);
    fflush(stdout);
    for (;;)
        pause();
}
