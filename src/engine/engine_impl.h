/* Engine internals shared by engine.c, instance.c and snapshot.c. */
#ifndef HV_ENGINE_IMPL_H
#define HV_ENGINE_IMPL_H

#include <pthread.h>

#include "hv_engine.h"
#include "hv_guest.h"
#include "rt.h"
#include "wasi.h"

struct hv_engine {
    void *dl;
    const hv_guest_vtable_t *vt;
    char *stdlib_dir;
    char *sdk_dir;         /* runtime/sdk: the `harvester` Python package */
    char runtime_id[33];   /* content hash of python.wasm */
    pthread_mutex_t base_lock;
    hv_snapshot_t *base;   /* interpreter + SDK imported, made on first use */
};

/* The import context of module "harvester" (see runtime/python/_harvester.c). */
struct Z_harvester_instance_t {
    hv_hostcall_fn fn;
    void *ud;
    wasm_rt_memory_t *mem;
    uint8_t *pending; /* result or error waiting for take() */
    size_t pending_len;
    const hv_canon_imports_t *canon;
    hv_instance_t *inst;
};

struct hv_instance {
    hv_engine_t *eng;
    void *g; /* the module's instance struct */
    hv_wasi_t wasi;
    struct Z_harvester_instance_t host;
    wasm_rt_memory_t *mem;
    uint64_t deadline_ns;
    uint32_t limit_pages;
    uint32_t module_max_pages; /* the module's own maximum, before our limit */
    int dead;
    int exit_code;
    char *result;
    size_t result_len;
};

struct hv_snapshot {
    hv_engine_t *eng;
    int memfd;
    size_t mem_bytes;
    void *image;            /* copy of the instance struct */
    const void *image_self; /* the instance it was taken from (table rebinding) */
    wasm_rt_funcref_t *table;
    uint32_t table_size, table_max;
};

/* Allocates inst with its WASI and host contexts ready (no guest memory). */
int engine__instance_alloc(hv_engine_t *eng, const hv_instance_opts_t *opts,
                           hv_instance_t **ret);

/* Runs thunk(arg) as guest code with this instance's deadline; a trap marks
 * the instance dead. Nested use from inside an import is allowed. */
int engine__guest_run(hv_instance_t *inst, hv_rt_thunk_fn thunk, void *arg);

/* Applies the memory cap and wires memory into the import contexts. */
int engine__instance_attach_memory(hv_instance_t *inst);

#endif
