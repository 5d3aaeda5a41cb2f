/*
 * Our implementation of wasm-rt.h, built for a multi-plugin daemon:
 *  - trap state (unwind target, in-guest flags) is thread-local, so plugins
 *    run guest code on many threads at once;
 *  - the SIGSEGV/SIGBUS handler recovers only faults inside the linear memory
 *    reservation (or native stack guard) of the guest running on the
 *    faulting thread; anything else goes to the previous disposition, so a
 *    real host crash still crashes;
 *  - every thread that runs guest code gets its own alternate signal stack;
 *  - freeing a memory unmaps its whole reservation;
 *  - a per-call deadline via a per-thread POSIX timer: the signal unwinds only
 *    while the thread runs guest code and is deferred while inside a host
 *    import (hv_rt_host_enter/leave).
 */
#define _GNU_SOURCE
#include "rt.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hv_error.h"

#define WASM_PAGE 65536ULL
/* 4 GiB addressable + 4 GiB so any 32-bit offset still hits the guard. */
#define RESERVATION (8ULL << 30)
#define ALT_STACK_SIZE (64 * 1024)
#define STACK_GUARD_SLACK (256 * 1024)
#define DEADLINE_SIGNAL (SIGRTMIN + 3)

/* siglongjmp values; wasm traps use their wasm_rt_trap_t value (1..8). */
enum { JMP_DEADLINE = 100, JMP_EXIT = 101 };

typedef struct {
    sigjmp_buf *jmp;
    wasm_rt_memory_t *mem;
    int in_guest;
    int in_host;
    volatile sig_atomic_t deadline_hit;
    int exit_code;
    int ready; /* alt stack + stack bounds set up */
    void *alt_stack;
    uintptr_t stack_lo, stack_hi;
    int has_timer;
    timer_t timer;
} rt_thread_t;

static _Thread_local rt_thread_t tls;

#if WASM_RT_USE_STACK_DEPTH_COUNT
_Thread_local uint32_t wasm_rt_call_stack_depth;
#endif

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
static struct sigaction prev_segv, prev_bus;
static int initialized;

/* ---- signals ---------------------------------------------------------- */

static int in_range(uintptr_t a, uintptr_t lo, uintptr_t hi) { return a >= lo && a < hi; }

static void fault_handler(int sig, siginfo_t *si, void *ctx)
{
    uintptr_t addr = (uintptr_t)si->si_addr;
    if (tls.in_guest && !tls.in_host && tls.jmp != NULL) {
        if (tls.mem != NULL && tls.mem->data != NULL &&
            in_range(addr, (uintptr_t)tls.mem->data, (uintptr_t)tls.mem->data + RESERVATION))
            siglongjmp(*tls.jmp, WASM_RT_TRAP_OOB);
        if (tls.stack_lo &&
            in_range(addr, tls.stack_lo - STACK_GUARD_SLACK, tls.stack_lo + STACK_GUARD_SLACK))
            siglongjmp(*tls.jmp, WASM_RT_TRAP_EXHAUSTION);
    }
    /* Not ours: hand over to whoever was there before, else die normally. */
    struct sigaction *prev = sig == SIGSEGV ? &prev_segv : &prev_bus;
    if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction != NULL) {
        prev->sa_sigaction(sig, si, ctx);
        return;
    }
    if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN && prev->sa_handler != NULL) {
        prev->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL); /* the faulting instruction re-runs and kills us */
}

static void deadline_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    (void)ctx;
    if (!tls.in_guest)
        return; /* stale expiry after the call ended */
    tls.deadline_hit = 1;
    if (!tls.in_host && tls.jmp != NULL)
        siglongjmp(*tls.jmp, JMP_DEADLINE);
}

static void thread_cleanup(void *p)
{
    (void)p;
    if (tls.has_timer)
        timer_delete(tls.timer);
    if (tls.alt_stack != NULL) {
        stack_t ss = {.ss_flags = SS_DISABLE};
        sigaltstack(&ss, NULL);
        munmap(tls.alt_stack, ALT_STACK_SIZE);
    }
    tls.has_timer = 0;
    tls.alt_stack = NULL;
    tls.ready = 0;
}

static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;

/* (Re)installs the fault handler, chaining to whatever is there now. */
static void install_fault_handler(void)
{
    struct sigaction sa = {0};
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sa.sa_sigaction = fault_handler;
    pthread_mutex_lock(&handler_lock);
    struct sigaction cur;
    if (sigaction(SIGSEGV, NULL, &cur) == 0 && cur.sa_sigaction != fault_handler)
        sigaction(SIGSEGV, &sa, &prev_segv);
    if (sigaction(SIGBUS, NULL, &cur) == 0 && cur.sa_sigaction != fault_handler)
        sigaction(SIGBUS, &sa, &prev_bus);
    pthread_mutex_unlock(&handler_lock);
}

