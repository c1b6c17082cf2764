// SPDX-License-Identifier: LGPL-2.1-or-later
//
// wt-sleepstorm: T threads each call nanosleep N times, so there are T*N
// blocking switch-outs, each ended by an hrtimer interrupt (the waker is an
// interrupt, not a task). With many threads and a short sleep it is the
// heaviest load the benchmark puts on a profiler's maps: many threads off CPU
// at once, a wakeup from interrupt context for each.
//
//   wt-sleepstorm [-t THREADS] [-n SLEEPS_PER_THREAD] [-s SLEEP_NS]
//
// Prints one key=value line: elapsed_ns, switches (T*N, blocking switch-outs
// of the workload; each also switches the idle task in and out when the CPU
// has nothing else to run) and voluntary_switches from getrusage.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct storm {
    long sleeps;
    long sleep_ns;
    pthread_barrier_t start;
};

static void die(const char* what, int err) {
    fprintf(stderr, "wt-sleepstorm: %s: %s\n", what, strerror(err));
    exit(1);
}

static void* sleeper(void* arg) {
    struct storm* storm = arg;
    const struct timespec nap = {0, storm->sleep_ns};
    pthread_barrier_wait(&storm->start);
    for (long i = 0; i < storm->sleeps; i++)
        while (nanosleep(&nap, NULL) != 0 && errno == EINTR) {
        }
    return NULL;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void usage(void) {
    fprintf(stderr, "usage: wt-sleepstorm [-t THREADS] [-n SLEEPS_PER_THREAD] [-s SLEEP_NS]\n");
    exit(2);
}

int main(int argc, char** argv) {
    struct storm storm = {.sleeps = 2000, .sleep_ns = 1000};
    long threads = 64;
    int opt;
    while ((opt = getopt(argc, argv, "t:n:s:")) != -1) {
        if (opt == 't' && (threads = strtol(optarg, NULL, 10)) > 0 && threads <= 100000)
            continue;
        else if (opt == 'n' && (storm.sleeps = strtol(optarg, NULL, 10)) > 0)
            continue;
        else if (opt == 's' && (storm.sleep_ns = strtol(optarg, NULL, 10)) >= 0 &&
                 storm.sleep_ns < 1000000000)
            continue;
        else
            usage();
    }
    if (optind != argc)
        usage();

    pthread_t* ids = calloc((size_t)threads, sizeof(*ids));
    if (!ids)
        die("calloc", errno);
    int err = pthread_barrier_init(&storm.start, NULL, (unsigned)threads + 1);
    if (err)
        die("pthread_barrier_init", err);
    for (long i = 0; i < threads; i++)
        if ((err = pthread_create(&ids[i], NULL, sleeper, &storm)) != 0)
            die("pthread_create", err);

    pthread_barrier_wait(&storm.start);
    const int64_t start = now_ns();
    for (long i = 0; i < threads; i++)
        pthread_join(ids[i], NULL);
    const int64_t elapsed = now_ns() - start;

    struct rusage usage_all;
    getrusage(RUSAGE_SELF, &usage_all);
    printf("workload=sleepstorm threads=%ld sleeps=%ld sleep_ns=%ld elapsed_ns=%lld switches=%ld "
           "voluntary_switches=%ld\n",
           threads, storm.sleeps, storm.sleep_ns, (long long)elapsed, threads * storm.sleeps,
           usage_all.ru_nvcsw);
    free(ids);
    return 0;
}
