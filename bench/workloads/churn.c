// SPDX-License-Identifier: LGPL-2.1-or-later
//
// wt-churn: a workload that never stops meeting a profiler with new things,
// for long runs (bench/long_run.sh). Forever, or until SIGINT/SIGTERM: copy
// the library LIB to a new file in DIR with a number of its own written in
// (new bytes, a new inode: a new file to parse), start a child process that
// dlopens that copy, and a new thread in this process that plays ROUNDS
// rounds with the child: the thread sends a request and blocks reading the
// reply; the child waits until the thread sleeps in its pipe read, then
// writes the reply from inside the library. Each round goes through another
// of 4096 call paths, in this program (the blocked thread) and in the
// library (the waker), so the stacks keep changing; the child and the
// thread exit after their rounds, and the copy is deleted.
//
//   wt-churn -l LIB [-d DIR] [-r ROUNDS] [-p PAUSE_US]
//
// Prints, at its end, the children and rounds played.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATH_BITS 12
static const char marker[] = "WT-CHURN-MARKER:";

static volatile sig_atomic_t stopping;

struct game {
	int requests[2]; /* this process -> child */
	int replies[2];  /* child -> this process */
	unsigned first_path;
	int rounds;
	long pause_us;
	pid_t reader_tid; /* set by the thread before it plays */
};

static void on_signal(int signal_number)
{
	(void)signal_number;
	stopping = 1;
}

static void pause_for(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stopping)
		;
}

/* ---- the blocked side, in this program ---- */

static void block_step(unsigned path, int level, int fd);

__attribute__((noinline)) static void block_left(unsigned path, int level, int fd)
{
	block_step(path, level, fd);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void block_right(unsigned path, int level, int fd)
{
	block_step(path, level, fd);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void churn_read(int fd)
{
	char byte;

	if (read(fd, &byte, 1) != 1) {
		perror("wt-churn: reading a reply");
		exit(1);
	}
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void churn_block(int fd)
{
	churn_read(fd);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void block_step(unsigned path, int level, int fd)
{
	if (level == PATH_BITS)
		churn_block(fd);
	else if ((path >> level) & 1)
		block_right(path, level + 1, fd);
	else
		block_left(path, level + 1, fd);
	__asm__ volatile("" ::: "memory");
}

static void *play(void *argument)
{
	struct game *game = argument;

	game->reader_tid = (pid_t)syscall(SYS_gettid);
	/* The child learns who to wait for through the first request. */
	for (int round = 0; round < game->rounds; round++) {
		if (write(game->requests[1], &game->reader_tid, sizeof(game->reader_tid)) !=
		    sizeof(game->reader_tid)) {
			perror("wt-churn: sending a request");
			exit(1);
		}
		block_step(game->first_path + (unsigned)round, 0, game->replies[0]);
		pause_for(game->pause_us);
	}
	return NULL;
}

/* ---- the child: async-signal-safe calls, dlopen apart (this process has
 * one thread when it forks) ---- */

/* Until thread `tid` of `parent` sleeps in a pipe read (its wait channel),
 * so the reply always wakes a blocked reader. Gives up after two seconds. */
static void wait_until_reading(pid_t parent, pid_t tid)
{
	char path[64];
	char where[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)parent, (int)tid);
	for (int tries = 0; tries < 20000; tries++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t got = fd >= 0 ? read(fd, where, sizeof(where) - 1) : -1;

		if (fd >= 0)
			close(fd);
		where[got > 0 ? got : 0] = '\0';
		if (strstr(where, "pipe_read"))
			return;
		pause_for(100);
	}
}

static void child_main(const char *library, struct game *game, pid_t parent)
{
	void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
	void (*wake)(unsigned, int) = handle ? (void (*)(unsigned, int))dlsym(handle, "churn_wake") : NULL;
	pid_t reader;

	if (!wake) {
		fprintf(stderr, "wt-churn: %s\n", dlerror());
		_exit(2);
	}
	for (int round = 0; round < game->rounds; round++) {
		if (read(game->requests[0], &reader, sizeof(reader)) != sizeof(reader))
			_exit(2);
		wait_until_reading(parent, reader);
		wake(game->first_path + (unsigned)round, game->replies[1]);
	}
	_exit(0);
}

/* ---- the copies ---- */

/* Copies `from` to `to` with `number` written after the marker. */
static int copy_numbered(const char *from, const char *to, unsigned long number)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	struct stat status;
	char *bytes = NULL;
	int out = -1;
	int ok = 0;

	if (in < 0 || fstat(in, &status) != 0)
		goto done;
	bytes = malloc((size_t)status.st_size);
	if (!bytes || pread(in, bytes, (size_t)status.st_size, 0) != status.st_size)
		goto done;
	char *at = memmem(bytes, (size_t)status.st_size, marker, sizeof(marker) - 1);
	if (!at) {
		fprintf(stderr, "wt-churn: %s has no %s\n", from, marker);
		goto done;
	}
	char digits[11];
	snprintf(digits, sizeof(digits), "%010lu", number % 10000000000ul);
	memcpy(at + sizeof(marker) - 1, digits, 10);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ok = out >= 0 && write(out, bytes, (size_t)status.st_size) == status.st_size;
done:
	free(bytes);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *library = NULL;
	const char *directory = "/tmp";
	int rounds = 40;
	long pause_us = 1000;
	unsigned long children = 0;
	unsigned long played = 0;
	int option;

	while ((option = getopt(argc, argv, "l:d:r:p:")) != -1) {
		switch (option) {
		case 'l': library = optarg; break;
		case 'd': directory = optarg; break;
		case 'r': rounds = atoi(optarg); break;
		case 'p': pause_us = atol(optarg); break;
		default:
			fprintf(stderr, "usage: wt-churn -l LIB [-d DIR] [-r ROUNDS] [-p PAUSE_US]\n");
			return 2;
		}
	}
	if (!library || rounds < 1) {
		fprintf(stderr, "usage: wt-churn -l LIB [-d DIR] [-r ROUNDS] [-p PAUSE_US]\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	while (!stopping) {
		char copy[4096];
		struct game game = {.first_path = (unsigned)(children * (unsigned long)rounds),
				    .rounds = rounds,
				    .pause_us = pause_us};
		pthread_t thread;
		pid_t child;

		snprintf(copy, sizeof(copy), "%s/wt-churn-%d-%lu.so", directory, (int)getpid(), children);
		if (copy_numbered(library, copy, children) != 0) {
			perror("wt-churn: copying the library");
			return 1;
		}
		if (pipe2(game.requests, O_CLOEXEC) != 0 || pipe2(game.replies, O_CLOEXEC) != 0) {
			perror("wt-churn: pipe2");
			return 1;
		}
		child = fork();
		if (child < 0) {
			perror("wt-churn: fork");
			return 1;
		}
		if (child == 0)
			child_main(copy, &game, getppid());
		close(game.requests[0]);
		close(game.replies[1]);
		if (pthread_create(&thread, NULL, play, &game) != 0) {
			fprintf(stderr, "wt-churn: pthread_create failed\n");
			return 1;
		}
		pthread_join(thread, NULL);
		close(game.requests[1]);
		close(game.replies[0]);
		waitpid(child, NULL, 0);
		unlink(copy);
		children++;
		played += (unsigned long)rounds;
	}
	printf("children=%lu rounds=%lu\n", children, played);
	return 0;
}
