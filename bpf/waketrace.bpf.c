// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Off-CPU and waker capture on stable scheduler tracepoints.
 *
 *   sched_switch (prev goes off CPU)  -> remember when, with prev's stacks,
 *                                        taken while prev is still `current`
 *   sched_waking (someone wakes it)   -> remember when, and the waker's stacks,
 *                                        taken in the waker's own context
 *   sched_switch (next comes back on) -> add the times to the chain of
 *                                        (target, waker) in the `chains` map
 *
 * Every handler has a tp_btf and a raw_tp entry point with one shared body;
 * user space picks one set with bpf_program__set_autoload() after probing.
 * Filters and sizes are fixed before load, so the verifier prunes what a run
 * does not use.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "waketrace_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TASK_RUNNING 0
#define TASK_DEAD 0x80

/* Set by user space before load (lib/capture/loader.cpp). */
const volatile bool filter_tgids_on = false;
const volatile bool filter_tids_on = false;
/* The profiling process is among the targets: leave out the library's own
 * threads (own_threads), which user space adds as they start. */
const volatile bool own_threads_on = false;
/* Config::follow_children: a process forked by a traced process (by its
 * pid, filter_tgids) is traced too, from its fork on (on_fork()). */
const volatile bool follow_children = false;
/* Any of the filters on who a thread is (pids, tids, thread kind); see
 * thread_wanted(). Set by user space. */
const volatile bool filters_on = false;
/* Config::cgroups: a thread is traced when it is in one of these cgroup v2
 * cgroups or below: cgroup_ids[i] is a cgroup's id (its directory's inode
 * number) and cgroup_levels[i] its depth below the root. */
const volatile __u32 cgroup_count = 0;
const volatile __u64 cgroup_ids[WT_MAX_CGROUPS] = {};
const volatile __u32 cgroup_levels[WT_MAX_CGROUPS] = {};
const volatile __u32 thread_kind = WT_THREAD_KIND_ALL;
const volatile bool state_filter_on = false;
const volatile __u32 state_mask = 0; /* 0: only runnable (preempted) switches */
/* Config::min_block_us and max_block_us, in nanoseconds. */
const volatile __u64 min_block_ns = 0;
const volatile __u64 max_block_ns = ~0ULL;
const volatile bool capture_kernel_stacks = true;
const volatile bool capture_user_stacks = true;
const volatile bool has_prev_state_arg = true; /* sched_switch's 4th argument, 5.18+ */
const volatile __u64 task_stack_size = 16384;   /* THREAD_SIZE */
const volatile __u32 stack_sample_percent = 100; /* blocking events whose stacks are taken */
/* --dwarf: bytes of user stack copied per snapshot, a multiple of
 * WT_USER_STACK_CHUNK; 0: user stacks are frame-pointer walks. */
const volatile __u32 dwarf_stack_bytes = 0;
/* --dwarf: the reader is woken only once this many bytes wait in the
 * stack_events ring (see stack_event_flags()). */
const volatile __u64 ring_wakeup_bytes = 0;
/* Config::no_waker_user_stacks: wakers keep their kernel stacks only. */
const volatile bool no_waker_user_stacks = false;
/* Config::chain_depth: waker levels per chain; above 1 the program keeps
 * each thread's last wait (chain_states) and interns hop records (hops). */
const volatile __u32 chain_depth = 1;
/* Config::offcpu (offcputime): targets' stacks only. The sched_waking
 * programs are not loaded, so chains have no waker and no time split.
 * Config::wakeup (wakeuptime): wakers' stacks only; a target is named, not
 * walked, and its preemptions are left out (nobody wakes a runnable task). */
const volatile bool offcpu = false;
const volatile bool wakeup = false;
/* Config::histograms: each chain's periods also go into a log2 histogram
 * (chain_histograms). Off, the map keeps its one placeholder entry's room. */
const volatile bool histograms = false;
/* Config::events: every period that ends (within the time bounds) also goes
 * to user space on its own, through off_cpu_events. */
const volatile bool events = false;
/* The events' reader is woken only once this many bytes wait (see
 * off_cpu_event_flags()). */
const volatile __u64 events_wakeup_bytes = 0;
/* Config::trigger_blocked_ms in ns (0: none): an event off CPU this long is
 * marked, and its reader woken at once (a flight recorder's trigger). */
const volatile __u64 trigger_blocked_ns = 0;
/* Frame-pointer walks done here rather than by bpf_get_stack (needs
 * bpf_task_pt_regs, 5.15+); see walk_user_frames(). */
const volatile bool walk_user_frames_here = true;
/* bpf_get_current_task_btf() (5.11+) can be called; set with
 * walk_user_frames_here, whose helper came later (5.15). */
const volatile bool current_task_btf = false;

/*
 * Periods are summed under the generation current when they end. A drain
 * moves it on, waits until no program can still be using the old one, and
 * only then takes the old generation's entries: deleting entries the
 * program may be adding to would lose those additions (or, with
 * preallocated maps, add them to whatever entry reuses the memory).
 * Written by user space through the skeleton (BpfCapture::take_chains).
 */
__u32 chain_generation = 0;

/* Losses per cause (WT_DROP_*); user space reads them through the skeleton. */
__u64 drops[WT_DROP_NR] = {};

/* Entries add_times() created in chains and thread_totals. User space
 * counts what it removes, so the difference is how full each map is: it
 * moves the entries to user space before the map fills (ChainGrowth). */
__u64 chains_created = 0;
__u64 thread_totals_created = 0;
/* Stacks store_stack() added to each map: user space moves them out the
 * same way (ChainGrowth), which is safe because a stack's id is a hash of
 * its frames: the id means the same stack before and after the move. */
__u64 short_stacks_created = 0;
__u64 long_stacks_created = 0;
/* Hops intern_hop() added (chain_depth > 1). */
__u64 hops_created = 0;

/* Kernel and user stacks, keyed by their ids (see store_stack()): the
 * short ones, and those longer than WT_SHORT_STACK_DEPTH. User space sets
 * the entries before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct wt_short_stack_frames);
} short_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct wt_stack_frames);
} long_stacks SEC(".maps");

/* Where a stack is built before it is stored: too big for the program's own
 * 512-byte stack. One slot per program, so the switch and waking programs
 * never share one. */
#define SCRATCH_SWITCH 0
#define SCRATCH_WAKING 1
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct wt_stack_frames);
	__uint(max_entries, 2);
} stack_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 1);
} filter_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 1);
} filter_tids SEC(".maps");

/* The library threads of every Profiler in this process (up to four each
 * while running, one while stopped), not only this one's. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 64);
} own_threads SEC(".maps");

/* Each traced thread's latest period (struct wt_off_cpu), open from its
 * switch-out (switch_out_ns set) to its switch-in (switch_out_ns back to 0).
 * An entry stays from the thread's first traced switch-out to its exit and
 * is rewritten in place: an insert and a delete per period (a bucket lock
 * and a free-list trip each) cost more than the two writes. User space
 * reads the open ones too: the stacks they name must outlive a drain. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tid */
	__type(value, struct wt_off_cpu);
} off_cpu_threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct wt_chain_key);
	__type(value, struct wt_chain_value);
} chains SEC(".maps");

