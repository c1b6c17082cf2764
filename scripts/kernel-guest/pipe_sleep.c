// SPDX-License-Identifier: LGPL-2.1-or-later
// A small dynamically linked program that blocks in libc's exported read()
// and clock_nanosleep() a few times and exits: in-guest.sh traces it with
// `waketrace -f` to see whether libc's frames are named in frame-pointer
// mode.
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
    }
    const struct timespec pause = {0, 20 * 1000 * 1000};
    for (int round = 0; round < 5; round++) {
        if (fork() == 0) {
            // The child writes once the parent has had time to block in read().
            clock_nanosleep(CLOCK_MONOTONIC, 0, &pause, NULL);
            _exit(write(fds[1], "x", 1) == 1 ? 0 : 1);
        }
        char byte;
        if (read(fds[0], &byte, 1) != 1) {
            perror("read");
            return 1;
        }
        wait(NULL);
        clock_nanosleep(CLOCK_MONOTONIC, 0, &pause, NULL);
    }
    return 0;
}
