/*
 * cyl_threads.c -- the kernels' thread pool and thread settings.
 *
 * Why not OpenMP: libgomp's pool does not survive fork() (a child that enters a
 * parallel region after the parent used one hangs forever), its wait policy
 * (spin ~300k iterations at every barrier) is a process-wide environment setting
 * that makes the default slower than one thread when another process keeps a core
 * busy, and its thread count is not per calling thread.  This pool is small:
 *
 *  - A job is `nblocks` independent blocks fn(ctx, b, scratch).  The calling thread
 *    and up to nt - 1 workers claim blocks one at a time from a shared counter
 *    (dynamic scheduling): a participant slowed by another process simply takes
 *    fewer blocks.  Kernels write each block's partial sum to its own slot and add
 *    the slots in block order, so results never depend on the thread count or on
 *    which thread ran which block.
 *  - Waiting is bounded spinning (~CYL_SPIN_NS) then sleeping on a condition
 *    variable, for workers between jobs and for the caller at the end of a job:
 *    back-to-back calls find the workers awake, an idle process holds no core.
 *  - fork(): the child forgets the parent's pool (pthread_atfork) and starts a new
 *    one on its first parallel call; nothing inherited from the parent (threads,
 *    locks held by a parent thread inside a kernel) is touched again.
 *  - One job at a time: a caller that finds the pool busy (another thread's job, or
 *    a call from inside a block) runs its blocks itself.
 *  - Scratch: every participant gets CYL_SCRATCH_BYTES of heap memory (per thread,
 *    allocated once), so kernels keep their block buffers off the stack (a thread
 *    with a 32 KiB stack can call any kernel).
 *
 * Thread count of a call (cyl_num_threads), first that applies:
 *   the calling thread's override (cyloss.num_threads(n) context);
 *   the process setting (cyloss.set_num_threads(n));
 *   else the default: OMP_NUM_THREADS if set, else min(CPUs in the affinity mask,
 *   cgroup CPU quota) (both given by the Python module at import), capped by the
 *   calling thread's threadpoolctl limit.
 */
#if defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) && !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L /* ISO C mode (-std=c11): declare POSIX (posix_memalign) */
#endif
#include "cyloss.h"
#include "cyl_internal.h"

#include <stdlib.h>
#include <string.h>

#if !defined(CYL_NO_THREADS) && (defined(_WIN32) || !(defined(__unix__) || defined(__APPLE__)))
#define CYL_NO_THREADS 1 /* the pool needs POSIX threads; elsewhere kernels are serial */
#endif

#ifndef CYL_NO_THREADS
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#endif

#if defined(_MSC_VER)
#define CYL_TLS __declspec(thread)
#else
#define CYL_TLS _Thread_local
#endif

/* ---------------------------------------------------------------- settings */
static int cyl_process_threads = 0; /* cyl_set_num_threads; 0: default */
static int cyl_env_threads = 0;     /* OMP_NUM_THREADS; 0: unset */
static int cyl_hw_threads = 0;      /* min(affinity, cgroup quota); 0: not given */
static CYL_TLS int cyl_tls_threads = 0; /* per-thread override; 0: none */
static CYL_TLS int cyl_tls_limit = 0;   /* per-thread threadpoolctl limit; 0: none */
static CYL_TLS int cyl_tls_last = 0;    /* threads of this thread's last parallel_for */

int cyl_last_call_threads(void)
{
    return cyl_tls_last;
}

#ifndef CYL_NO_THREADS
#define CYL_LOAD(v) __atomic_load_n(&(v), __ATOMIC_RELAXED)
#define CYL_STORE(v, x) __atomic_store_n(&(v), (x), __ATOMIC_RELAXED)
#else
#define CYL_LOAD(v) (v)
#define CYL_STORE(v, x) ((v) = (x))
#endif

int cyl_threads_enabled(void)
{
#ifdef CYL_NO_THREADS
    return 0;
#else
    return 1;
#endif
}

