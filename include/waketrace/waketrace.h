/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libwaketrace C API: why threads were not running, and who woke them.
 *
 * Stable ABI: symbols are versioned (WAKETRACE_0.1, ...) and only ever added;
 * structs passed in start with their size (`sz`) so older and newer callers
 * both work; result structs end in reserved bytes that new fields are carved
 * from. Nothing here throws: every function returns 0 / a negative errno, or
 * NULL with errno set, and leaves a message for wt_last_error().
 *
 *     struct wt_profiler_opts opts = { .sz = sizeof(opts) };
 *     struct wt_profiler *p = wt_profiler_new(&opts);
 *     wt_profiler_add_pid(p, pid);
 *     if (wt_profiler_start(p) < 0) fprintf(stderr, "%s\n", wt_last_error());
 *     sleep(5);
 *     wt_profiler_stop(p);
 *     struct wt_profile *profile = wt_profiler_results(p);
 *     for (size_t i = 0; i < profile->nr_chains; i++) ... profile->chains[i] ...
 *     wt_profile_free(profile);
 *     wt_profiler_free(p);
 *
 * Threads: a wt_profiler may be used by one thread at a time; separate
 * profilers are independent. wt_last_error() is per thread.
 */
#ifndef WAKETRACE_WAKETRACE_H
#define WAKETRACE_WAKETRACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WAKETRACE_VERSION_MAJOR 0
#define WAKETRACE_VERSION_MINOR 4

/* wt_profiler_opts.threads */
#define WT_THREADS_ALL 0
#define WT_THREADS_USER_ONLY 1
#define WT_THREADS_KERNEL_ONLY 2

/* wt_profiler_opts.stacks */
#define WT_STACKS_BOTH 0
#define WT_STACKS_KERNEL_ONLY 1
#define WT_STACKS_USER_ONLY 2

/* wt_profiler_opts.attach */
#define WT_ATTACH_AUTO 0   /* probe the kernel, prefer tp_btf */
#define WT_ATTACH_TP_BTF 1
#define WT_ATTACH_RAW_TP 2

/* wt_profiler_opts.flags */
#define WT_OPT_STATE_FILTER (1u << 0) /* apply state_mask (offwaketime --state) */
#define WT_OPT_NO_WAKER_USER_STACKS (1u << 1) /* wakers keep their kernel stacks only */
#define WT_OPT_FOLLOW_CHILDREN (1u << 2) /* trace processes the traced pids fork (0.3) */
#define WT_OPT_HISTOGRAMS (1u << 3) /* latency histograms per chain (wt_chain_histogram, 0.4) */
#define WT_OPT_OFFCPU (1u << 4) /* offcputime: targets' stacks only, no wakers (0.4) */
#define WT_OPT_WAKEUP (1u << 5) /* wakeuptime: wakers' stacks only, per woken thread (0.4) */
#define WT_OPT_EVENTS (1u << 6) /* every off-CPU period also as an event (wt_profiler_read_events, 0.5) */

/* Log levels passed to wt_log_fn */
#define WT_LOG_DEBUG 0
#define WT_LOG_INFO 1
#define WT_LOG_WARNING 2

/* Called from the thread that called into the library, and from the
 * library's own threads (ring readers, symbol loading, the thread that moves
 * full maps to user space) while a profiler runs, wt_profiler_stop() and
 * wt_profiler_free() included: it must be safe to call from any thread.
 * `message` is only valid during the call. */
typedef void (*wt_log_fn)(void *ctx, uint32_t level, const char *message);

/*
 * Creation options. Zero means the default for every field, so
 * `{ .sz = sizeof(opts) }` is a valid configuration. An older, smaller struct
 * is accepted (an sz that ends inside a field is EINVAL); bytes the library
 * does not know must be zero (else EINVAL).
 */
