/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The records shared by the BPF program (bpf/waketrace.bpf.c) and the library
 * that reads them (lib/capture, lib/decode). Fixed-width types only: both
 * sides must agree on every byte.
 */
#ifndef WAKETRACE_ABI_H
#define WAKETRACE_ABI_H

#ifdef __BPF__
/* kernel_types.h provides the __u32/__u64 types in the BPF build. */
#else
#include <linux/types.h>
#endif

#define WT_COMM_LEN 16

/*
 * Waker levels kept per chain. The key below is laid out as an array of
 * levels so that wake chains of depth N (who woke the waker) only raise this
 * number; every reader walks wakers[0..WT_MAX_WAKERS).
 */
#define WT_MAX_WAKERS 1

/*
 * Waker levels past the first (chain_depth up to 1 + WT_MAX_HOPS). They do
 * not widen the key: wt_chain_key.deeper names a hop record (struct wt_hop)
 * in the `hops` map, which names the next one, and so on. A hop's id is a
 * hash of its contents (deeper included), so equal chains share ids and the
 * key stays a fixed size whatever the depth.
 */
#define WT_MAX_HOPS 7

/* wt_chain_key.deeper and wt_hop.deeper: a hop id (1..0x7fffffff) or why
 * there is no deeper level. */
#define WT_HOP_END 0                   /* the last waker was not waiting during the wait it
					* ended (running, an interrupt, or no waker) */
#define WT_HOP_DEPTH_REACHED 0x80000001u /* it was: chain_depth levels are kept */
#define WT_HOP_WAKER_UNTRACED 0x80000002u /* its own wait is outside the filters */
#define WT_HOP_WAKER_LOST 0x80000003u     /* its own wait was lost (drop counters, sampling) */

/* Most cgroups a profile filters on (Config::cgroups). */
#define WT_MAX_CGROUPS 8

/* Which threads are targets (rodata thread_kind). */
#define WT_THREAD_KIND_ALL 0
#define WT_THREAD_KIND_USER 1   /* no kernel threads */
#define WT_THREAD_KIND_KERNEL 2 /* kernel threads only */

/* Context a waking ran in (wt_waker_key.context). */
#define WT_CTX_TASK 0      /* a task woke the target from process context */
#define WT_CTX_INTERRUPT 1 /* from interrupt context: the interrupted task is not the waker.
			    * User space tells hardirq, softirq and NMI apart by stack. */
#define WT_CTX_PREEMPTED 4 /* no waking: the target was switched out while runnable */
#define WT_CTX_UNSEEN 5    /* blocked, but its waking raced ahead of the switch-out */
#define WT_CTX_NONE 6      /* no waking yet, or an unused waker level */

/* Frames kept per stack: the kernel's default kernel.perf_event_max_stack. */
#define WT_MAX_STACK_DEPTH 127

/* A stack's addresses, innermost first, ended by a 0 unless all
 * WT_MAX_STACK_DEPTH are used; so are the entries of `long_stacks`. */
struct wt_stack_frames {
	__u64 ips[WT_MAX_STACK_DEPTH];
};

/* Most stacks are short (a kernel stack at a switch has 10-20 frames, a
 * frame-pointer user walk often fewer): those of at most this many frames
 * are kept in `short_stacks`, whose entries take a quarter of the memory. */
#define WT_SHORT_STACK_DEPTH 32
struct wt_short_stack_frames {
	__u64 ips[WT_SHORT_STACK_DEPTH]; /* ended by a 0 unless all are used */
};

/*
 * A stack id is >= 0 when the stack is in a stack map: the low 30 bits are
 * a hash of its frames, and WT_STACK_ID_LONG says which map (set: the stack
 * is longer than WT_SHORT_STACK_DEPTH, in `long_stacks`). Negative values
 * say why it is not there; they travel in the key so every missing stack
 * is reported with its cause.
 */
#define WT_STACK_ID_LONG 0x40000000
#define WT_STACK_ID_NOT_CAPTURED (-1000) /* mode excludes it, or a kernel thread's user stack */
#define WT_STACK_ID_IRQ_DROPPED (-1001)  /* user stack of a task interrupted by the waking IRQ */
#define WT_STACK_ID_NOT_SAMPLED (-1002)  /* stack sampling skipped this event (never in chains) */
/* otherwise: -errno: -EEXIST the id was taken by another stack, -ENOMEM the map
 * was full, -EFAULT and others from the helpers, or in --dwarf mode -ENOBUFS for a
 * user stack snapshot the ring buffer had no room for */