static int cyl_online_cpus(void)
{
#if !defined(CYL_NO_THREADS) && defined(_SC_NPROCESSORS_ONLN)
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > CYL_MAX_THREADS ? CYL_MAX_THREADS : (int)n;
#else
    return 1;
#endif
}

static int cyl_default_threads(void)
{
    int n = CYL_LOAD(cyl_env_threads);
    if (n <= 0) n = CYL_LOAD(cyl_hw_threads);
    if (n <= 0) n = cyl_online_cpus();
    if (cyl_tls_limit > 0 && cyl_tls_limit < n) n = cyl_tls_limit;
    return n;
}

int cyl_set_thread_defaults(int env_threads, int hw_threads)
{
    if (env_threads < 0 || env_threads > CYL_MAX_THREADS || hw_threads < 0 || hw_threads > CYL_MAX_THREADS)
        return CYL_ERR_ARG;
    CYL_STORE(cyl_env_threads, env_threads);
    CYL_STORE(cyl_hw_threads, hw_threads);
    return CYL_OK;
}

int cyl_set_num_threads(int n)
{
    if (n < 0 || n > CYL_MAX_THREADS) return CYL_ERR_ARG;
    CYL_STORE(cyl_process_threads, n);
    return CYL_OK;
}

int cyl_get_num_threads_setting(void)
{
    return CYL_LOAD(cyl_process_threads);
}

int cyl_set_thread_num_threads(int n)
{
    if (n < 0 || n > CYL_MAX_THREADS) return CYL_ERR_ARG;
    cyl_tls_threads = n;
    return CYL_OK;
}

int cyl_get_thread_num_threads(void)
{
    return cyl_tls_threads;
}

int cyl_get_num_threads(void)
{
#ifdef CYL_NO_THREADS
    return 1;
#else
    int n = cyl_tls_threads;
    if (n <= 0) n = CYL_LOAD(cyl_process_threads);
    if (n <= 0) n = cyl_default_threads();
    return n;
#endif
}

/* threadpoolctl's controller (cyloss/_threads.py) reaches these through ctypes.
 * Setting a limit at or above the default without a limit clears it, so that
 * threadpoolctl restoring the value it read leaves "no limit", not a number. */
CYL_EXPORT int cyloss_threadpoolctl_get_num_threads(void)
{
    return cyl_get_num_threads();
}

CYL_EXPORT void cyloss_threadpoolctl_set_num_threads(int n)
{
    cyl_tls_limit = 0;
    if (n >= 1 && n < cyl_default_threads()) cyl_tls_limit = n;
}

int cyl_threads_for(double work)
{
    if (work < CYL_PARALLEL_MIN_WORK) return 1;
    int nt = cyl_get_num_threads();
    double most = work / (CYL_PARALLEL_MIN_WORK / 2); /* keep >= 64K of work per thread */
    if ((double)nt > most) nt = (int)most;
    return nt > 1 ? nt : 1;
}

/* ------------------------------------------------------------- scratch */
#ifdef CYL_NO_THREADS
static void *cyl_serial_scratch = NULL;
static void *cyl_thread_scratch(void)
{
    if (!cyl_serial_scratch) cyl_serial_scratch = malloc(CYL_SCRATCH_BYTES);
    return cyl_serial_scratch;
}
#else
static CYL_TLS void *cyl_tls_scratch = NULL;
static pthread_key_t cyl_scratch_key;
static pthread_once_t cyl_scratch_once = PTHREAD_ONCE_INIT;
static int cyl_scratch_key_ok = 0;

static void cyl_scratch_make_key(void)
{
    cyl_scratch_key_ok = pthread_key_create(&cyl_scratch_key, free) == 0;
}

/* The calling thread's scratch block, allocated on first use and freed when the
 * thread exits (pthread key destructor); NULL if the allocation fails. */
static void *cyl_thread_scratch(void)
{
    void *s = cyl_tls_scratch;
    if (s) return s;
    pthread_once(&cyl_scratch_once, cyl_scratch_make_key);
    s = malloc(CYL_SCRATCH_BYTES);
    if (!s) return NULL;
    if (cyl_scratch_key_ok) pthread_setspecific(cyl_scratch_key, s);
    cyl_tls_scratch = s;
    return s;
}
#endif

