// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The library wt-churn's children call to wake its reader: wt-churn copies
// it to a new file for each child and writes the child's number into
// churn_marker, so every child maps a file with bytes of its own (a
// symbolizer cannot share one parse between them), and each wakes through
// a call path of its own (churn_wake's `path`).
#include <unistd.h>

// wt-churn finds these bytes in the copy and overwrites the digits.
__attribute__((used)) const char churn_marker[] = "WT-CHURN-MARKER:0000000000";

static void churn_step(unsigned path, int level, int fd);

__attribute__((noinline)) static void churn_left(unsigned path, int level, int fd)
{
	churn_step(path, level, fd);
	__asm__ volatile("" ::: "memory"); /* no tail call: the frame stays */
}

__attribute__((noinline)) static void churn_right(unsigned path, int level, int fd)
{
	churn_step(path, level, fd);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void churn_write(int fd)
{
	const char byte = 'r';

	if (write(fd, &byte, 1) != 1)
		_exit(3);
	__asm__ volatile("" ::: "memory");
}

/* 12 levels, one bit of the path each: 4096 distinct stacks. */
__attribute__((noinline)) static void churn_step(unsigned path, int level, int fd)
{
	if (level == 12)
		churn_write(fd);
	else if ((path >> level) & 1)
		churn_right(path, level + 1, fd);
	else
		churn_left(path, level + 1, fd);
	__asm__ volatile("" ::: "memory");
}

/* Writes one byte to `fd` from the end of call path `path`. */
__attribute__((noinline)) void churn_wake(unsigned path, int fd)
{
	churn_step(path, 0, fd);
	__asm__ volatile("" ::: "memory");
}