struct wt_task_key {
	__u32 tgid;
	__u32 tid;
	char comm[WT_COMM_LEN];
	__s32 kernel_stack_id;
	__s32 user_stack_id;
};

struct wt_waker_key {
	struct wt_task_key task;
	__u32 context; /* WT_CTX_* */
	__u32 flags;   /* WT_WAKER_KEY_*; also keeps the key free of padding bytes */
};

/* wt_waker_key.flags */
#define WT_WAKER_KEY_OUTSIDE_FILTERS 1 /* a task the filters (pids, tids, cgroups, thread kind)
				      * do not trace: it still woke the target */

/* A thread that is off CPU right now, in the `off_cpu_threads` map (key: its
 * tid): written at switch-out, completed at the waking, summed into a chain
 * and removed at switch-in. User space reads the map at a drain to learn
 * which stacks open periods still name. */
struct wt_off_cpu {
	__u64 switch_out_ns;
	__u64 waking_ns; /* 0 until a waking is seen after the switch-out */
	struct wt_task_key target;
	struct wt_waker_key waker;
	__u32 sampled;   /* stacks taken: the event goes into the chains */
	__u32 state;     /* the task state at switch-out (TASK_RUNNING: preempted) */
};

struct wt_chain_key {
	struct wt_task_key target;
	struct wt_waker_key wakers[WT_MAX_WAKERS];
	__u32 generation; /* the program's chain_generation when the period ended */
	__u32 deeper;     /* level 2: a hop id or WT_HOP_* (always WT_HOP_END at depth 1) */
};

/*
 * One waker level past the first, in the `hops` map: the waker of the level
 * above (`blocked`: its identity and where it had blocked) and who woke it
 * (`waker`: identity, context and stacks at the waking), then the next level.
 */
struct wt_hop {
	struct wt_task_key blocked;
	struct wt_waker_key waker;
	__u32 deeper; /* a hop id or WT_HOP_* */
	__u32 reserved;
};

struct wt_chain_value {
	__u64 total_ns;    /* switch-out -> switch-in */
	__u64 blocked_ns;  /* switch-out -> waking (0 when preempted) */
	__u64 runqueue_ns; /* waking -> switch-in (all of it when preempted) */
	__u64 max_ns;      /* largest single total_ns */
	__u64 count;
	/* chain_depth > 1: overlap_ns[i] is how much of blocked_ns overlapped the
	 * wait of waker level i + 1 (the wait level i + 2 ended). */
	__u64 overlap_ns[WT_MAX_HOPS];
};

/*
 * Config::histograms: log2 histograms of each chain's periods, in the
 * `chain_histograms` map under the chain's key (so they are drained, moved
 * and forgotten with the chain). Bucket 0 counts periods under 1 us, bucket
 * i (1 .. WT_HISTOGRAM_BUCKETS - 2) those of 2^(i-1) us up to 2^i us
 * (excluded), the last those of 2^(WT_HISTOGRAM_BUCKETS - 2) us (about 67 s)
 * and more. Kept apart from wt_chain_value so that a run without histograms
 * pays nothing for them (memory nor time).
 */
#define WT_HISTOGRAM_BUCKETS 28

struct wt_histogram_value {
	__u32 off_cpu[WT_HISTOGRAM_BUCKETS];  /* each period's total_ns */
	__u32 runqueue[WT_HISTOGRAM_BUCKETS]; /* each period's runqueue_ns */
};

/* Exact per-thread totals, kept only when stacks are sampled (the chains
 * then hold only the sampled events). */
struct wt_thread_key {
	__u32 tgid;
	__u32 tid;
	char comm[WT_COMM_LEN];
	__u32 generation; /* as in wt_chain_key */
	__u32 reserved;
};