/* Config::histograms: per chain key, how its periods spread (see
 * WT_HISTOGRAM_BUCKETS). User space sizes it like `chains` when histograms
 * are on, and takes its entries together with the chains'. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct wt_chain_key);
	__type(value, struct wt_histogram_value);
	__uint(max_entries, 1);
} chain_histograms SEC(".maps");

/*
 * chain_depth > 1. A waker W extends its target T's chain when W was itself
 * woken during T's wait: then T's chain goes on with W's last wait (where W
 * had blocked, who woke it, and so on down). So each traced thread keeps
 * its last wait, ready-made as waker levels, from its switch-in on; a
 * waking copies the waker's into the wakee's `pending`, and the wakee's
 * switch-in puts them in its chain key and makes them its own last wait.
 * Work is per period and bounded by the depth: nothing walks other threads.
 */
struct wait_span {
	__u64 start; /* switch-out */
	__u64 end;   /* waking */
};

/* A thread's last wait seen as waker levels, or why it cannot be one. */
struct wait_levels {
	/* WT_HOP_END when the levels are usable, else WT_HOP_WAKER_LOST or
	 * WT_HOP_WAKER_UNTRACED: what a chain this thread extends ends in, if
	 * the wait had not ended before that chain's wait began. So spans[0].end
	 * is kept whenever it is known, whatever the status (~0: not yet known). */
	__u32 status;
	/* hops[n]: the wait as a hop with at most n levels below it
	 * (n = 0..WT_MAX_HOPS-1): chain_depth decides which one a wakee takes. */
	__u32 hops[WT_MAX_HOPS];
	/* spans[0]: the wait itself; spans[i]: the wait of its i-th level down
	 * ({0, 0} past the last), for the wakee's overlap_ns. */
	struct wait_span spans[WT_MAX_HOPS];
};

struct chain_state {
	struct wait_levels last;     /* the last wait, from its switch-in on */
	struct wait_levels pending;  /* the waker's, copied at this thread's waking */
	__u64 pending_for;           /* the switch-out time `pending` belongs to */
	__u32 pending_deeper;        /* the chain key's `deeper` for that period */
	__u32 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tid */
	__type(value, struct chain_state);
} chain_states SEC(".maps");

/* Waker levels past the first, keyed by a hash of their contents (see
 * intern_hop()); chain keys and other hops name them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct wt_hop);
} hops SEC(".maps");

/* What a new chain_states entry starts from (too big for the BPF stack). */
static const struct chain_state empty_chain_state = {
	.last = { .status = WT_HOP_WAKER_LOST },
	.pending = { .status = WT_HOP_WAKER_LOST },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct wt_thread_key);
	__type(value, struct wt_chain_value);
	__uint(max_entries, 1);
} thread_totals SEC(".maps");

/* Processes announced to user space, with the most mappings each had at an
 * announcement (see announce_process()). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u32);
} announced_processes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} process_events SEC(".maps");

/* --dwarf mode only: user stack snapshots and finished periods. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} stack_events SEC(".maps");

/* Config::events only: one wt_off_cpu_event per period. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} off_cpu_events SEC(".maps");

__u32 next_snapshot_id = 0;

/* --dwarf mode only: where each thread's stack ends, as far as user space
 * has learned it (struct wt_stack_top). Written by user space only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tid */
	__type(value, struct wt_stack_top);
} stack_tops SEC(".maps");

/*
 * Submit flags for a stack_events record. Waking the reader costs an
 * irq_work (an IPI) here and a switch for it; by default the kernel wakes
 * it for the first record after it caught up, one wake-up per record when
 * it keeps up. So records go without one until a batch of
 * ring_wakeup_bytes waits; a reader that is asleep then finds smaller
 * batches at its poll timeout, or when asked to catch up
 * (lib/capture/ring_reader.cpp).
 */
static __always_inline __u64 stack_event_flags(void)
{
	return bpf_ringbuf_query(&stack_events, BPF_RB_AVAIL_DATA) >= ring_wakeup_bytes
		       ? BPF_RB_FORCE_WAKEUP
		       : BPF_RB_NO_WAKEUP;
}

/* As stack_event_flags(), for the events' ring: the caller's thread reads it
 * in batches (lib/capture/off_cpu_event_ring.cpp). */
static __always_inline __u64 off_cpu_event_flags(void)
{
	return bpf_ringbuf_query(&off_cpu_events, BPF_RB_AVAIL_DATA) >= events_wakeup_bytes
		       ? BPF_RB_FORCE_WAKEUP
		       : BPF_RB_NO_WAKEUP;
}

/*
 * A field of a task. Pointers the verifier knows as BTF ones (a tp_btf
 * program's task arguments, bpf_get_current_task_btf()) are loaded from
 * directly; a raw_tp program's arguments are plain numbers, read with a
 * bpf_probe_read_kernel() call each, about ten of them per switch.
 * `direct` is a constant of the entry point or a const volatile.
 */
#define TASK_READ(direct, task, field) ((direct) ? (task)->field : BPF_CORE_READ(task, field))

static __always_inline struct task_struct *current_task(void)
{
	if (current_task_btf)
		return bpf_get_current_task_btf();
	return (struct task_struct *)bpf_get_current_task();
}

static __always_inline void count_drop(__u32 cause)
{
	__sync_fetch_and_add(&drops[cause], 1);
}

/*
 * Interrupts (and the softirqs run on their way out) execute on a per-CPU
 * interrupt stack, NMIs on their own: if the tracepoint fired off the current
 * task's stack, the task was merely interrupted and did not cause the
 * waking. Interrupts taken in user mode do run on the task stack; so do
 * softirqs run by a task: user space catches those from the kernel stack's
 * entry frames, and tells hardirq, softirq and NMI apart the same way
 * (lib/assemble/interrupt_context.cpp). Reading preempt_count() would say
 * more, but it is a per-CPU variable that BPF reaches only through kallsyms
 * data symbols, which many kernels (no CONFIG_KALLSYMS_ALL) do not have.
 *
 * Where the tracepoint fired is told by `ctx`: the argument array the
 * tracepoint glue (bpf_trace_runN) builds on the kernel stack it runs on.
 * Not by this program's own stack: since 6.13 a program with a large stack
 * may run on a per-CPU private stack instead.
 */
static __always_inline bool on_task_stack(void *ctx)
{
	struct task_struct *task = current_task();
	__u64 stack_base = (__u64)TASK_READ(current_task_btf, task, stack);
	void *volatile ctx_pointer = ctx;
	__u64 here = 0;

	/* The verifier allows no arithmetic on a context pointer, so read its
	 * value back as a plain number. */
	bpf_probe_read_kernel(&here, sizeof(here), (const void *)&ctx_pointer);
	return here - stack_base < task_stack_size;
}