struct wt_profiler_opts {
	size_t sz;                    /* sizeof(struct wt_profiler_opts) */
	uint32_t flags;               /* WT_OPT_* */
	uint32_t threads;             /* WT_THREADS_* */
	uint32_t stacks;              /* WT_STACKS_* */
	uint32_t attach;              /* WT_ATTACH_* */
	uint32_t state_mask;          /* with WT_OPT_STATE_FILTER: 0 = preempted only, N = any of these bits */
	uint32_t stack_storage_size;  /* stacks of up to 32 frames the kernel maps hold, and an
	                               * eighth as many (at least 64) longer ones; moved when
	                               * half full (not a cap on the profile); 0: 4096 */
	uint64_t min_block_us;        /* shortest off-CPU period kept; 0: 1 us */
	uint64_t max_block_us;        /* longest off-CPU period kept; 0: no limit */
	uint32_t max_chains;          /* the kernel chain map's size, moved to user space
	                               * when half full (not a cap on the profile); 0: 16384 */
	uint32_t max_off_cpu_threads; /* traced threads alive at once; 0: 16384 */
	wt_log_fn log;                /* optional: messages, libbpf's during wt_profiler_start
	                               * among them (dropped when NULL); may come from
	                               * library threads */
	void *log_ctx;                /* passed to log */
	uint32_t stack_sample_percent; /* blocking events whose stacks are taken, 1-100; 0: 100.
	                                * Below 100, chain times are scaled-up estimates and
	                                * wt_profile.threads stays exact. */
	uint32_t dwarf_stack_bytes;   /* 0: user stacks by frame pointers. N: copy up to N
	                               * bytes (a multiple of 1024, at most 16384; less once
	                               * a thread's stack end is learned) of each user
	                               * stack and unwind it with the binaries' CFI, which
	                               * also names callers of code without frame pointers
	                               * (libc); costs more. x86_64, Linux 5.15+. */
	uint32_t dwarf_ring_bytes;    /* with dwarf_stack_bytes: the ring buffer carrying the
	                               * copies to the unwinding thread, a power of two number
	                               * of pages up to 1 GiB (copies that find it full are
	                               * counted in wt_losses); 0: 4096 copies per CPU, at
	                               * least 8192, at most 32 MiB */
	uint32_t chain_depth;         /* waker levels per chain, 1-8; 0: 1 (offwaketime). N > 1
	                               * follows a waker that was itself woken during the
	                               * target's wait back to who woke it (wt_chain.end,
	                               * wt_waker overlap_ns and blocked_stacks), up to N wakers (0.3) */
	uint32_t max_hops;            /* distinct waker levels kept for chain_depth > 1; 0: 16384
	                               * (0.3) */
	uint32_t events_ring_bytes;   /* with WT_OPT_EVENTS: the events' ring buffer, a power of
	                               * two number of pages up to 1 GiB (events that find it
	                               * full are counted in wt_extra_losses); 0: 32768 events
	                               * per CPU, at most 64 MiB (0.5) */
	uint32_t trigger_blocked_ms;  /* with WT_OPT_EVENTS: wt_event.flags has WT_EVENT_F_TRIGGERED
	                               * for a period off CPU this long or longer; 0: never (0.5) */
	uint8_t reserved[36];         /* zero */
};

/* Why a stack has no frames (wt_stack.status) */
#define WT_STACK_OK 0
#define WT_STACK_NOT_CAPTURED 1 /* not asked for, or a kernel thread's user stack */
#define WT_STACK_IRQ_DROPPED 2  /* user stack of a task an interrupt happened to hit */
#define WT_STACK_COLLISION 3    /* lost: another stack's frames hashed to the same id */
#define WT_STACK_MAP_FULL 4     /* lost to a full stack map: raise stack_storage_size */
#define WT_STACK_ERROR 5        /* lost to another capture error (wt_stack.error) */

/* Who or what woke the target (wt_waker.context) */
#define WT_WAKER_TASK 0      /* a task: wt_waker.task names it */
#define WT_WAKER_HARDIRQ 1   /* a hard interrupt (timer, device) */
#define WT_WAKER_SOFTIRQ 2
#define WT_WAKER_NMI 3
#define WT_WAKER_PREEMPTED 4 /* never blocked: switched out while runnable */
#define WT_WAKER_UNSEEN 5    /* blocked, but the waking raced ahead of the switch-out */

