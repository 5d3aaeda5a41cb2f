/*
 * The Component Model's canonical ABI, host side and dynamic: given WIT
 * types at run time, lift guest values out of linear memory and flat core
 * values into hv_value_t trees, and lower trees back (CanonicalABI.md:
 * sizes and alignment, flattening with MAX_FLAT_PARAMS/RESULTS, utf-8
 * strings, lists, records, variants with their discriminant sizes, flags,
 * cabi_realloc, return pointers).
 *
 * Flat core values travel in 64-bit slots: an i32 in the low half (upper
 * half ignored on lift, zero on lower), an i64 whole, an f32's bits in the
 * low half, an f64's bits whole. With one slot width the spec's variant
 * coercions (i32<->f32 reinterpretation, i32<->i64 widening) are simply
 * "read the slot as the wanted type".
 *
 * Everything a guest hands us is checked: bounds (with overflow-safe
 * arithmetic), alignment, UTF-8, char scalar values, discriminants, slot
 * counts. A failure is a clean HV_EINVAL for that call with a message
 * naming the function, parameter and path; nothing outside guest memory is
 * ever read or written.
 */
#ifndef HV_ABI_H
#define HV_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "hv_value.h"
#include "hv_wit.h"

#define HV_ABI_MAX_FLAT_PARAMS 16
#define HV_ABI_MAX_FLAT_RESULTS 1
/* Cap on the host memory one call's lifted values may take. */
#define HV_ABI_MAX_LIFT_BYTES (64u << 20)

typedef enum { HV_ABI_I32, HV_ABI_I64, HV_ABI_F32, HV_ABI_F64 } hv_abi_core_t;

/* Guest memory as the ABI needs it: where it is now, and cabi_realloc. */
typedef struct {
    uint8_t *(*memory)(void *ctx, size_t *ret_size);
    /* A new guest block (size may be 0); HV_OK or a negative hv_err_t. */
    int (*alloc)(void *ctx, uint32_t size, uint32_t align, uint32_t *ret_addr);
    void *ctx;
} hv_abi_mem_t;

uint32_t hv_abi_size(const hv_wit_type_t *t);
uint32_t hv_abi_align(const hv_wit_type_t *t);

/* Writes up to max flat types of t into out; returns how many t has. */
size_t hv_abi_flatten(const hv_wit_type_t *t, hv_abi_core_t *out, size_t max);
/* Flat count of a function's parameters and of its result. */
size_t hv_abi_flat_params(const hv_wit_func_t *f);
size_t hv_abi_flat_results(const hv_wit_func_t *f);

/* ---- the host is the callee (a guest calls an import) -------------------- */

/*
 * Lifts f's arguments from nslots slots (or, when they flatten to more than
 * MAX_FLAT_PARAMS, from the params tuple at the address in the one slot).
 * *ret_args gets f->nparams values allocated in a. HV_OK, HV_EINVAL with
 * a message, or HV_ENOMEM / HV_ETOOBIG (over HV_ABI_MAX_LIFT_BYTES).
 */
int hv_abi_lift_params(const hv_abi_mem_t *m, const hv_wit_func_t *f, const uint64_t *slots,
                       size_t nslots, hv_arena_t *a, hv_value_t **ret_args, char *err,
                       size_t errlen);

/*
 * Lowers f's result into guest memory at ret (one slot when the result
 * flattens to <= MAX_FLAT_RESULTS values, else the result's layout),
 * allocating strings and lists through m->alloc (the guest then owns them).
 * result may be NULL when f has no result.
 */
int hv_abi_lower_result(const hv_abi_mem_t *m, const hv_wit_func_t *f, const hv_value_t *result,
                        uint32_t ret, char *err, size_t errlen);

/* ---- the host is the caller (the host calls a plugin's export) ----------- */

/*
 * Lowers args (f->nparams values) into *ret_nslots slots (at most
 * MAX_FLAT_PARAMS: more spill into a guest tuple block passed by address).
 * Guest blocks it allocates are the guest's to free.
 */
int hv_abi_lower_params(const hv_abi_mem_t *m, const hv_wit_func_t *f, const hv_value_t *args,
                        uint64_t ret_slots[HV_ABI_MAX_FLAT_PARAMS], size_t *ret_nslots,
                        char *err, size_t errlen);

/* Lifts f's result from the export's result slot (the value, or the address
 * of its layout). *ret is untouched when f has no result. */
int hv_abi_lift_result(const hv_abi_mem_t *m, const hv_wit_func_t *f, uint64_t slot,
                       hv_arena_t *a, hv_value_t *ret, char *err, size_t errlen);

/*
 * The world as JSON for the guest SDK (harvester._bootstrap): a type table
 * and, per imported/exported interface, its functions with type ids;
 * exports carry their export ids (index in hv_abi_world_exports order).
 * malloc'd text or NULL when out of memory.
 */
char *hv_abi_describe_world(const hv_wit_world_t *w);

#endif