/*
 * Asks user space to read a process's memory map: the first time one of its
 * user stacks is taken, and again whenever it has more mappings than at any
 * announcement before. The second matters to a program that has just
 * started: its first stack may be taken while the dynamic loader has not yet
 * mapped libc, and a map read then would leave every later libc frame
 * unnamed once the program has exited (seen on a slow guest); a dlopen() is
 * the same case later on. Only a new maximum counts, so a process that maps
 * and unmaps all the time (malloc's large blocks) is not announced at every
 * switch.
 */
static __always_inline void announce_process(__u32 tgid, __u32 map_count)
{
	__u32 *announced = bpf_map_lookup_elem(&announced_processes, &tgid);
	struct wt_process_event *event;

	if (announced) {
		if (map_count <= *announced)
			return;
		/* Two CPUs may both get past this and both announce: harmless. */
		*announced = map_count;
	} else if (bpf_map_update_elem(&announced_processes, &tgid, &map_count, BPF_NOEXIST)) {
		return; /* another CPU announced it first */
	}
	event = bpf_ringbuf_reserve(&process_events, sizeof(*event), 0);
	if (!event) {
		count_drop(WT_DROP_PROCESS_EVENT);
		bpf_map_delete_elem(&announced_processes, &tgid); /* retry next time */
		return;
	}
	event->tgid = tgid;
	bpf_ringbuf_submit(event, 0);
}

/* How many mappings the current task's process has. */
static __always_inline __u32 mapping_count(void)
{
	struct task_struct *task = current_task();

	if (current_task_btf)
		return task->mm->map_count;
	return BPF_CORE_READ(task, mm, map_count);
}

static __always_inline bool is_kthread(struct task_struct *task, bool direct)
{
	return TASK_READ(direct, task, flags) & PF_KTHREAD;
}

/* A kernel thread, or a thread past exit_mm() on its way out, has no user
 * stack to take. */
static __always_inline bool has_user_memory(struct task_struct *task, bool kthread, bool direct)
{
	return !kthread && TASK_READ(direct, task, mm);
}

static __always_inline void identify_current(struct wt_task_key *key)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	key->tgid = pid_tgid >> 32;
	key->tid = (__u32)pid_tgid;
	bpf_get_current_comm(key->comm, sizeof(key->comm));
}

/* The user registers the kernel saved on entry, in the x86_64 entry code's
 * push order (the layout ptrace shows as user_regs_struct). */
struct saved_user_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

static __always_inline void to_dwarf_order(__u64 *out, const struct saved_user_regs *regs)
{
	out[0] = regs->ax;  out[1] = regs->dx;  out[2] = regs->cx;  out[3] = regs->bx;
	out[4] = regs->si;  out[5] = regs->di;  out[6] = regs->bp;  out[7] = regs->sp;
	out[8] = regs->r8;  out[9] = regs->r9;  out[10] = regs->r10; out[11] = regs->r11;
	out[12] = regs->r12; out[13] = regs->r13; out[14] = regs->r14; out[15] = regs->r15;
	out[16] = regs->ip;
}

static __always_inline long read_user_regs(struct saved_user_regs *regs)
{
	struct task_struct *task = bpf_get_current_task_btf();
	long err = bpf_probe_read_kernel(regs, sizeof(*regs), (const void *)bpf_task_pt_regs(task));

	if (err)
		count_drop(WT_DROP_STACK_OTHER);
	return err;
}

/*
 * --dwarf: sends the current task's user registers and the top of its user
 * stack to user space, which unwinds them with the binaries' CFI. Returns
 * the snapshot's id for the chain key, or a negative WT_STACK_* / -errno.
 * The copy goes in chunks and stops at the first one that cannot be read
 * (the end of the stack mapping, or a page that is not present: a tracepoint
 * cannot take page faults), and where the thread's stack ends when user
 * space has learned that (stack_tops): a thread blocking a few hundred bytes
 * below its start costs a copy of those, not of dwarf_stack_bytes.
 */
static __always_inline __s32 user_stack_snapshot(__u32 tgid, __u32 tid)
{
	struct saved_user_regs regs;
	struct wt_user_stack_event *event;
	struct wt_stack_top *top;
	__u64 start_ns, wanted = dwarf_stack_bytes;
	__u32 copied = 0;
	__s32 id;

	if (read_user_regs(&regs))
		return -EFAULT;
	start_ns = TASK_READ(current_task_btf, current_task(), start_time);
	top = bpf_map_lookup_elem(&stack_tops, &tid);
	if (top && top->thread_start_ns == start_ns && top->end > regs.sp && top->end - regs.sp < wanted)
		wanted = top->end - regs.sp;
	event = bpf_ringbuf_reserve(&stack_events, sizeof(*event) + dwarf_stack_bytes, 0);
	if (!event) {
		count_drop(WT_DROP_USER_STACK_EVENT);
		return -ENOBUFS;
	}
	event->type = WT_EVENT_USER_STACK;
	id = __sync_fetch_and_add(&next_snapshot_id, 1) & 0x7fffffff;
	event->snapshot_id = id;
	event->tgid = tgid;
	event->tid = tid;
	to_dwarf_order(event->regs, &regs);
	for (__u32 i = 0; i < WT_MAX_USER_STACK_BYTES / WT_USER_STACK_CHUNK; i++) {
		__u32 offset = i * WT_USER_STACK_CHUNK;

		__u32 size = WT_USER_STACK_CHUNK;

		if (offset >= dwarf_stack_bytes || offset >= wanted)
			break;
		if (wanted - offset < size)
			size = wanted - offset;
		if (bpf_probe_read_user(event->stack + offset, size, (const void *)(regs.sp + offset)))
			break;
		copied = offset + size;
	}
	event->stack_size = copied;
	event->reserved = 0;
	event->thread_start_ns = start_ns;
	bpf_ringbuf_submit(event, stack_event_flags());
	return id;
}

#define USER_CS_64 0x33 /* x86_64 __USER_CS: the task runs 64-bit code */

/* One frame of a frame-pointer chain, as the function's prologue pushed it. */
struct frame_record {
	__u64 caller_fp;
	__u64 return_address;
};

/*
 * Walks the current task's user frame pointers into `ips` (zero-ended), as
 * bpf_get_stack(BPF_F_USER_STACK) would, but with one bpf_probe_read_user()
 * per frame. That is what makes it worth doing here: on some kernels the
 * kernel's own walk costs microseconds per frame (2.5 us measured on 6.18,
 * see bench/reading.md), and a user stack is taken on every switch.
 * The walk also stops where the chain cannot be a chain: a frame that is
 * not above the one before (the stack grows down, so callers live higher),
 * or misaligned. A 32-bit task keeps only its ip.
 */
static __always_inline long walk_user_frames(__u64 *ips)
{
	struct saved_user_regs regs;
	struct frame_record frame;
	__u64 fp;

	if (read_user_regs(&regs))
		return -EFAULT;
	ips[0] = regs.ip;
	fp = regs.cs == USER_CS_64 ? regs.bp : 0; /* 0: the first round stops */
	for (__u32 depth = 1; depth < WT_MAX_STACK_DEPTH; depth++) {
		/* Ended here unless a frame follows: keeps the loop counter
		 * dead after the loop, so the verifier checks one exit. */
		ips[depth] = 0;
		if ((fp & 7) || fp < regs.sp)
			break;
		if (bpf_probe_read_user(&frame, sizeof(frame), (const void *)fp))
			break;
		if (!frame.return_address)
			break;
		ips[depth] = frame.return_address;
		if (frame.caller_fp <= fp)
			fp = 0; /* the next round stops (fp < regs.sp) */
		else
			fp = frame.caller_fp;
	}
	return 0;
}

