// SPDX-License-Identifier: LGPL-2.1-or-later
//
// wt-pingpong: two threads pass a token back and forth N times, through a
// pipe pair or a futex word, so the number of context switches is known:
// each round trip switches from each thread to the other once, 2*N in all.
// Pinned to one CPU, every one of them is a direct thread-to-thread switch.
//
//   wt-pingpong [-m pipe|futex] [-c same|cross|none] [-n ROUND_TRIPS] [-w]
//
// -w waits for a line on standard input before starting, so a profiler can
// be attached to this process (by pid) first.
//
// Prints one line of key=value pairs: elapsed_ns (first send to last
// receive), switches (2*N, the expected count) and counted_switches (what
// getrusage counted for the two threads, voluntary + involuntary: on one CPU
// the woken thread often preempts the waker before it blocks, so some of the
// 2*N switches are involuntary, but the total stays 2*N).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum mode { MODE_PIPE, MODE_FUTEX };
enum pinning { PIN_NONE, PIN_SAME, PIN_CROSS };

struct shared {
    enum mode mode;
    long round_trips;
    int to_pong[2];        // pipe: ping writes [1], pong reads [0]
    int to_ping[2];
    _Atomic uint32_t turn;  // futex: 0 = ping's turn, 1 = pong's turn
    int cpu;               // CPU for the pong thread, -1: not pinned
    long pong_switches;
};

static void die(const char* what) {
    fprintf(stderr, "wt-pingpong: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void pin_self(int cpu) {
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    if (err) {
        errno = err;
        die("pthread_setaffinity_np");
    }
}

static long thread_switches(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_THREAD, &usage) != 0)
        die("getrusage");
    return usage.ru_nvcsw + usage.ru_nivcsw;
}

static void pipe_send(int fd) {
    char token = 't';
    if (write(fd, &token, 1) != 1)
        die("write");
}

static void pipe_receive(int fd) {
    char token;
    if (read(fd, &token, 1) != 1)
        die("read");
}

static void futex_wait(_Atomic uint32_t* word, uint32_t while_value) {
    while (atomic_load(word) == while_value) {
        if (syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, while_value, NULL, NULL, 0) != 0 &&
            errno != EAGAIN && errno != EINTR)
            die("futex wait");
    }
}

static void futex_pass(_Atomic uint32_t* word, uint32_t to) {
    atomic_store(word, to);
    if (syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0)
        die("futex wake");
}

static void* pong(void* arg) {
    struct shared* s = arg;
    pin_self(s->cpu);
    const long before = thread_switches();
    for (long i = 0; i < s->round_trips + 1; i++) {  // + the warm-up
        if (s->mode == MODE_PIPE) {
            pipe_receive(s->to_pong[0]);
            pipe_send(s->to_ping[1]);
        } else {
            futex_wait(&s->turn, 0);
            futex_pass(&s->turn, 0);
        }
    }
    s->pong_switches = thread_switches() - before;
    return NULL;
}

static void ping(struct shared* s, long round_trips) {
    for (long i = 0; i < round_trips; i++) {
        if (s->mode == MODE_PIPE) {
            pipe_send(s->to_pong[1]);
            pipe_receive(s->to_ping[0]);
        } else {
            futex_pass(&s->turn, 1);
            futex_wait(&s->turn, 1);
        }
    }
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void usage(void) {
    fprintf(stderr, "usage: wt-pingpong [-m pipe|futex] [-c same|cross|none] [-n ROUND_TRIPS] [-w]\n");
    exit(2);
}

int main(int argc, char** argv) {
    struct shared s = {.mode = MODE_PIPE, .round_trips = 100000, .cpu = -1};
    enum pinning pinning = PIN_SAME;
    int wait_for_go = 0;
    int opt;
    while ((opt = getopt(argc, argv, "m:c:n:w")) != -1) {
        if (opt == 'w')
            wait_for_go = 1;
        else if (opt == 'm' && strcmp(optarg, "pipe") == 0)
            s.mode = MODE_PIPE;
        else if (opt == 'm' && strcmp(optarg, "futex") == 0)
            s.mode = MODE_FUTEX;
        else if (opt == 'c' && strcmp(optarg, "same") == 0)
            pinning = PIN_SAME;
        else if (opt == 'c' && strcmp(optarg, "cross") == 0)
            pinning = PIN_CROSS;
        else if (opt == 'c' && strcmp(optarg, "none") == 0)
            pinning = PIN_NONE;
        else if (opt == 'n' && (s.round_trips = strtol(optarg, NULL, 10)) > 0)
            continue;
        else
            usage();
    }
    if (optind != argc)
        usage();
    if (wait_for_go) {
        char line[64];
        if (!fgets(line, sizeof(line), stdin))
            return 1;
    }
    if (pipe(s.to_pong) != 0 || pipe(s.to_ping) != 0)
        die("pipe");

    // Ping stays on CPU 0 (the last CPU when there is just one); pong joins
    // it or takes the next one.
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    const int ping_cpu = pinning == PIN_NONE ? -1 : 0;
    s.cpu = pinning == PIN_NONE ? -1 : pinning == PIN_SAME ? 0 : (cpus > 1 ? 1 : 0);
    pin_self(ping_cpu);

    pthread_t thread;
    int err = pthread_create(&thread, NULL, pong, &s);
    if (err) {
        errno = err;
        die("pthread_create");
    }
    // One warm-up round trip, so the thread's start-up is not timed.
    ping(&s, 1);
    const long ping_before = thread_switches();
    const int64_t start = now_ns();
    ping(&s, s.round_trips);
    const int64_t elapsed = now_ns() - start;
    const long ping_switches = thread_switches() - ping_before;
    pthread_join(thread, NULL);

    printf("workload=pingpong mode=%s pinning=%s round_trips=%ld elapsed_ns=%lld switches=%ld "
           "counted_switches=%ld\n",
           s.mode == MODE_PIPE ? "pipe" : "futex",
           pinning == PIN_SAME ? "same" : pinning == PIN_CROSS ? "cross" : "none", s.round_trips,
           (long long)elapsed, 2 * s.round_trips, ping_switches + s.pong_switches);
    return 0;
}