/* Output layouts for wt_profile_format() */
#define WT_FORMAT_TEXT 0     /* offwaketime's default layout */
#define WT_FORMAT_FOLDED 1   /* offwaketime -f, for flamegraph.pl */
#define WT_FORMAT_DELIMITER (1u << 8) /* flag: "-" between user and kernel frames */
#define WT_FORMAT_SVG 2      /* an interactive flame graph, one SVG document (since 0.3) */
#define WT_FORMAT_BY_BLOCKED (1u << 9)  /* flag, WT_FORMAT_SVG: widths by blocked time first */
#define WT_FORMAT_BY_RUNQUEUE (1u << 10) /* flag, WT_FORMAT_SVG: widths by runqueue time first */
#define WT_FORMAT_PPROF 3    /* a gzipped pprof profile: bytes, from wt_profile_format_bytes() (0.4) */
/* flags, any layout (since 0.4): name each target and task waker "comm-pid"
 * (WT_FORMAT_PER_PROCESS) or "comm-pid/tid" (WT_FORMAT_PER_THREAD) instead of
 * its comm alone, so the threads of different processes (or each thread)
 * sharing a comm stay apart; not both */
#define WT_FORMAT_PER_PROCESS (1u << 11)
#define WT_FORMAT_PER_THREAD (1u << 12)

/* Results: all pointers below borrow from the wt_profile they came from and
 * stay valid until wt_profile_free(). */
struct wt_frame {
	uint64_t address;
	uint64_t offset;     /* from the symbol's start */
	const char *symbol;  /* demangled; NULL when unresolved */
	const char *module;  /* file path, "[kernel]" or a kernel module; "" if unknown */
};

struct wt_stack {
	uint32_t status;     /* WT_STACK_* */
	int32_t error;       /* the kernel's -errno for COLLISION / MAP_FULL / ERROR */
	size_t nr_frames;
	const struct wt_frame *frames; /* innermost (leaf) first */
};

struct wt_task {
	uint32_t tid;
	uint32_t tgid;       /* process id */
	const char *comm;    /* "" for non-task wakers */
};

struct wt_waker {
	uint32_t context;    /* WT_WAKER_* */
	uint32_t flags;      /* WT_WAKER_F_* (0.3; was reserved, an older library leaves it 0) */
	struct wt_task task;
	struct wt_stack kernel_stack; /* where it was when it woke the level below */
	struct wt_stack user_stack;
	/* chain_depth > 1 (carved from reserved after 0.2.0: an older library
	 * leaves them 0 / NULL). overlap_ns: how much of the target's blocked
	 * time the wait this waker ended overlapped (wakers[0]: the target's own,
	 * so blocked_ns; wakers[i]: the wait of wakers[i - 1]). blocked_stacks:
	 * when wakers[i + 1] exists, the kernel ([0]) and user ([1]) stacks this
	 * waker had itself blocked in, the wait wakers[i + 1] ended; else NULL. */
	uint64_t overlap_ns;
	const struct wt_stack *blocked_stacks;
	uint8_t reserved[16];
};

/* wt_waker.flags */
#define WT_WAKER_F_OUTSIDE_FILTERS (1u << 0) /* a task the filters do not trace (0.3) */

/* Why a chain has no deeper waker level (wt_chain.end) */
#define WT_CHAIN_COMPLETE 0       /* the last waker was running, an interrupt, or none */
#define WT_CHAIN_DEPTH_REACHED 1  /* it was woken during the wait; chain_depth levels shown */
#define WT_CHAIN_WAKER_UNTRACED 2 /* its own wait is outside the filters */
#define WT_CHAIN_WAKER_LOST 3     /* its own wait was lost (wt_extra_losses) or not sampled */

struct wt_chain {
	struct wt_task target;
	struct wt_stack kernel_stack;
	struct wt_stack user_stack;
	size_t nr_wakers;
	const struct wt_waker *wakers; /* wakers[0] woke the target */
	uint64_t total_ns;             /* off CPU: switch-out -> switch-in */
	uint64_t blocked_ns;           /* switch-out -> waking */
	uint64_t runqueue_ns;          /* waking -> switch-in */
	uint64_t max_ns;               /* longest single period */
	uint64_t count;                /* periods summed here */
	uint32_t end;                  /* WT_CHAIN_* (carved from reserved after 0.2.0) */
	uint8_t reserved[28];
};

