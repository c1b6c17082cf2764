// SPDX-License-Identifier: LGPL-2.1-or-later
//
// wt-idlers: a process with THREADS threads that stay off CPU: each blocks
// in read() on one pipe until a line (or end of file) arrives on standard
// input, when the pipe's write end is closed and they all return and exit.
// What a profiler's per-thread state meets in a server with a large idle
// thread pool (bench/scale.py).
//
//   wt-idlers [-t THREADS]
//
// Prints "ready threads=N" once every thread has been created.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int pipe_fds[2];

static void die(const char* what, int err) {
    fprintf(stderr, "wt-idlers: %s: %s\n", what, strerror(err));
    exit(1);
}

static void* idle(void* unused) {
    (void)unused;
    char byte;
    while (read(pipe_fds[0], &byte, 1) < 0 && errno == EINTR) {
    }
    return NULL;
}

int main(int argc, char** argv) {
    long threads = 10000;
    int opt;
    while ((opt = getopt(argc, argv, "t:")) != -1) {
        if (opt != 't' || (threads = strtol(optarg, NULL, 10)) <= 0 || threads > 100000) {
            fprintf(stderr, "usage: wt-idlers [-t THREADS]\n");
            return 2;
        }
    }
    if (pipe(pipe_fds) != 0)
        die("pipe", errno);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);  // 10,000 threads in 640 MiB of address space
    pthread_t* ids = calloc((size_t)threads, sizeof(*ids));
    if (!ids)
        die("calloc", errno);
    for (long i = 0; i < threads; i++) {
        int err = pthread_create(&ids[i], &attr, idle, NULL);
        if (err)
            die("pthread_create", err);
    }
    pthread_attr_destroy(&attr);
    printf("ready threads=%ld\n", threads);
    fflush(stdout);
    char line[16];
    (void)!fgets(line, sizeof(line), stdin);
    close(pipe_fds[1]);
    for (long i = 0; i < threads; i++)
        pthread_join(ids[i], NULL);
    free(ids);
    return 0;
}