/* Why an event or a stack was lost: indexes of the program's drop counters. */
#define WT_DROP_STACK_COLLISION 0 /* another stack is stored under the stack's id */
#define WT_DROP_STACK_MAP_FULL 1  /* the stack map was full */
#define WT_DROP_STACK_OTHER 2     /* any other capture error (e.g. -EFAULT) */
#define WT_DROP_CHAIN_MAP_FULL 3  /* a new chain found the aggregation map full */
#define WT_DROP_MISSED_SWITCH_OUT 4 /* no room to remember a switched-out thread */
#define WT_DROP_PROCESS_EVENT 5   /* ring buffer full: a new process was not announced */
#define WT_DROP_THREAD_MAP_FULL 6 /* a new thread found the per-thread totals map full */
#define WT_DROP_USER_STACK_EVENT 7 /* --dwarf: ring buffer full, a user stack snapshot was lost */
#define WT_DROP_PERIOD_EVENT 8    /* --dwarf: ring buffer full, an off-CPU period was lost */
#define WT_DROP_MISSED_SWITCH_IN 9 /* a thread switched out again with no switch-in seen */
#define WT_DROP_CHAIN_STATE_FULL 10 /* chain_depth > 1: no room for a thread's last wait */
#define WT_DROP_HOP_MAP_FULL 11     /* chain_depth > 1: no room for a new waker level */
#define WT_DROP_HOP_COLLISION 12    /* chain_depth > 1: another level holds the level's id */
#define WT_DROP_CHILD_FILTER_FULL 13 /* follow_children: a new child process did not fit the pid filter */
#define WT_DROP_HISTOGRAM_MAP_FULL 14 /* histograms: a period found the histogram map full */
#define WT_DROP_OFF_CPU_EVENT 15  /* events: the off_cpu_events ring was full, an event was lost */
#define WT_DROP_NR 16

/* Sent to user space the first time a process shows up in a captured user stack. */
struct wt_process_event {
	__u32 tgid;
};

/*
 * --dwarf mode. User stacks are unwound in user space from a copy of the
 * user registers and stack, so chains cannot be summed in the kernel: the
 * program sends each user stack snapshot, and each finished off-CPU period
 * (its chain key naming the snapshots by id), through the `stack_events`
 * ring buffer, and user space joins and sums them (lib/decode/event_chains).
 */
#define WT_EVENT_USER_STACK 1
#define WT_EVENT_PERIOD 2
#define WT_EVENT_EXEC 3 /* wt_exec_event: snapshots after it belong to the new program */

/* x86_64 registers in DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp
 * r8..r15 rip. */
#define WT_USER_REGS 17
/* Largest user stack copy; the run's size is a multiple of the chunk. */
#define WT_USER_STACK_CHUNK 1024
#define WT_MAX_USER_STACK_BYTES (16 * WT_USER_STACK_CHUNK)

struct wt_user_stack_event {
	__u32 type;        /* WT_EVENT_USER_STACK */
	__s32 snapshot_id; /* what the period's user_stack_id says */
	__u32 tgid;
	__u32 tid;
	__u64 regs[WT_USER_REGS];
	__u32 stack_size;  /* bytes of stack[] copied */
	__u32 reserved;
	__u64 thread_start_ns; /* the task's start_time: with tid, names the thread */
	__u8 stack[];      /* user memory from regs[7] (rsp) up; the record is
			    * sized for the run's full copy */
};

/*
 * --dwarf: where a thread's stack ends (stack_tops map), learned by user
 * space from an unwind that reached the thread's outermost frame: one byte
 * past the highest stack word it read. Every later unwind of the thread
 * reads below it, however deep the stack, so a copy stops there. The
 * thread's start time tells a reused tid from the thread it was learned on.
 */
struct wt_stack_top {
	__u64 end;             /* user address */
	__u64 thread_start_ns; /* task start_time of the thread it is for */
};

struct wt_period_event {
	__u32 type;        /* WT_EVENT_PERIOD */
	__u32 reserved;
	struct wt_chain_key key; /* user_stack_id >= 0: a snapshot id */
	__u64 total_ns;
	__u64 blocked_ns;
	__u64 overlap_ns[WT_MAX_HOPS]; /* as in wt_chain_value */
};

struct wt_exec_event {
	__u32 type;        /* WT_EVENT_EXEC */
	__u32 tgid;
};

/*
 * Config::events: every off-CPU period of a traced thread, as it ends, in
 * the `off_cpu_events` ring buffer (a ring of its own, read by the caller's
 * thread: one that stops reading loses events, counted, and slows nothing).
 * The stacks are ids into the `stacks` map, as in the chain keys; user
 * space copies each id's frames the first time it meets it.
 */
struct wt_off_cpu_event {
	__u64 switch_out_ns;
	__u64 waking_ns;   /* 0: no waking seen */
	__u64 switch_in_ns;
	struct wt_task_key target;
	struct wt_waker_key waker;
	__u32 state;       /* the target's task state at switch-out */
	__u32 flags;       /* WT_OFF_CPU_EVENT_* */
};

/* wt_off_cpu_event.flags */
#define WT_OFF_CPU_EVENT_TRIGGER 1 /* off CPU for at least Config::trigger_blocked_ms */

#endif /* WAKETRACE_ABI_H */
