/*
 * Compiled into every runtime module.so next to wasm2c's output (see aot.c):
 * adapts the generated Z_pyrt* names to hv_guest_vtable_t. Generated
 * functions take the instance struct typed; the engine passes void *.
 */
#include "hv_guest.h"
#include "pyrt.h"

#define G(g) ((Z_pyrt_instance_t *)(g))

static void instantiate(void *g, struct Z_harvester_instance_t *host,
                        struct Z_wasi_snapshot_preview1_instance_t *wasi)
{
    Z_pyrt_instantiate(G(g), host, wasi);
}

static void free_instance(void *g) { Z_pyrt_free(G(g)); }

static void rebind(void *g, struct Z_harvester_instance_t *host,
                   struct Z_wasi_snapshot_preview1_instance_t *wasi)
{
    G(g)->Z_harvester_instance = host;
    G(g)->Z_wasi_snapshot_preview1_instance = wasi;
}

static wasm_rt_memory_t *memory(void *g) { return Z_pyrtZ_memory(G(g)); }
static wasm_rt_funcref_table_t *table(void *g) { return &G(g)->w2c_T0; }
/* wasm-ld always emits __stack_pointer as global 0. */
static uint32_t stack_pointer(void *g) { return G(g)->w2c_g0; }
static void initialize(void *g) { Z_pyrtZ__initialize(G(g)); }
static int32_t py_main(void *g) { return (int32_t)Z_pyrtZ_hv_main(G(g)); }
static int32_t py_init(void *g) { return (int32_t)Z_pyrtZ_hv_init(G(g)); }

static int32_t py_exec(void *g, uint32_t s, uint32_t n, uint32_t name, uint32_t nlen)
{
    return (int32_t)Z_pyrtZ_hv_exec(G(g), s, n, name, nlen);
}

static int32_t py_call(void *g, uint32_t f, uint32_t fl, uint32_t a, uint32_t al)
{
    return (int32_t)Z_pyrtZ_hv_call(G(g), f, fl, a, al);
}

static uint32_t result_ptr(void *g) { return Z_pyrtZ_hv_result_ptr(G(g)); }
static uint32_t result_len(void *g) { return Z_pyrtZ_hv_result_len(G(g)); }
static int32_t exit_code(void *g) { return (int32_t)Z_pyrtZ_hv_exit_code(G(g)); }
static uint32_t alloc(void *g, uint32_t n) { return Z_pyrtZ_hv_alloc(G(g), n); }
static void dealloc(void *g, uint32_t p) { Z_pyrtZ_hv_free(G(g), p); }

static uint32_t cabi_realloc(void *g, uint32_t old, uint32_t old_size, uint32_t align,
                             uint32_t new_size)
{
    return Z_pyrtZ_cabi_realloc(G(g), old, old_size, align, new_size);
}

static int32_t export_call(void *g, uint32_t fid, uint32_t args, uint32_t nargs, uint32_t ret)
{
    return (int32_t)Z_pyrtZ_hv_export(G(g), fid, args, nargs, ret);
}

static void post_return(void *g, uint32_t fid) { Z_pyrtZ_hv_post_return(G(g), fid); }

__attribute__((visibility("default"))) const hv_guest_vtable_t hv_guest_module = {
    HV_GUEST_ABI, sizeof(Z_pyrt_instance_t), Z_pyrt_init_module, instantiate, free_instance,
    rebind, memory, table, stack_pointer, initialize, py_main, py_init, py_exec, py_call,
    result_ptr, result_len, exit_code, alloc, dealloc, cabi_realloc, export_call, post_return,
};