/* What did not make it into the results, per cause. */
struct wt_losses {
	uint64_t stack_collisions;
	uint64_t stack_map_full;
	uint64_t stack_errors;
	uint64_t chain_map_full;
	uint64_t missed_switch_outs;
	uint64_t process_events;
	uint64_t thread_map_full;     /* periods missing from wt_profile.threads */
	uint64_t user_stack_events;   /* dwarf_stack_bytes mode: user stacks lost (ring full:
	                               * raise dwarf_ring_bytes) */
	uint64_t period_events;       /* dwarf_stack_bytes mode: periods lost (ring full) */
	uint64_t missed_switch_ins;   /* periods lost: the kernel did not report the switch
	                               * back in (carved from reserved after 0.2.0: an older
	                               * library leaves it 0) */
};

/* One target thread's off-CPU time, whatever its stacks (exact even when
 * stacks are sampled). */
struct wt_thread_total {
	struct wt_task task;
	uint64_t total_ns;
	uint64_t blocked_ns;
	uint64_t runqueue_ns;
	uint64_t max_ns;
	uint64_t count;
	uint8_t reserved[16];
};

struct wt_profile {
	size_t nr_chains;
	const struct wt_chain *chains; /* ascending by total_ns */
	struct wt_losses losses;
	uint64_t duration_ns;
	size_t nr_threads;
	const struct wt_thread_total *threads; /* ascending by total_ns */
	uint32_t stack_sample_percent; /* 100 unless stacks were sampled */
	/* Times the kernel's chain map passed half full and its chains were
	 * moved to user space over the same span: the profile grew past
	 * max_chains without loss (carved from reserved after 0.2.0). */
	uint32_t chain_map_moves;
	/* Runs of the BPF programs the kernel skipped because a BPF program was
	 * already running on that CPU; each may have lost a switch or a waking.
	 * A loss cause like those in `losses`, outside struct wt_losses only
	 * because that had no room left (carved from reserved after 0.2.0: an
	 * older library leaves it 0). */
	uint64_t skipped_runs;
};

/* Where a frame is in the source, from DWARF debug info (WAKETRACE_0.2). */
struct wt_source_location {
	size_t sz;           /* the caller sets sizeof(struct wt_source_location) */
	const char *file;    /* NULL when unknown; borrows from the wt_profile */
	uint32_t line;       /* 0 when unknown */
	uint32_t inlined;    /* 1: a function inlined into the next (outer) frame,
	                      * whose address it shares */
};

struct wt_profiler;

/* The library's version, "MAJOR.MINOR.PATCH" (may be newer than the header's
 * WAKETRACE_VERSION_MAJOR/MINOR). */
const char *wt_version(void);

/* The message of the calling thread's last failed call ("" if none). Valid
 * until that thread's next call into the library. */
const char *wt_last_error(void);

/* Creates a profiler; nothing touches the kernel yet. opts may be NULL for
 * defaults. Returns NULL with errno EINVAL (bad options) or ENOMEM. Free with
 * wt_profiler_free(). */
struct wt_profiler *wt_profiler_new(const struct wt_profiler_opts *opts);

/* Stops and frees. NULL is ignored. Profiles already returned stay valid. */
void wt_profiler_free(struct wt_profiler *profiler);

/* Target filters, before start: a thread is traced when it matches every
 * non-empty list. -EINVAL for 0, -EBUSY while running. */
int wt_profiler_add_pid(struct wt_profiler *profiler, uint32_t pid);
int wt_profiler_add_tid(struct wt_profiler *profiler, uint32_t tid);
/* A cgroup v2 directory: a thread in it or below matches (at most 8). -EINVAL
 * for NULL, an empty path or a ninth cgroup, -EBUSY while running; the path is
 * checked at start (-ENOENT, or -EINVAL when not a cgroup v2 directory).
 * Since 0.3. */
int wt_profiler_add_cgroup(struct wt_profiler *profiler, const char *path);

/* Loads and attaches. -EPERM (the message names the missing capability),
 * -ENOTSUP (no BTF), -ESRCH (a pid or tid does not exist), -EBUSY (already
 * running), or the libbpf error. */
int wt_profiler_start(struct wt_profiler *profiler);

/* Detaches; idempotent. Results stay readable. */
int wt_profiler_stop(struct wt_profiler *profiler);

/* Everything captured since start, symbolized: one allocation, freed by
 * wt_profile_free(). Works while running (a snapshot) and after stop.
 * NULL with errno EINVAL if never started. */
struct wt_profile *wt_profiler_results(struct wt_profiler *profiler);