/* The kernel's walk: kernel stacks, and user stacks on kernels without
 * bpf_task_pt_regs. */
static __always_inline long get_stack_frames(void *ctx, __u64 *ips, __u64 flags)
{
	long size = bpf_get_stack(ctx, ips, WT_MAX_STACK_DEPTH * sizeof(__u64), flags);
	__u32 depth;

	if (size < 0) {
		count_drop(WT_DROP_STACK_OTHER);
		return size;
	}
	depth = size / sizeof(__u64);
	if (depth < WT_MAX_STACK_DEPTH)
		ips[depth] = 0;
	return 0;
}

/* Whether the first `depth` frames (or up to a 0) of two stacks agree. */
static __always_inline bool same_frames(const __u64 *a, const __u64 *b, __u32 depth)
{
	for (__u32 i = 0; i < depth; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			break;
	}
	return true;
}

/*
 * Stores `stack` under `id` in `map`, whose entries hold `depth` frames,
 * and returns the id. Another stack already stored under the id is a
 * collision, counted and returned as -EEXIST: two stacks are never mixed up.
 */
static __always_inline __s32 store_in(void *map, __u32 id, const struct wt_stack_frames *stack,
				      __u32 depth, __u64 *created)
{
	const __u64 *stored = bpf_map_lookup_elem(map, &id);
	long err;

	if (!stored) {
		/* Copies the map's value size: the first `depth` frames. */
		err = bpf_map_update_elem(map, &id, stack, BPF_NOEXIST);
		if (!err) {
			__sync_fetch_and_add(created, 1);
			return id;
		}
		if (err != -EEXIST /* another CPU stored it first */) {
			count_drop(WT_DROP_STACK_MAP_FULL);
			return -ENOMEM;
		}
		stored = bpf_map_lookup_elem(map, &id);
		if (!stored) {
			count_drop(WT_DROP_STACK_OTHER);
			return -ENOENT;
		}
	}
	if (!same_frames(stored, stack->ips, depth)) {
		count_drop(WT_DROP_STACK_COLLISION);
		return -EEXIST;
	}
	return id;
}

/*
 * Stores a stack under a 30-bit hash of its frames, in the map its length
 * picks (WT_STACK_ID_LONG set for the long one), and returns that id.
 */
static __always_inline __s32 store_stack(const struct wt_stack_frames *stack)
{
	__u64 hash = 0xcbf29ce484222325ULL; /* FNV-1a offset basis */
	__u32 depth = 0;
	__u32 id;

	for (__u32 i = 0; i < WT_MAX_STACK_DEPTH; i++) {
		if (!stack->ips[i])
			break;
		hash = (hash ^ stack->ips[i]) * 0x100000001b3ULL; /* FNV prime */
		hash ^= hash >> 29; /* lets the high bits reach the id's low ones */
		depth = i + 1;
	}
	id = (__u32)(hash ^ (hash >> 32)) & (WT_STACK_ID_LONG - 1);
	if (depth <= WT_SHORT_STACK_DEPTH)
		return store_in(&short_stacks, id, stack, WT_SHORT_STACK_DEPTH, &short_stacks_created);
	return store_in(&long_stacks, id | WT_STACK_ID_LONG, stack, WT_MAX_STACK_DEPTH,
			&long_stacks_created);
}

/* The current task's kernel or user stack, stored; its id or a -errno. */
static __always_inline __s32 stack_id(void *ctx, __u32 scratch_slot, bool user)
{
	struct wt_stack_frames *stack = bpf_map_lookup_elem(&stack_scratch, &scratch_slot);
	long err;

	if (!stack)
		return -ENOENT; /* cannot happen: the array has both slots */
	if (user && walk_user_frames_here)
		err = walk_user_frames(stack->ips);
	else
		err = get_stack_frames(ctx, stack->ips, user ? BPF_F_USER_STACK : 0);
	if (err)
		return err;
	return store_stack(stack);
}

/* Fills `key` with the current task's identity and stacks. */
static __always_inline void capture_current(void *ctx, struct wt_task_key *key, bool user_memory,
					    __u32 scratch_slot)
{
	identify_current(key);
	key->kernel_stack_id =
		capture_kernel_stacks ? stack_id(ctx, scratch_slot, false) : WT_STACK_ID_NOT_CAPTURED;
	key->user_stack_id = WT_STACK_ID_NOT_CAPTURED;
	if (capture_user_stacks && user_memory) {
		key->user_stack_id = dwarf_stack_bytes ? user_stack_snapshot(key->tgid, key->tid)
						      : stack_id(ctx, scratch_slot, true);
		if (key->user_stack_id >= 0)
			announce_process(key->tgid, mapping_count());
	}
}

static __always_inline unsigned int read_task_state(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	return BPF_CORE_READ((struct task_struct___pre_5_14 *)task, state);
}

/* Whether the current task is in one of the cgroups (or below one): its
 * ancestor at that cgroup's level is that cgroup. */
static __always_inline bool current_in_cgroups(void)
{
	for (__u32 i = 0; i < WT_MAX_CGROUPS; i++) {
		if (i >= cgroup_count)
			break;
		if (bpf_get_current_ancestor_cgroup_id(cgroup_levels[i]) == cgroup_ids[i])
			return true;
	}
	return false;
}

/* The filters on who a thread is: a traced thread passes them. The cgroup
 * filter is read from the current task only: a task that is not current
 * (`is_current` false) is taken to pass it. */
static __always_inline bool thread_wanted(__u32 tgid, __u32 tid, bool kthread, bool is_current)
{
	if (thread_kind == WT_THREAD_KIND_USER && kthread)
		return false;
	if (thread_kind == WT_THREAD_KIND_KERNEL && !kthread)
		return false;
	if (filter_tgids_on && !bpf_map_lookup_elem(&filter_tgids, &tgid))
		return false;
	if (filter_tids_on && !bpf_map_lookup_elem(&filter_tids, &tid))
		return false;
	if (own_threads_on && bpf_map_lookup_elem(&own_threads, &tid))
		return false;
	if (cgroup_count && is_current && !current_in_cgroups())
		return false;
	return true;
}

/* --state: which switch-outs of a traced thread are periods. */
static __always_inline bool state_wanted(unsigned int state)
{
	if (!state_filter_on)
		return true;
	return state_mask == 0 ? state == TASK_RUNNING : (state & state_mask) != 0;
}

/* The thread's period, if one is open (see off_cpu_threads). */
static __always_inline struct wt_off_cpu *open_period(__u32 tid)
{
	struct wt_off_cpu *entry = bpf_map_lookup_elem(&off_cpu_threads, &tid);

	return entry && entry->switch_out_ns ? entry : NULL;
}