/* A library or test harness may replace SIGSEGV after us; then guest
 * faults would kill the process. One sigaction query per outermost call
 * keeps us first in line. */
static void ensure_fault_handler(void)
{
    struct sigaction cur;
    if (sigaction(SIGSEGV, NULL, &cur) != 0 || cur.sa_sigaction != fault_handler ||
        sigaction(SIGBUS, NULL, &cur) != 0 || cur.sa_sigaction != fault_handler)
        install_fault_handler();
}

static void global_init(void)
{
    pthread_key_create(&thread_key, thread_cleanup);
    install_fault_handler();
    struct sigaction sa = {0};
    sigemptyset(&sa.sa_mask);
    sa.sa_sigaction = deadline_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigaction(DEADLINE_SIGNAL, &sa, NULL);
    initialized = 1;
}

void wasm_rt_init(void) { pthread_once(&init_once, global_init); }
bool wasm_rt_is_initialized(void) { return initialized; }
void wasm_rt_free(void) {}

/* Per-thread setup on first guest call: alternate signal stack (a stack
 * overflow must still be able to run the handler) and stack bounds. */
static int thread_ready(void)
{
    if (tls.ready)
        return 0;
    wasm_rt_init();
    void *alt = mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (alt == MAP_FAILED)
        return HV_ENOMEM;
    stack_t ss = {.ss_sp = alt, .ss_size = ALT_STACK_SIZE, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(alt, ALT_STACK_SIZE);
        return HV_ENOMEM;
    }
    tls.alt_stack = alt;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
            tls.stack_lo = (uintptr_t)addr;
            tls.stack_hi = (uintptr_t)addr + size;
        }
        pthread_attr_destroy(&attr);
    }
    pthread_setspecific(thread_key, &tls);
    tls.ready = 1;
    return 0;
}

static int arm_deadline(uint64_t ns)
{
    if (!tls.has_timer) {
        struct sigevent sev = {0};
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = DEADLINE_SIGNAL;
        sev._sigev_un._tid = gettid();
        if (timer_create(CLOCK_MONOTONIC, &sev, &tls.timer) != 0)
            return HV_ENOMEM;
        tls.has_timer = 1;
    }
    struct itimerspec its = {0};
    its.it_value.tv_sec = (time_t)(ns / 1000000000ULL);
    its.it_value.tv_nsec = (long)(ns % 1000000000ULL);
    return timer_settime(tls.timer, 0, &its, NULL) == 0 ? 0 : HV_EIO;
}

static void disarm_deadline(void)
{
    struct itimerspec its = {0};
    if (tls.has_timer)
        timer_settime(tls.timer, 0, &its, NULL);
}

int hv_rt_trap_code(wasm_rt_trap_t trap)
{
    switch (trap) {
    case WASM_RT_TRAP_OOB:
        return HV_ETRAP_OOB;
    case WASM_RT_TRAP_INT_OVERFLOW:
        return HV_ETRAP_INT_OVERFLOW;
    case WASM_RT_TRAP_DIV_BY_ZERO:
        return HV_ETRAP_DIV_BY_ZERO;
    case WASM_RT_TRAP_INVALID_CONVERSION:
        return HV_ETRAP_CONVERSION;
    case WASM_RT_TRAP_UNREACHABLE:
        return HV_ETRAP_UNREACHABLE;
    case WASM_RT_TRAP_CALL_INDIRECT:
        return HV_ETRAP_CALL_INDIRECT;
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION:
        return HV_ETRAP_EXCEPTION;
    case WASM_RT_TRAP_EXHAUSTION:
        return HV_ETRAP_EXHAUSTION;
    default:
        return HV_EINVAL;
    }
}

int hv_rt_call(const hv_rt_call_opts_t *opts, hv_rt_thunk_fn fn, void *arg, int *ret_exit_code)
{
    int rc = thread_ready();
    if (rc != 0)
        return rc;
    /* Save the outer call's state: imports may call back into the guest. */
    sigjmp_buf *saved_jmp = tls.jmp;
    wasm_rt_memory_t *saved_mem = tls.mem;
    int saved_in_host = tls.in_host;
    int outer = tls.in_guest;
    sigjmp_buf jb;
#if WASM_RT_USE_STACK_DEPTH_COUNT
    uint32_t depth = wasm_rt_call_stack_depth;
#endif
    if (!outer)
        ensure_fault_handler();
    int jv = sigsetjmp(jb, 1);
    if (jv == 0) {
        tls.jmp = &jb;
        tls.mem = opts ? opts->mem : NULL;
        tls.in_host = 0;
        tls.deadline_hit = 0;
        if (!outer && opts && opts->deadline_ns) {
            rc = arm_deadline(opts->deadline_ns);
            if (rc != 0)
                goto out_restore;
        }
        tls.in_guest = 1;
        fn(arg);
        rc = HV_OK;
    } else if (jv == JMP_DEADLINE) {
        rc = HV_ETRAP_DEADLINE;
    } else if (jv == JMP_EXIT) {
        rc = HV_EEXIT;
        if (ret_exit_code)
            *ret_exit_code = tls.exit_code;
    } else {
        rc = hv_rt_trap_code((wasm_rt_trap_t)jv);
    }
    if (!outer)
        disarm_deadline();
out_restore:
#if WASM_RT_USE_STACK_DEPTH_COUNT
    wasm_rt_call_stack_depth = depth;
#endif
    tls.jmp = saved_jmp;
    tls.mem = saved_mem;
    tls.in_guest = outer;
    tls.in_host = saved_in_host;
    if (!outer)
        tls.deadline_hit = 0;
    return rc;
}