/* ------------------------------------------------------------- the pool */
#ifndef CYL_NO_THREADS

/* Waiting.  A worker busy-waits up to CYL_SPIN_NS for the next job before sleeping:
 * longer than the gap between two calls of a loop of kernel calls from Python (a few
 * us; measured on 2 cores, loops of softmax 200x1000 / mse 3e5: 1.83x / 1.72x one
 * thread with the spin, 1.42x / 1.34x sleeping at once), short enough that a process
 * that has stopped calling stops using CPU at once.
 * But spinning while another process wants the CPU costs the worker its place in the
 * scheduler's queue (Linux EEVDF/CFS: the spin is charged as run time), so when the
 * next job comes it waits for the other process's time slice and the caller does the
 * job alone (measured: loops of 1e6-element calls no faster than one thread with a
 * busy core).  So a worker spins only while it sees no competition: it stops spinning
 * as soon as it notices it was preempted during a spin (a gap of CYL_GAP_NS between two
 * clock reads) or joined a job late (more than CYL_LATE_NS after it was posted), and
 * resumes after CYL_CALM jobs joined promptly.  Sleeping at once, it is woken (~20 us)
 * ahead of the competing process. */
#ifndef CYL_SPIN_NS
#define CYL_SPIN_NS 50000L
#endif
#define CYL_GAP_NS 20000L
#define CYL_LATE_NS 200000L
#define CYL_CALM 8

static inline void cyl_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int64_t cyl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define CYL_LINE 64
typedef struct cyl_pool {
    pthread_mutex_t mu;
    pthread_cond_t wake;      /* workers sleep here between jobs */
    pthread_cond_t finished;  /* the owner sleeps here at the end of a job */
    atomic_flag busy;         /* a job is running */
    int nworkers;             /* started (only the job owner changes it) */
    /* the current job: written by its owner before `open` is set, read-only during it */
    cyl_block_fn fn;
    void *ctx;
    ptrdiff_t nblocks;
    int nt;                   /* participants it was planned for (owner included) */
    atomic_uint gen;          /* bumped for every job: workers wait for a change */
    atomic_int open;          /* workers may join the current job */
    atomic_int slots;         /* workers still allowed to join it */
    atomic_int sleepers;      /* workers waiting on `wake` */
    _Atomic int64_t posted_ns;/* when the current job was posted (cyl_now_ns) */
    atomic_int owner_sleeps;  /* the owner is waiting on `finished` */
    /* written for every block / every join: a cache line each, away from the fields
     * above that every participant reads */
    _Alignas(CYL_LINE) atomic_ptrdiff_t next; /* next block to claim */
    _Alignas(CYL_LINE) atomic_int active;     /* workers inside the job */
    char pad_[CYL_LINE - sizeof(atomic_int)];
} cyl_pool;

static cyl_pool *_Atomic cyl_the_pool = NULL;
/* pools abandoned by fork() children: kept reachable (not a leak for LeakSanitizer) */
static cyl_pool *cyl_forked_away = NULL;

/* Claim and run chunks of consecutive blocks until none is left ("guided" schedule: a
 * chunk is 1/(4 nt) of the blocks not yet claimed, at least one).  Consecutive blocks on
 * one thread keep its memory streams sequential: claiming single blocks, the two
 * threads' blocks interleave and a 2-thread softmax (4096x1000 f32) ran 1.55x one thread
 * instead of 1.95x.  Chunks shrink to single blocks at the end, so a participant slowed
 * by another process holds little of the work when the others run out. */