/*
 * Keeps `entry` until the thread's switch-in. A period still open means
 * the thread was switched in and out again without a switch-in this
 * program saw: the period it began never ended for us. That happens when
 * the kernel does not report a switch (seen on a virtualised host whose
 * kernel hides its agent's threads: the switch from such a thread to ours
 * never fires sched_switch), so it is counted, never dropped silently.
 *
 * A waking on another CPU may read the entry while it is rewritten (a wake
 * racing the switch-out): it takes a period as open only once
 * switch_out_ns is set, which is written last; x86 keeps stores in order.
 */
static __always_inline void remember_off_cpu(__u32 tid, const struct wt_off_cpu *entry)
{
	struct wt_off_cpu *slot = bpf_map_lookup_elem(&off_cpu_threads, &tid);

	if (!slot) {
		/* The thread's first traced switch-out; only it inserts its tid,
		 * so the insert fails only when the map is full. */
		if (bpf_map_update_elem(&off_cpu_threads, &tid, entry, BPF_NOEXIST))
			count_drop(WT_DROP_MISSED_SWITCH_OUT);
		return;
	}
	if (slot->switch_out_ns)
		count_drop(WT_DROP_MISSED_SWITCH_IN);
	slot->switch_out_ns = 0;
	barrier();
	slot->waking_ns = 0;
	slot->target = entry->target;
	slot->waker = entry->waker;
	slot->sampled = entry->sampled;
	slot->state = entry->state;
	barrier();
	slot->switch_out_ns = entry->switch_out_ns;
}

/*
 * ---- Wake chains past the first waker (chain_depth > 1) ----
 */

/* Per-CPU room for a hop being interned: the switch-in path's own stack is
 * taken by its chain key. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct wt_hop);
	__uint(max_entries, 1);
} hop_scratch SEC(".maps");

/*
 * Stores a hop under a 31-bit hash of its contents and returns that id
 * (never 0, which is WT_HOP_END), or WT_HOP_WAKER_LOST, counted, when the map
 * is full or another hop holds the id. Like store_stack(): equal hops share
 * an id, and two different ones are never mixed up.
 */
static __always_inline __u32 intern_hop(const struct wt_hop *hop)
{
	const __u64 *words = (const __u64 *)hop;
	__u64 hash = 0xcbf29ce484222325ULL;
	struct wt_hop *stored;
	__u32 id;
	long err;

	for (__u32 i = 0; i < sizeof(*hop) / sizeof(__u64); i++) {
		hash = (hash ^ words[i]) * 0x100000001b3ULL;
		hash ^= hash >> 29;
	}
	id = (__u32)(hash ^ (hash >> 32)) & 0x7fffffff;
	if (id == WT_HOP_END)
		id = 1;
	stored = bpf_map_lookup_elem(&hops, &id);
	if (!stored) {
		err = bpf_map_update_elem(&hops, &id, hop, BPF_NOEXIST);
		if (!err) {
			__sync_fetch_and_add(&hops_created, 1);
			return id;
		}
		if (err != -EEXIST) {
			count_drop(WT_DROP_HOP_MAP_FULL);
			return WT_HOP_WAKER_LOST;
		}
		stored = bpf_map_lookup_elem(&hops, &id);
		if (!stored)
			return WT_HOP_WAKER_LOST;
	}
	const __u64 *stored_words = (const __u64 *)stored;
	for (__u32 i = 0; i < sizeof(*hop) / sizeof(__u64); i++) {
		if (stored_words[i] != words[i]) {
			count_drop(WT_DROP_HOP_COLLISION);
			return WT_HOP_WAKER_LOST;
		}
	}
	return id;
}

