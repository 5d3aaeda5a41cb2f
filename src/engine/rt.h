/*
 * Guest execution control on top of wasm-rt.h: run guest code on the calling
 * thread with per-thread trap recovery and a deadline.
 */
#ifndef HV_ENGINE_RT_H
#define HV_ENGINE_RT_H

#include <stdint.h>

#include "wasm-rt.h"

typedef void (*hv_rt_thunk_fn)(void *arg);

typedef struct {
    wasm_rt_memory_t *mem; /* guest memory faults may hit; NULL before instantiation */
    uint64_t deadline_ns;  /* CPU-independent wall budget; 0 = none */
} hv_rt_call_opts_t;

/*
 * Runs fn(arg) as guest code on this thread. Traps (memory faults inside
 * opts->mem, stack exhaustion, deadline expiry, wasm traps) unwind back here.
 * Returns HV_OK, an HV_ETRAP_* code, or HV_EEXIT with *ret_exit_code set
 * (proc_exit). Nested calls (an import calling back into the guest) are
 * allowed. Faults that are not the guest's are not swallowed: the previous
 * signal disposition handles them.
 */
int hv_rt_call(const hv_rt_call_opts_t *opts, hv_rt_thunk_fn fn, void *arg,
               int *ret_exit_code);

/* Bracket every host import body: a deadline that expires inside is deferred
 * to hv_rt_host_leave, so host code is never unwound mid-way. */
void hv_rt_host_enter(void);
void hv_rt_host_leave(void);

/* True when this thread's deadline has expired (lets blocking imports stop
 * early; they return and hv_rt_host_leave traps). */
int hv_rt_deadline_expired(void);

/* Unwinds the current guest call with HV_EEXIT (WASI proc_exit). */
WASM_RT_NO_RETURN void hv_rt_exit(int code);

/* Bytes reserved per linear memory (address space, not RSS). */
uint64_t hv_rt_memory_reservation(void);

/* Maps a wasm_rt_trap_t to its HV_ETRAP_* code. */
int hv_rt_trap_code(wasm_rt_trap_t trap);

/*
 * Replaces mem's contents with a private copy-on-write mapping of the first
 * `bytes` bytes of fd (a snapshot image), keeping the reservation layout of
 * wasm_rt_allocate_memory. mem must be unallocated. HV_OK or HV_ENOMEM.
 */
int hv_rt_memory_from_image(wasm_rt_memory_t *mem, int fd, size_t bytes, uint32_t max_pages);

#endif