void hv_rt_host_enter(void) { tls.in_host++; }

void hv_rt_host_leave(void)
{
    if (--tls.in_host == 0 && tls.deadline_hit && tls.in_guest && tls.jmp)
        siglongjmp(*tls.jmp, JMP_DEADLINE);
}

int hv_rt_deadline_expired(void) { return tls.deadline_hit != 0; }

void hv_rt_exit(int code)
{
    tls.exit_code = code;
    tls.in_host = 0;
    if (tls.jmp == NULL)
        abort(); /* proc_exit outside hv_rt_call: engine bug */
    siglongjmp(*tls.jmp, JMP_EXIT);
}

uint64_t hv_rt_memory_reservation(void) { return RESERVATION; }

void wasm_rt_trap(wasm_rt_trap_t code)
{
    if (tls.jmp == NULL)
        abort(); /* guest code outside hv_rt_call: engine bug */
    siglongjmp(*tls.jmp, (int)code);
}

const char *wasm_rt_strerror(wasm_rt_trap_t trap) { return hv_strerror(hv_rt_trap_code(trap)); }

/* ---- function types (shared by all modules; registered at init) ---------- */

typedef struct {
    uint32_t nparams, nresults;
    wasm_rt_type_t types[];
} func_type_t;

static pthread_mutex_t types_lock = PTHREAD_MUTEX_INITIALIZER;
static func_type_t **types;
static uint32_t ntypes;

uint32_t wasm_rt_register_func_type(uint32_t nparams, uint32_t nresults, ...)
{
    uint32_t n = nparams + nresults;
    func_type_t *t = malloc(sizeof *t + n * sizeof(wasm_rt_type_t));
    if (t == NULL)
        abort(); /* module init without memory: nothing sensible to run */
    t->nparams = nparams;
    t->nresults = nresults;
    va_list ap;
    va_start(ap, nresults);
    for (uint32_t i = 0; i < n; i++)
        t->types[i] = va_arg(ap, wasm_rt_type_t);
    va_end(ap);
    pthread_mutex_lock(&types_lock);
    for (uint32_t i = 0; i < ntypes; i++) {
        if (types[i]->nparams == nparams && types[i]->nresults == nresults &&
            memcmp(types[i]->types, t->types, n * sizeof(wasm_rt_type_t)) == 0) {
            pthread_mutex_unlock(&types_lock);
            free(t);
            return i + 1;
        }
    }
    func_type_t **nt = realloc(types, (ntypes + 1) * sizeof *nt);
    if (nt == NULL)
        abort();
    types = nt;
    types[ntypes++] = t;
    uint32_t id = ntypes;
    pthread_mutex_unlock(&types_lock);
    return id;
}

/* Exceptions proposal: not used by our modules (wasm2c needs the symbols). */
uint32_t wasm_rt_register_tag(uint32_t size)
{
    (void)size;
    return 0;
}
void wasm_rt_load_exception(uint32_t tag, uint32_t size, const void *values)
{
    (void)tag;
    (void)size;
    (void)values;
}
void wasm_rt_throw(void) { wasm_rt_trap(WASM_RT_TRAP_UNCAUGHT_EXCEPTION); }
WASM_RT_UNWIND_TARGET *wasm_rt_get_unwind_target(void) { return tls.jmp; }
void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET *target) { tls.jmp = target; }
uint32_t wasm_rt_exception_tag(void) { return 0; }
uint32_t wasm_rt_exception_size(void) { return 0; }
void *wasm_rt_exception(void) { return NULL; }

/* ---- memory ----------------------------------------------------------- */