static void cyl_pool_run_blocks(cyl_pool *p, void *scratch)
{
    const cyl_block_fn fn = p->fn;
    void *const ctx = p->ctx;
    const ptrdiff_t nb = p->nblocks, div = 4 * (ptrdiff_t)p->nt;
    ptrdiff_t b0 = atomic_load_explicit(&p->next, memory_order_relaxed), len;
    for (;;) {
        do {
            if (b0 >= nb) return;
            len = (nb - b0) / div;
            if (len < 1) len = 1;
        } while (!atomic_compare_exchange_weak_explicit(&p->next, &b0, b0 + len, memory_order_relaxed,
                                                        memory_order_relaxed));
        for (ptrdiff_t b = b0; b < b0 + len; b++)
            fn(ctx, b, scratch);
        b0 = atomic_load_explicit(&p->next, memory_order_relaxed);
    }
}

typedef struct {
    cyl_pool *pool;
    unsigned gen; /* the generation current when the worker was started */
} cyl_worker_arg;

static void *cyl_worker_main(void *varg)
{
    cyl_worker_arg a = *(cyl_worker_arg *)varg;
    free(varg);
    cyl_pool *p = a.pool;
    unsigned seen = a.gen;
    void *scratch = cyl_thread_scratch();
    int calm = CYL_CALM; /* jobs joined promptly since the last sign of competition */
    for (;;) {
        unsigned g = atomic_load(&p->gen);
        if (g == seen) {
            if (calm >= CYL_CALM) {
                int64_t t0 = cyl_now_ns(), last = t0;
                for (int k = 1; (g = atomic_load(&p->gen)) == seen; k++) {
                    cyl_cpu_relax();
                    if ((k & 63) == 0) {
                        int64_t now = cyl_now_ns();
                        if (now - last > CYL_GAP_NS) { /* preempted while spinning */
                            calm = 0;
                            break;
                        }
                        if (now - t0 > CYL_SPIN_NS) break;
                        last = now;
                    }
                }
            }
            if (g == seen) {
                pthread_mutex_lock(&p->mu);
                atomic_fetch_add(&p->sleepers, 1);
                while ((g = atomic_load(&p->gen)) == seen)
                    pthread_cond_wait(&p->wake, &p->mu);
                atomic_fetch_sub(&p->sleepers, 1);
                pthread_mutex_unlock(&p->mu);
            }
        }
        seen = g;
        if (cyl_now_ns() - atomic_load_explicit(&p->posted_ns, memory_order_relaxed) > CYL_LATE_NS)
            calm = 0;
        else if (calm < CYL_CALM)
            calm++;
        /* Join the job that is open now (maybe a later one than g: harmless). The
         * owner waits for active == 0 after closing, so the job's fields stay valid
         * while active counts us. */
        atomic_fetch_add(&p->active, 1);
        if (scratch && atomic_load(&p->open) && atomic_fetch_sub(&p->slots, 1) > 0)
            cyl_pool_run_blocks(p, scratch);
        /* the last worker out wakes a sleeping owner (all blocks are claimed by then:
         * a worker leaves run_blocks only when none is left) */
        if (atomic_fetch_sub(&p->active, 1) == 1 && atomic_load(&p->owner_sleeps)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->finished);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

static void cyl_after_fork_child(void)
{
    /* The workers did not survive; a parent thread may have been inside a job. Start
     * over with a new pool on the next parallel call. */
    cyl_pool *old = atomic_load(&cyl_the_pool);
    if (old) {
        cyl_forked_away = old;
        atomic_store(&cyl_the_pool, NULL);
    }
}

static pthread_once_t cyl_atfork_once = PTHREAD_ONCE_INIT;
static void cyl_register_atfork(void)
{
    pthread_atfork(NULL, NULL, cyl_after_fork_child);
}

static cyl_pool *cyl_get_pool(void)
{
    cyl_pool *p = atomic_load(&cyl_the_pool);
    if (p) return p;
    pthread_once(&cyl_atfork_once, cyl_register_atfork);
    void *mem = NULL;
    if (posix_memalign(&mem, CYL_LINE, sizeof(cyl_pool))) return NULL;
    p = (cyl_pool *)memset(mem, 0, sizeof(cyl_pool));
    if (pthread_mutex_init(&p->mu, NULL) || pthread_cond_init(&p->wake, NULL) ||
        pthread_cond_init(&p->finished, NULL)) {
        free(p);
        return NULL;
    }
    atomic_flag_clear(&p->busy);
    cyl_pool *expected = NULL;
    if (!atomic_compare_exchange_strong(&cyl_the_pool, &expected, p)) {
        pthread_cond_destroy(&p->finished);
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return expected;
    }
    return p;
}

/* Start workers until there are `want` (the owner holds p->busy). */
static void cyl_pool_grow(cyl_pool *p, int want)
{
    if (p->nworkers >= want) return;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr)) return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, (size_t)1 << 20);
    /* workers take no signals: Python handles them on the main thread */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    while (p->nworkers < want) {
        cyl_worker_arg *a = (cyl_worker_arg *)malloc(sizeof *a);
        if (!a) break;
        a->pool = p;
        a->gen = atomic_load(&p->gen);
        pthread_t tid;
        if (pthread_create(&tid, &attr, cyl_worker_main, a)) {
            free(a);
            break;
        }
        p->nworkers++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
}

