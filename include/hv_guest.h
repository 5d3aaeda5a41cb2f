/*
 * The table a compiled runtime module (module.so) exports to the engine.
 * src/engine/guest_glue.c fills it from wasm2c's generated names; the engine
 * only ever sees this struct, so the generated code stays behind dlopen.
 * `void *g` is the module's instance struct (instance_size bytes).
 */
#ifndef HV_GUEST_H
#define HV_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "wasm-rt.h"

#define HV_GUEST_ABI 2
#define HV_GUEST_SYMBOL "hv_guest_module"

struct Z_harvester_instance_t;
struct Z_wasi_snapshot_preview1_instance_t;

typedef struct {
    uint32_t abi;
    size_t instance_size;
    void (*init_module)(void);
    void (*instantiate)(void *g, struct Z_harvester_instance_t *host,
                        struct Z_wasi_snapshot_preview1_instance_t *wasi);
    void (*free)(void *g);
    /* Points a copied instance struct at new import contexts (snapshots). */
    void (*rebind)(void *g, struct Z_harvester_instance_t *host,
                   struct Z_wasi_snapshot_preview1_instance_t *wasi);
    wasm_rt_memory_t *(*memory)(void *g);
    wasm_rt_funcref_table_t *(*table)(void *g);
    uint32_t (*stack_pointer)(void *g);
    /* Exports of runtime/python/_harvester.c */
    void (*initialize)(void *g);
    int32_t (*main)(void *g);
    int32_t (*init)(void *g);
    int32_t (*exec)(void *g, uint32_t src, uint32_t len, uint32_t name, uint32_t name_len);
    int32_t (*call)(void *g, uint32_t fn, uint32_t fn_len, uint32_t arg, uint32_t arg_len);
    uint32_t (*result_ptr)(void *g);
    uint32_t (*result_len)(void *g);
    int32_t (*exit_code)(void *g);
    uint32_t (*alloc)(void *g, uint32_t size);
    void (*dealloc)(void *g, uint32_t ptr);
    /* Canonical ABI: cabi_realloc, hv_export, hv_post_return */
    uint32_t (*realloc)(void *g, uint32_t old, uint32_t old_size, uint32_t align,
                        uint32_t new_size);
    int32_t (*export_call)(void *g, uint32_t fid, uint32_t args, uint32_t nargs, uint32_t ret);
    void (*post_return)(void *g, uint32_t fid);
} hv_guest_vtable_t;

#endif