static __always_inline struct chain_state *chain_state_of(__u32 tid, bool create)
{
	struct chain_state *state = bpf_map_lookup_elem(&chain_states, &tid);
	long err;

	if (state || !create)
		return state;
	err = bpf_map_update_elem(&chain_states, &tid, &empty_chain_state, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count_drop(WT_DROP_CHAIN_STATE_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&chain_states, &tid);
}

/* A traced thread blocked in a state --state leaves out: its newest wait is
 * not traced, so a chain it extends ends there (its end is filled in at its
 * waking, note_unseen_wait()). */
static __always_inline void forget_last_wait(__u32 tid)
{
	struct chain_state *state = chain_state_of(tid, false);

	if (state) {
		state->last.status = WT_HOP_WAKER_UNTRACED;
		state->last.spans[0].end = ~0ULL;
	}
}

/*
 * At the waking of `wakee` (off CPU since entry->switch_out_ns): what its
 * chain holds past the first waker. The current task (the waker, in task
 * context) extends it only if the waker was itself woken after the wakee
 * blocked; then the waker's last wait, as levels, becomes the wakee's
 * pending ones.
 */
static __always_inline void follow_waker(const struct wt_off_cpu *entry, __u32 wakee_tid, bool task_context)
{
	struct chain_state *wakee = chain_state_of(wakee_tid, true);
	struct chain_state *waker;
	__u64 pid_tgid;
	__u32 waker_tid;

	if (!wakee)
		return; /* counted; the switch-in marks the chain lost */
	wakee->pending_for = entry->switch_out_ns;
	wakee->pending.status = WT_HOP_END;
	wakee->pending_deeper = WT_HOP_END;
	if (!task_context)
		return; /* an interrupt: the chain ends in that context */
	pid_tgid = bpf_get_current_pid_tgid();
	waker_tid = (__u32)pid_tgid;
	if (open_period(waker_tid)) {
		/* Running, yet a period of its is open: its switch back in was
		 * not reported, so its last wait is not the one known. */
		wakee->pending_deeper = WT_HOP_WAKER_LOST;
		return;
	}
	waker = chain_state_of(waker_tid, false);
	if (!waker) {
		struct task_struct *current = current_task();

		/* No wait of the waker's seen: running since the start, or not traced. */
		if (!thread_wanted(pid_tgid >> 32, (__u32)pid_tgid, is_kthread(current, current_task_btf), true))
			wakee->pending_deeper = WT_HOP_WAKER_UNTRACED;
		return;
	}
	if (waker->last.spans[0].end <= entry->switch_out_ns)
		return; /* woken before the wakee blocked: it was running all along */
	if (waker->last.status != WT_HOP_END) {
		wakee->pending_deeper = waker->last.status;
		return;
	}
	wakee->pending = waker->last;
	wakee->pending_deeper = waker->last.hops[chain_depth - 2 < WT_MAX_HOPS ? chain_depth - 2 : 0];
}

/*
 * A thread with no period open was woken. Its wait was not recorded: it
 * began before the start, or --state left it out (forget_last_wait()). Its
 * levels are unknown, but not when it ended: now. A chain that began
 * waiting after now is not extended by it.
 */
static __always_inline void note_unseen_wait(struct task_struct *task, __u32 tid, bool btf)
{
	struct chain_state *state = chain_state_of(tid, false);
	__u32 tgid;

	if (!state) {
		tgid = TASK_READ(btf, task, tgid);
		if (!tid || !thread_wanted(tgid, tid, is_kthread(task, btf), false))
			return;
		state = chain_state_of(tid, true);
		if (!state)
			return;
	} else if (state->last.status == WT_HOP_END) {
		return; /* a waking that raced ahead of a switch-out: nothing was lost */
	}
	state->last.spans[0].end = bpf_ktime_get_ns();
}

static __always_inline __u64 overlap(__u64 start, __u64 end, const struct wait_span *span)
{
	__u64 from = start > span->start ? start : span->start;
	__u64 to = end < span->end ? end : span->end;

	return to > from ? to - from : 0;
}

/*
 * At the switch-in that ends `entry`'s period: returns the chain key's
 * `deeper`, fills `overlaps`, and makes this wait the thread's last one, as
 * waker levels for the chains it may extend.
 */
static __always_inline __u32 finish_wait(const struct wt_off_cpu *entry, __u32 tid, __u64 waking_ns,
					 __u64 *overlaps)
{
	__u32 context = entry->waker.context;
	struct chain_state *state;
	struct wt_hop *hop;
	__u32 zero = 0, deeper, below, last_below = 0;
	bool extended;

	if (context == WT_CTX_PREEMPTED)
		return WT_HOP_END; /* not a wait: the last one stands */
	state = chain_state_of(tid, true);
	if (!state)
		return context == WT_CTX_TASK ? WT_HOP_WAKER_LOST : WT_HOP_END;
	/* Whatever else is known of this wait, it ended at its waking (one that
	 * raced ahead of the switch-out came before it). */
	state->last.spans[0].end = waking_ns;
	if (context == WT_CTX_NONE || state->pending_for != entry->switch_out_ns) {
		/* The waking was not seen, or found no room: this wait is unknown. */
		state->last.status = WT_HOP_WAKER_LOST;
		return context == WT_CTX_TASK ? WT_HOP_WAKER_LOST : WT_HOP_END;
	}
	deeper = state->pending_deeper;
	extended = state->pending.status == WT_HOP_END && deeper != WT_HOP_END &&
		   deeper != WT_HOP_WAKER_UNTRACED && deeper != WT_HOP_WAKER_LOST;
	if (extended) {
		for (__u32 i = 0; i < WT_MAX_HOPS; i++) {
			if (i + 2 > chain_depth)
				break;
			overlaps[i] = overlap(entry->switch_out_ns, waking_ns, &state->pending.spans[i]);
		}
	}
	hop = bpf_map_lookup_elem(&hop_scratch, &zero);
	if (!entry->sampled || !hop) {
		state->last.status = WT_HOP_WAKER_LOST; /* no stacks to show this wait with */
		return deeper;
	}

	/* This wait as levels: spans first, then the hops, shortest first. */
	state->last.spans[0].start = entry->switch_out_ns;
	state->last.spans[0].end = waking_ns;
	for (__u32 i = 1; i < WT_MAX_HOPS; i++) {
		if (extended) {
			state->last.spans[i] = state->pending.spans[i - 1];
		} else {
			state->last.spans[i].start = 0;
			state->last.spans[i].end = 0;
		}
	}
	hop->blocked = entry->target;
	hop->waker = entry->waker;
	hop->reserved = 0;
	if (dwarf_stack_bytes) {
		/* --dwarf user stacks are per-event snapshots, which would make
		 * every hop new: deeper levels keep kernel stacks only. */
		hop->blocked.user_stack_id = WT_STACK_ID_NOT_CAPTURED;
		hop->waker.task.user_stack_id = WT_STACK_ID_NOT_CAPTURED;
	}
	for (__u32 n = 0; n < WT_MAX_HOPS; n++) {
		if (n + 2 > chain_depth)
			break;
		if (!extended)
			below = deeper;
		else if (n == 0)
			below = WT_HOP_DEPTH_REACHED;
		else
			below = state->pending.hops[n - 1];
		if (n > 0 && below == last_below) {
			state->last.hops[n] = state->last.hops[n - 1];
			continue;
		}
		hop->deeper = below;
		state->last.hops[n] = intern_hop(hop);
		last_below = below;
	}
	state->last.status = WT_HOP_END;
	return deeper;
}

static __always_inline void record_switch_out(void *ctx, struct task_struct *prev,
					      unsigned int state, __u64 now, bool btf)
{
	struct wt_off_cpu entry = {};
	__u32 tid = TASK_READ(btf, prev, pid);
	__u32 tgid = TASK_READ(btf, prev, tgid);
	bool kthread;

	/* pid 0 is every CPU's idle task: one tid shared by many CPUs. A dying
	 * task never comes back to close its entry. */
	if (tid == 0)
		return;
	if (state & TASK_DEAD) {
		/* Running now, so a period still open had its switch-in missed:
		 * count it, or it would be lost without a trace. */
		if (open_period(tid))
			count_drop(WT_DROP_MISSED_SWITCH_IN);
		bpf_map_delete_elem(&off_cpu_threads, &tid);
		if (chain_depth > 1)
			bpf_map_delete_elem(&chain_states, &tid);
		return;
	}
	kthread = is_kthread(prev, btf);
	if (!thread_wanted(tgid, tid, kthread, true))
		return;
	if (!state_wanted(state)) {
		if (chain_depth > 1 && state != TASK_RUNNING)
			forget_last_wait(tid);
		return;
	}
	if (wakeup && state == TASK_RUNNING)
		return;

	entry.switch_out_ns = now;
	entry.state = state;
	entry.sampled = stack_sample_percent >= 100 || bpf_get_prandom_u32() % 100 < stack_sample_percent;
	if (entry.sampled && !wakeup) {
		capture_current(ctx, &entry.target, has_user_memory(prev, kthread, btf), SCRATCH_SWITCH);
	} else {
		identify_current(&entry.target);
		entry.target.kernel_stack_id = wakeup ? WT_STACK_ID_NOT_CAPTURED : WT_STACK_ID_NOT_SAMPLED;
		entry.target.user_stack_id = entry.target.kernel_stack_id;
	}
	/* offcpu: one key per target stack, blocked or preempted, as offcputime. */
	entry.waker.context = state == TASK_RUNNING && !offcpu ? WT_CTX_PREEMPTED : WT_CTX_NONE;
	entry.waker.task.kernel_stack_id = WT_STACK_ID_NOT_CAPTURED;
	entry.waker.task.user_stack_id = WT_STACK_ID_NOT_CAPTURED;
	remember_off_cpu(tid, &entry);
}

/*
 * Adds one off-CPU period to `key`'s times in `map` (chains or thread_totals);
 * false when it did not fit. Plain additions, not atomic ones: both keys
 * hold the target's tid, and only that thread's switch-in adds to them,
 * which one CPU at a time does (under its runqueue's lock). User space
 * takes a generation's entries only once no program can be adding to them.
 */
static const struct wt_chain_value zero_times;

static __always_inline bool add_times(void *map, void *key, __u64 total, __u64 blocked,
				      const __u64 *overlaps, __u32 full_cause, __u64 *created)
{
	struct wt_chain_value *value = bpf_map_lookup_elem(map, key);

	if (!value) {
		long err = bpf_map_update_elem(map, key, &zero_times, BPF_NOEXIST);

		/* -EEXIST: another CPU created it first, which is fine. */
		if (err && err != -EEXIST) {
			count_drop(full_cause);
			return false;
		}
		if (!err)
			__sync_fetch_and_add(created, 1);
		value = bpf_map_lookup_elem(map, key);
		if (!value)
			return false;
	}
	value->total_ns += total;
	if (!offcpu) { /* offcpu sees no waking: the time is not split */
		value->blocked_ns += blocked;
		value->runqueue_ns += total - blocked;
	}
	value->count += 1;
	if (overlaps) {
		for (__u32 i = 0; i < WT_MAX_HOPS; i++) {
			if (i + 2 > chain_depth)
				break;
			if (overlaps[i])
				value->overlap_ns[i] += overlaps[i];
		}
	}
	if (total > value->max_ns)
		value->max_ns = total;
	return true;
}

/* floor(log2(value)) for value > 0: a binary search over its bit widths. */
static __always_inline __u32 log2_floor(__u64 value)
{
	__u32 result = 0;

	for (__u32 width = 32; width; width /= 2) {
		if (value >> width) {
			value >>= width;
			result += width;
		}
	}
	return result;
}

/* The histogram bucket of a duration (see WT_HISTOGRAM_BUCKETS). */
static __always_inline __u32 histogram_bucket(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 bucket;

	if (!us)
		return 0;
	bucket = log2_floor(us) + 1;
	return bucket < WT_HISTOGRAM_BUCKETS ? bucket : WT_HISTOGRAM_BUCKETS - 1;
}

static const struct wt_histogram_value zero_histogram;

/* Counts one period of the chain `key` in its histograms; the chain's own
 * entry was just added to, so a histogram that does not fit is a loss of its
 * own (the period is still in the chain's sums). */
static __always_inline void add_to_histogram(const struct wt_chain_key *key, __u64 total,
					     __u64 runqueue)
{
	struct wt_histogram_value *histogram = bpf_map_lookup_elem(&chain_histograms, key);

	if (!histogram) {
		long err = bpf_map_update_elem(&chain_histograms, key, &zero_histogram, BPF_NOEXIST);

		if (err && err != -EEXIST) {
			count_drop(WT_DROP_HISTOGRAM_MAP_FULL);
			return;
		}
		histogram = bpf_map_lookup_elem(&chain_histograms, key);
		if (!histogram)
			return;
	}
	/* One writer per key, as in add_times(). */
	histogram->off_cpu[histogram_bucket(total)] += 1;
	if (!offcpu)
		histogram->runqueue[histogram_bucket(runqueue)] += 1;
}

/* --dwarf: the period goes to user space, which sums it once its user
 * stacks are unwound. */
static __always_inline void send_period(const struct wt_chain_key *key, __u64 total, __u64 blocked,
					const __u64 *overlaps)
{
	struct wt_period_event *event = bpf_ringbuf_reserve(&stack_events, sizeof(*event), 0);

	if (!event) {
		count_drop(WT_DROP_PERIOD_EVENT);
		return;
	}
	event->type = WT_EVENT_PERIOD;
	event->reserved = 0;
	event->key = *key;
	event->total_ns = total;
	event->blocked_ns = blocked;
	for (__u32 i = 0; i < WT_MAX_HOPS; i++)
		event->overlap_ns[i] = overlaps[i];
	bpf_ringbuf_submit(event, stack_event_flags());
}

/* Config::events: the period as it happened, to the caller's reader. A
 * full ring loses the event (counted), never waits. */
static __always_inline void send_off_cpu_event(const struct wt_off_cpu *entry, __u64 now)
{
	struct wt_off_cpu_event *event = bpf_ringbuf_reserve(&off_cpu_events, sizeof(*event), 0);
	bool trigger = trigger_blocked_ns && now - entry->switch_out_ns >= trigger_blocked_ns;

	if (!event) {
		count_drop(WT_DROP_OFF_CPU_EVENT);
		return;
	}
	event->switch_out_ns = entry->switch_out_ns;
	event->waking_ns = entry->waking_ns;
	event->switch_in_ns = now;
	event->target = entry->target;
	event->waker = entry->waker;
	if (event->waker.context == WT_CTX_NONE && !offcpu)
		event->waker.context = WT_CTX_UNSEEN;
	event->state = entry->state;
	event->flags = trigger ? WT_OFF_CPU_EVENT_TRIGGER : 0;
	bpf_ringbuf_submit(event, trigger ? BPF_RB_FORCE_WAKEUP : off_cpu_event_flags());
}

/* Config::min_block_us and max_block_us, inclusive. */
static __always_inline bool within_bounds(__u64 ns)
{
	return ns >= min_block_ns && ns <= max_block_ns;
}

static __always_inline void account_switch_in(struct task_struct *next, __u64 now, bool btf)
{
	__u32 tid = TASK_READ(btf, next, pid);
	struct wt_chain_key key = {};
	__u64 overlaps[WT_MAX_HOPS] = {};
	struct wt_off_cpu *entry;
	__u64 total, blocked = 0;
	__u32 generation;

	if (tid == 0)
		return;
	entry = open_period(tid);
	if (!entry)
		return;
	/* Read only for a period that ends here: most switch-ins end none. */
	generation = *(volatile __u32 *)&chain_generation;
	total = now - entry->switch_out_ns;
	/* A waking that raced ahead of the switch-out was not seen: count the
	 * whole time as waiting for a CPU, which it was. */
	if (entry->waking_ns)
		blocked = entry->waking_ns - entry->switch_out_ns;
	/* Before the time bounds: a short wait still links a chain. */
	if (chain_depth > 1)
		key.deeper = finish_wait(entry, tid, entry->switch_out_ns + blocked, overlaps);
	/* offwaketime and offcputime bound the time off CPU; wakeuptime the
	 * blocked time (switch-out to waking). */
	if (!within_bounds(wakeup ? blocked : total))
		goto done;
	if (events)
		send_off_cpu_event(entry, now);
	if (stack_sample_percent < 100) {
		struct wt_thread_key thread = {
			.tgid = entry->target.tgid,
			.tid = entry->target.tid,
			.generation = generation,
		};

		__builtin_memcpy(thread.comm, entry->target.comm, sizeof(thread.comm));
		add_times(&thread_totals, &thread, total, blocked, NULL, WT_DROP_THREAD_MAP_FULL,
			  &thread_totals_created);
	}
	if (entry->sampled) {
		key.generation = generation;
		key.target = entry->target;
		key.wakers[0] = entry->waker;
		if (key.wakers[0].context == WT_CTX_NONE && !offcpu)
			key.wakers[0].context = WT_CTX_UNSEEN;
		if (dwarf_stack_bytes)
			send_period(&key, total, blocked, overlaps);
		else if (add_times(&chains, &key, total, blocked, chain_depth > 1 ? overlaps : NULL,
				   WT_DROP_CHAIN_MAP_FULL, &chains_created) &&
			 histograms)
			add_to_histogram(&key, total, total - blocked);
	}
done:
	entry->switch_out_ns = 0;
}

static __always_inline void record_waking(void *ctx, struct task_struct *task, bool btf)
{
	__u32 tid = TASK_READ(btf, task, pid);
	struct wt_off_cpu *entry = open_period(tid);
	struct wt_waker_key *waker;
	__u32 context;
	bool in_task;

	if (!entry) {
		if (chain_depth > 1)
			note_unseen_wait(task, tid, btf);
		return;
	}
	/* Only the first waking after a blocking switch-out counts: a preempted
	 * thread (WT_CTX_PREEMPTED) or an already woken one keeps what it has. */
	if (entry->waker.context != WT_CTX_NONE)
		return;
	/* The time first: the stack walks below take microseconds, which
	 * belong to the target's runqueue wait, not to its blocked time. */
	entry->waking_ns = bpf_ktime_get_ns();
	waker = &entry->waker;
	if (wakeup && !within_bounds(entry->waking_ns - entry->switch_out_ns)) {
		/* wakeuptime bounds the blocked time, known here: the period
		 * will be dropped at switch-in, so its stacks are not taken. */
		waker->context = WT_CTX_TASK;
		return;
	}
	/* Asked once: deeper chains and the waker's stacks both need it, an
	 * unsampled waking at depth 1 neither. */
	in_task = (chain_depth > 1 || entry->sampled) && on_task_stack(ctx);
	if (chain_depth > 1)
		follow_waker(entry, tid, in_task);
	if (!entry->sampled) {
		/* Only the time split is needed: no stacks, no identity. */
		waker->context = WT_CTX_TASK;
		return;
	}
	context = in_task ? WT_CTX_TASK : WT_CTX_INTERRUPT;
	waker->flags = 0;
	if (context == WT_CTX_TASK) {
		struct task_struct *current = current_task();
		bool kthread = is_kthread(current, current_task_btf);

		capture_current(ctx, &waker->task,
				!no_waker_user_stacks && has_user_memory(current, kthread, current_task_btf),
				SCRATCH_WAKING);
		/* Only when some filter is on: without one, every task passes. */
		if ((filters_on || cgroup_count) &&
		    !thread_wanted(waker->task.tgid, waker->task.tid, kthread, true))
			waker->flags = WT_WAKER_KEY_OUTSIDE_FILTERS;
	} else {
		/* The interrupted task did not cause this: keep only the kernel
		 * stack, which shows the timer or device path. */
		__builtin_memset(&waker->task, 0, sizeof(waker->task));
		waker->task.kernel_stack_id =
			capture_kernel_stacks ? stack_id(ctx, SCRATCH_WAKING, false) : WT_STACK_ID_NOT_CAPTURED;
		waker->task.user_stack_id =
			capture_user_stacks ? WT_STACK_ID_IRQ_DROPPED : WT_STACK_ID_NOT_CAPTURED;
	}
	waker->context = context;
}

static __always_inline void on_switch(void *ctx, unsigned long long *args, bool btf)
{
	bool preempt = args[0];
	struct task_struct *prev = (struct task_struct *)args[1];
	struct task_struct *next = (struct task_struct *)args[2];
	unsigned int state;
	__u64 now = bpf_ktime_get_ns();

	/* A preempted task is runnable whatever its state word says; the 4th
	 * argument is the state schedule() acted on, without the race of
	 * re-reading it here (kernel commit fa2c3254d7cf, 5.18). */
	if (preempt)
		state = TASK_RUNNING;
	else if (has_prev_state_arg)
		state = (unsigned int)args[3];
	else
		state = read_task_state(prev);

	account_switch_in(next, now, btf);
	record_switch_out(ctx, prev, state, now, btf);
}

/*
 * exec replaces a process's memory map: a process seen before must be
 * announced again, so user space reads the new map. In --dwarf mode the
 * ring buffer also says where in the stream of snapshots the exec fell.
 */
static __always_inline void on_exec(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct wt_exec_event *event;

	if (bpf_map_delete_elem(&announced_processes, &tgid))
		return; /* never announced: nothing stale to replace */
	if (!dwarf_stack_bytes)
		return;
	event = bpf_ringbuf_reserve(&stack_events, sizeof(*event), 0);
	if (!event) {
		count_drop(WT_DROP_USER_STACK_EVENT);
		return;
	}
	event->type = WT_EVENT_EXEC;
	event->tgid = tgid;
	bpf_ringbuf_submit(event, stack_event_flags());
}

/* follow_children: a process forked by a traced process is traced from its
 * first switch on (the fork runs before the child can), a thread needs
 * nothing (its tgid is the process's). */
static __always_inline void on_fork(struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u8 yes = 1;

	if (!follow_children || parent_tgid == child_tgid)
		return;
	if (!bpf_map_lookup_elem(&filter_tgids, &parent_tgid))
		return;
	if (bpf_map_update_elem(&filter_tgids, &child_tgid, &yes, BPF_ANY))
		count_drop(WT_DROP_CHILD_FILTER_FULL);
}

/* follow_children: once a process's last thread exits, its pid leaves the
 * filter, so a new process that gets the pid again is not traced for it.
 * do_exit() counts the thread out of signal->live before this tracepoint. */
static __always_inline void on_exit(struct task_struct *task)
{
	__u32 tgid;

	if (!follow_children || BPF_CORE_READ(task, signal, live.counter) != 0)
		return;
	tgid = BPF_CORE_READ(task, tgid);
	bpf_map_delete_elem(&filter_tgids, &tgid);
}

SEC("tp_btf/sched_process_fork")
int sched_process_fork_btf(unsigned long long *ctx)
{
	on_fork((struct task_struct *)ctx[0], (struct task_struct *)ctx[1]);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int sched_process_fork_raw(unsigned long long *ctx)
{
	on_fork((struct task_struct *)ctx[0], (struct task_struct *)ctx[1]);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int sched_process_exit_btf(unsigned long long *ctx)
{
	on_exit((struct task_struct *)ctx[0]);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int sched_process_exit_raw(unsigned long long *ctx)
{
	on_exit((struct task_struct *)ctx[0]);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int sched_process_exec_btf(unsigned long long *ctx)
{
	on_exec();
	return 0;
}

SEC("raw_tp/sched_process_exec")
int sched_process_exec_raw(unsigned long long *ctx)
{
	on_exec();
	return 0;
}

SEC("tp_btf/sched_switch")
int sched_switch_btf(unsigned long long *ctx)
{
	on_switch(ctx, ctx, true);
	return 0;
}

SEC("raw_tp/sched_switch")
int sched_switch_raw(unsigned long long *ctx)
{
	on_switch(ctx, ctx, false);
	return 0;
}

SEC("tp_btf/sched_waking")
int sched_waking_btf(unsigned long long *ctx)
{
	record_waking(ctx, (struct task_struct *)ctx[0], true);
	return 0;
}

SEC("raw_tp/sched_waking")
int sched_waking_raw(unsigned long long *ctx)
{
	record_waking(ctx, (struct task_struct *)ctx[0], false);
	return 0;
}