/* The owner, after its own run_blocks (every block claimed): close the job and wait
 * until the workers inside it have finished their blocks and left. */
static void cyl_pool_finish(cyl_pool *p)
{
    atomic_store(&p->open, 0);
    if (atomic_load(&p->active) == 0) return;
    int64_t t0 = cyl_now_ns();
    for (int k = 1; atomic_load(&p->active) != 0; k++) {
        cyl_cpu_relax();
        if ((k & 63) == 0 && cyl_now_ns() - t0 > CYL_SPIN_NS) {
            pthread_mutex_lock(&p->mu);
            atomic_store(&p->owner_sleeps, 1);
            while (atomic_load(&p->active) != 0)
                pthread_cond_wait(&p->finished, &p->mu);
            atomic_store(&p->owner_sleeps, 0);
            pthread_mutex_unlock(&p->mu);
            return;
        }
    }
}
#endif /* !CYL_NO_THREADS */

int cyl_parallel_for(ptrdiff_t nblocks, double work, cyl_block_fn fn, void *ctx)
{
    if (nblocks <= 0) return CYL_OK;
    void *scratch = cyl_thread_scratch();
    if (!scratch) return CYL_ERR_NOMEM;
    int nt = cyl_threads_for(work);
    if (nt > nblocks) nt = (int)nblocks;
#ifndef CYL_NO_THREADS
    cyl_pool *p = nt > 1 ? cyl_get_pool() : NULL;
    if (p && !atomic_flag_test_and_set(&p->busy)) {
        cyl_pool_grow(p, nt - 1);
        if (p->nworkers > 0) {
            p->fn = fn;
            p->ctx = ctx;
            p->nblocks = nblocks;
            p->nt = nt;
            atomic_store(&p->next, 0);
            atomic_store(&p->slots, nt - 1);
            atomic_store_explicit(&p->posted_ns, cyl_now_ns(), memory_order_relaxed);
            atomic_store(&p->open, 1);
            atomic_fetch_add(&p->gen, 1);
            if (atomic_load(&p->sleepers) > 0) {
                pthread_mutex_lock(&p->mu);
                if (nt - 1 >= p->nworkers)
                    pthread_cond_broadcast(&p->wake);
                else
                    for (int k = 0; k < nt - 1; k++)
                        pthread_cond_signal(&p->wake);
                pthread_mutex_unlock(&p->mu);
            }
            cyl_pool_run_blocks(p, scratch);
            cyl_pool_finish(p);
            atomic_flag_clear(&p->busy);
            cyl_tls_last = nt;
            return CYL_OK;
        }
        atomic_flag_clear(&p->busy);
    }
#endif
    cyl_tls_last = 1;
    for (ptrdiff_t b = 0; b < nblocks; b++)
        fn(ctx, b, scratch);
    return CYL_OK;
}

void *cyl_scratch(void)
{
    return cyl_thread_scratch();
}