void wasm_rt_allocate_memory(wasm_rt_memory_t *mem, uint32_t initial, uint32_t max)
{
    uint64_t bytes = (uint64_t)initial * WASM_PAGE;
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
    void *base = mmap(NULL, RESERVATION, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                      -1, 0);
    if (base == MAP_FAILED)
        wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
    if (bytes && mprotect(base, bytes, PROT_READ | PROT_WRITE) != 0) {
        munmap(base, RESERVATION);
        wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
    }
#else
    void *base = calloc(1, bytes ? bytes : 1);
    if (base == NULL)
        wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
#endif
    mem->data = base;
    mem->pages = initial;
    mem->max_pages = max;
    mem->size = (uint32_t)bytes;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *mem, uint32_t delta)
{
    uint32_t old = mem->pages;
    uint64_t pages = (uint64_t)old + delta;
    if (delta == 0)
        return old;
    if (pages > mem->max_pages || pages > 65536)
        return (uint32_t)-1;
    uint64_t old_bytes = (uint64_t)old * WASM_PAGE, new_bytes = pages * WASM_PAGE;
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
    if (mprotect(mem->data + old_bytes, new_bytes - old_bytes, PROT_READ | PROT_WRITE) != 0)
        return (uint32_t)-1;
#else
    uint8_t *nd = realloc(mem->data, new_bytes);
    if (nd == NULL)
        return (uint32_t)-1;
    memset(nd + old_bytes, 0, new_bytes - old_bytes);
    mem->data = nd;
#endif
    mem->pages = (uint32_t)pages;
    mem->size = (uint32_t)new_bytes; /* 4 GiB wraps to 0 only at the 65536 cap */
    return old;
}

void wasm_rt_free_memory(wasm_rt_memory_t *mem)
{
    if (mem->data == NULL)
        return;
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
    munmap(mem->data, RESERVATION);
#else
    free(mem->data);
#endif
    mem->data = NULL;
    mem->size = mem->pages = 0;
}

/* ---- tables ----------------------------------------------------------- */

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t *t, uint32_t n, uint32_t max)
{
    t->data = calloc(n ? n : 1, sizeof *t->data);
    if (t->data == NULL)
        wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
    t->size = n;
    t->max_size = max;
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t *t)
{
    free(t->data);
    t->data = NULL;
    t->size = 0;
}

void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t *t, uint32_t n, uint32_t max)
{
    t->data = calloc(n ? n : 1, sizeof *t->data);
    if (t->data == NULL)
        wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
    t->size = n;
    t->max_size = max;
}

void wasm_rt_free_externref_table(wasm_rt_externref_table_t *t)
{
    free(t->data);
    t->data = NULL;
    t->size = 0;
}

uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t *t, uint32_t delta,
                                    wasm_rt_funcref_t init)
{
    uint32_t old = t->size;
    uint64_t n = (uint64_t)old + delta;
    if (n > t->max_size || n > (1u << 24))
        return (uint32_t)-1;
    wasm_rt_funcref_t *nd = realloc(t->data, (size_t)(n ? n : 1) * sizeof *nd);
    if (nd == NULL)
        return (uint32_t)-1;
    for (uint64_t i = old; i < n; i++)
        nd[i] = init;
    t->data = nd;
    t->size = (uint32_t)n;
    return old;
}

uint32_t wasm_rt_grow_externref_table(wasm_rt_externref_table_t *t, uint32_t delta,
                                      wasm_rt_externref_t init)
{
    uint32_t old = t->size;
    uint64_t n = (uint64_t)old + delta;
    if (n > t->max_size || n > (1u << 24))
        return (uint32_t)-1;
    wasm_rt_externref_t *nd = realloc(t->data, (size_t)(n ? n : 1) * sizeof *nd);
    if (nd == NULL)
        return (uint32_t)-1;
    for (uint64_t i = old; i < n; i++)
        nd[i] = init;
    t->data = nd;
    t->size = (uint32_t)n;
    return old;
}

int hv_rt_memory_from_image(wasm_rt_memory_t *mem, int fd, size_t bytes, uint32_t max_pages)
{
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
    uint8_t *base = mmap(NULL, RESERVATION, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                         -1, 0);
    if (base == MAP_FAILED)
        return HV_ENOMEM;
    if (bytes && mmap(base, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) ==
                     MAP_FAILED) {
        munmap(base, RESERVATION);
        return HV_ENOMEM;
    }
#else
    uint8_t *base = malloc(bytes ? bytes : 1);
    if (base == NULL)
        return HV_ENOMEM;
    for (size_t done = 0; done < bytes;) {
        ssize_t n = pread(fd, base + done, bytes - done, (off_t)done);
        if (n <= 0) {
            free(base);
            return HV_ENOMEM;
        }
        done += (size_t)n;
    }
#endif
    mem->data = base;
    mem->pages = (uint32_t)(bytes / WASM_PAGE);
    mem->size = (uint32_t)bytes;
    mem->max_pages = max_pages;
    return HV_OK;
}