/* Like wt_profiler_results(), then forgets those chains, so the next drain
 * returns only what came after: for exporting every N seconds while running.
 * Losses are those since the previous drain. */
struct wt_profile *wt_profiler_drain(struct wt_profiler *profiler);

/* Frees a profile. NULL is ignored. */
void wt_profile_free(struct wt_profile *profile);

/* Fills `out` (out->sz set by the caller) with the source file, line and
 * inline flag of `frame`, a frame of `profile`. Inlined functions are frames
 * of their own in wt_stack.frames, placed before the function they were
 * inlined into. Returns 0, or -EINVAL for a NULL argument, a too small
 * out->sz, or a frame that is not part of `profile`. Since 0.2. */
int wt_frame_source(const struct wt_profile *profile, const struct wt_frame *frame,
		    struct wt_source_location *out);

/*
 * Events (WT_OPT_EVENTS, since 0.5): every off-CPU period of a traced thread
 * on its own, as it ends. Read them with wt_profiler_read_events() from any
 * one thread while the profiler runs (and after wt_profiler_stop(), for what
 * is left); events that find the kernel's ring full are lost, counted in
 * wt_extra_losses.off_cpu_events, and the traced threads never wait.
 */
struct wt_event {
	uint64_t switch_out_ns;       /* CLOCK_MONOTONIC; + wt_realtime_offset_ns() = CLOCK_REALTIME */
	uint64_t waking_ns;           /* 0: no waking seen (preempted, or unseen) */
	uint64_t switch_in_ns;
	uint32_t target_tid;
	uint32_t target_tgid;
	char target_comm[16];         /* NUL-terminated */
	uint32_t state;               /* task state at switch-out: 0 preempted, 1 S, 2 D, ... */
	uint32_t waker_context;       /* WT_WAKER_* */
	uint32_t waker_tid;           /* 0 unless waker_context is WT_WAKER_TASK */
	uint32_t waker_tgid;
	char waker_comm[16];          /* "" unless waker_context is WT_WAKER_TASK */
	uint32_t waker_flags;         /* WT_WAKER_F_* */
	uint32_t flags;               /* WT_EVENT_F_* */
	/* Stacks, by id: >= 0 names a stack for wt_profiler_event_stack() (user
	 * stacks with the target's or the waker's tgid); < 0 has no frames, and
	 * wt_stack_id_status() says why. */
	int32_t target_kernel_stack;
	int32_t target_user_stack;
	int32_t waker_kernel_stack;
	int32_t waker_user_stack;
	uint8_t reserved[16];
};

/* wt_event.flags */
#define WT_EVENT_F_TRIGGERED (1u << 0) /* off CPU for at least trigger_blocked_ms */

/* Appends up to `capacity` events, oldest first, to `events` (an array of
 * structs of `event_sz` bytes: sizeof(struct wt_event)); when none waits,
 * waits up to `timeout_ms` (0: not at all, -1: until one comes; an event may
 * wait up to 50 ms before a waiting reader sees it). Returns how many, or
 * -EINVAL (no WT_OPT_EVENTS, never started, a NULL or too small argument),
 * -EINTR never (a signal ends the wait with what there is). */
int wt_profiler_read_events(struct wt_profiler *profiler, struct wt_event *events, size_t event_sz,
			    size_t capacity, int timeout_ms);
/* A file descriptor for poll()/epoll: readable when a batch of events
 * waits. Read with a timeout of 50 ms or so all the same: small batches do
 * not wake it. -EINVAL without events. Valid until the next start or free. */
int wt_profiler_events_fd(const struct wt_profiler *profiler);
/* The named frames of stack `stack_id` of an event already read, innermost
 * first: `tgid` is the process of the event's target (for target_user_stack)
 * or waker (waker_user_stack), ignored for kernel stacks (`kernel` non-zero).
 * One malloc'd block: free with wt_stack_free(). A negative id gives its
 * status and no frames; an id no event named, WT_STACK_ERROR with -ENOENT.
 * NULL (errno, wt_last_error()) when out of memory or not started. */
struct wt_stack *wt_profiler_event_stack(struct wt_profiler *profiler, int32_t stack_id, uint32_t tgid,
					 int kernel);
