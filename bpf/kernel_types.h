/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The few kernel types the program touches, declared by hand instead of a
 * generated vmlinux.h: CO-RE relocates each field by name against the running
 * kernel's BTF at load time, so only the names and types we read matter, not
 * the layout of the kernel we were built on.
 */
#ifndef WAKETRACE_KERNEL_TYPES_H
#define WAKETRACE_KERNEL_TYPES_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <asm-generic/errno.h>
#include <stdbool.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct mm_struct {
	int map_count;
};

struct signal_struct {
	struct {
		int counter;
	} live; /* atomic_t: threads of the process not yet through do_exit() */
};

struct task_struct {
	unsigned int __state; /* 5.14+; older kernels: see task_struct___pre_5_14 */
	void *stack;
	unsigned int flags;
	struct mm_struct *mm;
	struct signal_struct *signal;
	int pid;
	int tgid;
	char comm[16];
	unsigned long long start_time; /* monotonic ns: with pid, names a thread */
};

/* Before 5.14 the state field was `volatile long state`. */
struct task_struct___pre_5_14 {
	long state;
};

#pragma clang attribute pop

#define PF_KTHREAD 0x00200000

#endif /* WAKETRACE_KERNEL_TYPES_H */