void wt_stack_free(struct wt_stack *stack);
/* `count` events read from this profiler (an array of structs of `event_sz`
 * bytes) as a Perfetto trace, for ui.perfetto.dev and trace processor: a
 * track per thread with its blocked, runnable and running slices, a flow
 * from each waker, the stacks named (what waketrace --perfetto writes).
 * Bytes, not text: *size says how many. Free with wt_string_free(). NULL
 * (errno, wt_last_error()) without events, or out of memory. */
char *wt_profiler_perfetto_trace(struct wt_profiler *profiler, const struct wt_event *events, size_t event_sz,
				 size_t count, size_t *size);
/* Why a stack id has no frames: WT_STACK_* (WT_STACK_OK for ids >= 0). */
uint32_t wt_stack_id_status(int32_t stack_id);
/* CLOCK_REALTIME minus CLOCK_MONOTONIC now, nanoseconds. */
int64_t wt_realtime_offset_ns(void);

/* Loss causes added after 0.2, which struct wt_losses has no room for.
 * Versioned by sz: later causes are added at the end. */
struct wt_extra_losses {
	size_t sz;                  /* the caller sets sizeof(struct wt_extra_losses) */
	/* Waker levels lost to chains deeper than one level: each ended a chain
	 * early (WT_CHAIN_WAKER_LOST); the periods are counted in full. */
	uint64_t chain_states_full; /* a thread's last wait did not fit (max_off_cpu_threads) */
	uint64_t hop_map_full;      /* a waker level did not fit (max_hops) */
	uint64_t hop_collisions;    /* another level is stored under the level's id (a hash) */
	/* WT_OPT_FOLLOW_CHILDREN: child processes not traced, the pid filter
	 * being full. */
	uint64_t untraced_children;
	/* WT_OPT_HISTOGRAMS: periods missing from their chain's histogram (its
	 * map was full); still in the chain's times. Since 0.4: an older
	 * library leaves it 0. */
	uint64_t histogram_map_full;
	/* WT_OPT_EVENTS: events lost to a full ring buffer (the reader fell
	 * behind); the periods are still in the chains. Since 0.5. */
	uint64_t off_cpu_events;
};

/* Fills `out` (out->sz set by the caller) with `profile`'s extra losses.
 * Returns 0, or -EINVAL for a NULL argument or a too small out->sz. Since 0.3. */
int wt_profile_extra_losses(const struct wt_profile *profile, struct wt_extra_losses *out);

/* Latency histograms of a chain (WT_OPT_HISTOGRAMS), log2 buckets in
 * microseconds as bcc's runqlat keeps them: bucket 0 counts periods under
 * 1 us, bucket i (1 .. WT_HISTOGRAM_NR_BUCKETS - 2) those from 2^(i-1) us up
 * to 2^i us (excluded), the last those of 2^26 us (about 67 s) and more.
 * Versioned by sz. Since 0.4. */
#define WT_HISTOGRAM_NR_BUCKETS 28

struct wt_latency_histogram {
	size_t sz;                                  /* the caller sets sizeof(struct wt_latency_histogram) */
	uint64_t off_cpu[WT_HISTOGRAM_NR_BUCKETS];  /* each period's off-CPU time (total_ns) */
	uint64_t runqueue[WT_HISTOGRAM_NR_BUCKETS]; /* each period's runqueue wait (runqueue_ns) */
};

/* Fills `out` (out->sz set by the caller) with the histograms of `chain`, an
 * element of profile->chains: their counts add up to chain->count (with
 * sampling, to the sampled periods) once the profiler is stopped; all zero
 * when profiled without WT_OPT_HISTOGRAMS. Returns 0, or -EINVAL for a NULL
 * argument, a too small out->sz, or a chain that is not part of `profile`.
 * Since 0.4. */
/* What a profile's periods recorded (wt_profile_mode()): offwaketime's target
 * and waker stacks, or the WT_OPT_OFFCPU or WT_OPT_WAKEUP subset. */
#define WT_MODE_OFFWAKE 0 /* targets' and wakers' stacks */
#define WT_MODE_OFFCPU 1  /* targets' stacks; no wakers, blocked_ns and runqueue_ns 0 */
#define WT_MODE_WAKEUP 2  /* wakers' stacks; targets named, their stacks not captured */

/* The WT_MODE_* `profile` was captured in, or -EINVAL for NULL. Since 0.4. */
int wt_profile_mode(const struct wt_profile *profile);

int wt_chain_histogram(const struct wt_profile *profile, const struct wt_chain *chain,
		       struct wt_latency_histogram *out);

/* Renders a profile as offwaketime prints it: format is WT_FORMAT_TEXT or
 * WT_FORMAT_FOLDED, optionally | WT_FORMAT_DELIMITER; stacks is the
 * WT_STACKS_* the profile was taken with. Returns a NUL-terminated string to
 * free with wt_string_free(), or NULL with errno EINVAL / ENOMEM.
 * WT_FORMAT_SVG draws the folded layout's chains as a self-contained,
 * interactive flame graph (click to zoom, search, a switch between total,
 * blocked and runqueue widths), opening on total time, or on blocked or
 * runqueue time with WT_FORMAT_BY_BLOCKED or WT_FORMAT_BY_RUNQUEUE (not
 * both; neither flag is taken by the other layouts). Every layout takes
 * WT_FORMAT_PER_PROCESS or WT_FORMAT_PER_THREAD (not both). WT_FORMAT_PPROF
 * is binary: EINVAL here, see wt_profile_format_bytes(). */
char *wt_profile_format(const struct wt_profile *profile, uint32_t format, uint32_t stacks);

/* Frees a string from wt_profile_format(), wt_profile_format_bytes() or
 * wt_folded_diff_svg(). NULL is ignored. */
void wt_string_free(char *string);

/* Like wt_profile_format(), for every layout, as bytes that may hold NUL
 * bytes: stores their number in *size and returns them (followed by one NUL
 * byte not counted in *size), to free with wt_string_free(). NULL with
 * errno EINVAL (as wt_profile_format(), or a NULL size) or ENOMEM.
 * WT_FORMAT_PPROF (which only this function renders) is a pprof profile,
 * gzipped profile.proto as `go tool pprof`, Pyroscope and Parca read it:
 * sample types "periods" (count) and "offcpu", "blocked", "runqueue"
 * (nanoseconds; offcpu the default); one sample per chain whose locations
 * are the target's frames innermost first, a "--" location, the waker's
 * frames from the wake-up outward and its name, and so on for each deeper
 * waker level; labels name the target and waker threads and the waker's
 * context; user frames carry mappings with file offsets and build-ids.
 * Since 0.4. */
char *wt_profile_format_bytes(const struct wt_profile *profile, uint32_t format, uint32_t stacks,
			      size_t *size);

/* Options of wt_folded_diff_svg() (since 0.4). Zeroed (with sz set) means
 * every default. */
struct wt_diff_opts {
	size_t sz;               /* the caller sets sizeof(struct wt_diff_opts) */
	const char *before_name; /* what the graph calls BEFORE; NULL: "before" */
	const char *after_name;  /* NULL: "after" */
	const char *title;       /* NULL: "Off-CPU time, differential: BEFORE -> AFTER" */
	uint32_t flags;          /* WT_DIFF_* */
	uint8_t reserved[20];    /* zero */
};

/* wt_diff_opts.flags */
#define WT_DIFF_WIDTHS_BY_BEFORE (1u << 0) /* open on BEFORE's widths, not AFTER's */

/* A differential flame graph of two profiles in folded lines ("frame;frame;...
 * VALUE", as WT_FORMAT_FOLDED and offwaketime -f write them; values read as
 * microseconds), as one self-contained interactive SVG document like
 * WT_FORMAT_SVG's: every stack of either merged by common prefix, each frame
 * as wide as its value in AFTER, red where it grew, blue where it shrank,
 * grey where unchanged; tooltips give both values and the change. Stacks only
 * in BEFORE have no width in AFTER: the subtitle counts them, and the graph's
 * width switch draws BEFORE's values, where they show. opts may be NULL for
 * the defaults. Returns a NUL-terminated string to free with
 * wt_string_free(), or NULL with errno EINVAL (a NULL text, bad opts, or a
 * text that is not folded lines: wt_last_error() names which of the two and
 * the line) or ENOMEM. Since 0.4. */
char *wt_folded_diff_svg(const char *before, const char *after, const struct wt_diff_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* WAKETRACE_WAKETRACE_H */
