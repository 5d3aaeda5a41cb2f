/*
 * Instances: create, call into (keeping Python globals alive), destroy.
 * Every entry into guest code goes through hv_rt_call, so a trap, a fault
 * or a deadline ends that call, marks the instance dead and returns an error
 * to the caller; the process and other instances carry on.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

#define DEFAULT_MEMORY_MB 256
#define GUEST_PAGE 65536u
#define MAX_RESULT (16u << 20)

enum { GUEST_OK = 0, GUEST_EXCEPTION = 1, GUEST_EXIT = 2, GUEST_NOMEM = 3 };

static uint32_t limit_pages(uint32_t memory_limit_mb)
{
    uint32_t mb = memory_limit_mb ? memory_limit_mb : DEFAULT_MEMORY_MB;
    return mb >= 4096 ? 65536 : mb * (1024 * 1024 / GUEST_PAGE);
}

int engine__instance_alloc(hv_engine_t *eng, const hv_instance_opts_t *opts, hv_instance_t **ret)
{
    static const char *const default_argv[] = {"python", NULL};
    static const char *const empty_env[] = {NULL};
    hv_instance_t *inst = calloc(1, sizeof *inst);
    if (inst == NULL)
        return HV_ENOMEM;
    inst->g = calloc(1, eng->vt->instance_size);
    if (inst->g == NULL) {
        free(inst);
        return HV_ENOMEM;
    }
    inst->eng = eng;
    inst->limit_pages = limit_pages(opts->memory_limit_mb);
    inst->deadline_ns = (uint64_t)opts->deadline_ms * 1000000ULL;
    inst->host.fn = opts->hostcall;
    inst->host.ud = opts->hostcall_ud;
    inst->host.canon = opts->canon;
    inst->host.inst = inst;

    hv_wasi_config_t wc = {0};
    wc.argv = opts->argv ? opts->argv : default_argv;
    wc.envp = opts->envp ? opts->envp : empty_env;
    wc.stdin_fd = opts->stdin_from_host ? 0 : -1;
    wc.output = (hv_wasi_output_fn)opts->output;
    wc.output_ud = opts->output_ud;
    wc.mounts[0] = (hv_wasi_mount_t){"/lib/python3.11", eng->stdlib_dir};
    wc.mounts[1] = (hv_wasi_mount_t){"/lib/sdk", eng->sdk_dir};
    wc.nmounts = 2;
    for (int i = 0; i < opts->nmounts && wc.nmounts < HV_WASI_MAX_MOUNTS; i++)
        wc.mounts[wc.nmounts++] = (hv_wasi_mount_t){opts->mounts[i].guest, opts->mounts[i].host};
    int rc = opts->nmounts > HV_MAX_MOUNTS ? HV_EINVAL : hv_wasi_init(&inst->wasi, &wc);
    if (rc != HV_OK) {
        free(inst->g);
        free(inst);
        return rc;
    }
    *ret = inst;
    return HV_OK;
}

void hv_instance_set_limits(hv_instance_t *inst, uint32_t memory_limit_mb, uint32_t deadline_ms)
{
    inst->limit_pages = limit_pages(memory_limit_mb);
    inst->deadline_ns = (uint64_t)deadline_ms * 1000000ULL;
    if (inst->mem != NULL)
        inst->mem->max_pages = inst->module_max_pages < inst->limit_pages ? inst->module_max_pages
                                                                          : inst->limit_pages;
}

int engine__instance_attach_memory(hv_instance_t *inst)
{
    wasm_rt_memory_t *mem = inst->eng->vt->memory(inst->g);
    if (mem->pages > inst->limit_pages)
        return HV_ENOMEM;
    inst->module_max_pages = mem->max_pages;
    if (mem->max_pages > inst->limit_pages)
        mem->max_pages = inst->limit_pages;
    inst->mem = mem;
    inst->host.mem = mem;
    hv_wasi_set_memory(&inst->wasi, mem);
    return HV_OK;
}

int engine__guest_run(hv_instance_t *inst, hv_rt_thunk_fn thunk, void *arg)
{
    if (inst->dead)
        return HV_EDEAD;
    hv_rt_call_opts_t o = {inst->mem, inst->deadline_ns};
    int code = 0;
    int rc = hv_rt_call(&o, thunk, arg, &code);
    hv_wasi_flush(&inst->wasi);
    if (rc == HV_OK)
        return HV_OK;
    inst->dead = 1;
    if (rc == HV_EEXIT) {
        inst->exit_code = code;
        return HV_EEXIT;
    }
    /* The shadow stack grows down from the start of memory: an OOB with the
     * stack pointer at the bottom (or wrapped) is stack exhaustion. */
    if (rc == HV_ETRAP_OOB && inst->mem != NULL) {
        uint32_t sp = inst->eng->vt->stack_pointer(inst->g);
        if (sp < 4096 || sp > inst->mem->size)
            rc = HV_ETRAP_EXHAUSTION;
    }
    return rc;
}

static void thunk_instantiate(void *p)
{
    hv_instance_t *inst = p;
    inst->eng->vt->instantiate(inst->g, &inst->host, &inst->wasi);
}

static void thunk_initialize(void *p)
{
    hv_instance_t *inst = p;
    inst->eng->vt->initialize(inst->g);
}

int hv_instance_new(hv_engine_t *eng, const hv_instance_opts_t *opts, hv_instance_t **ret)
{
    hv_instance_t *inst;
    int rc = engine__instance_alloc(eng, opts, &inst);
    if (rc != HV_OK)
        return rc;
    rc = engine__guest_run(inst, thunk_instantiate, inst);
    if (rc == HV_OK)
        rc = engine__instance_attach_memory(inst);
    if (rc == HV_OK)
        rc = engine__guest_run(inst, thunk_initialize, inst);
    if (rc != HV_OK) {
        hv_instance_free(inst);
        return rc;
    }
    *ret = inst;
    return HV_OK;
}

void hv_instance_free(hv_instance_t *inst)
{
    if (inst == NULL)
        return;
    inst->eng->vt->free(inst->g); /* unmaps the whole memory reservation */
    hv_wasi_destroy(&inst->wasi);
    free(inst->host.pending);
    free(inst->result);
    free(inst->g);
    free(inst);
}

static void set_result(hv_instance_t *inst, const char *s, size_t n)
{
    char *copy = malloc(n + 1);
    if (copy == NULL)
        n = 0;
    else {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    free(inst->result);
    inst->result = copy;
    inst->result_len = copy ? n : 0;
}

const char *hv_instance_result(const hv_instance_t *inst, size_t *ret_len)
{
    if (ret_len)
        *ret_len = inst->result ? inst->result_len : 0;
    return inst->result ? inst->result : "";
}

int hv_instance_exit_code(const hv_instance_t *inst) { return inst->exit_code; }
int hv_instance_dead(const hv_instance_t *inst) { return inst->dead; }
size_t hv_instance_memory_size(const hv_instance_t *inst)
{
    return inst->mem ? inst->mem->size : 0;
}

/* ---- calls -------------------------------------------------------------- */

typedef struct {
    hv_instance_t *inst;
    int kind; /* 0 main, 1 init, 2 exec, 3 call */
    const char *a, *b;
    size_t alen, blen;
    int32_t status;
} call_t;

/* Copies n bytes into a fresh guest allocation; traps (via a bad pointer)
 * never happen here because the result is checked before use. */
static uint32_t guest_copy_in(hv_instance_t *inst, const char *s, size_t n)
{
    const hv_guest_vtable_t *vt = inst->eng->vt;
    uint32_t p = vt->alloc(inst->g, (uint32_t)n);
    if (p == 0 || (uint64_t)p + n > inst->mem->size)
        return 0;
    memcpy(inst->mem->data + p, s, n);
    return p;
}

static void thunk_call(void *arg)
{
    call_t *c = arg;
    hv_instance_t *inst = c->inst;
    const hv_guest_vtable_t *vt = inst->eng->vt;
    if (c->kind == 0) {
        c->status = vt->main(inst->g);
        return;
    }
    if (c->kind == 1) {
        c->status = vt->init(inst->g);
    } else {
        uint32_t pa = guest_copy_in(inst, c->a, c->alen);
        uint32_t pb = guest_copy_in(inst, c->b, c->blen);
        if (pa == 0 || pb == 0) {
            c->status = GUEST_NOMEM;
        } else if (c->kind == 2) {
            c->status = vt->exec(inst->g, pa, (uint32_t)c->alen, pb, (uint32_t)c->blen);
        } else {
            c->status = vt->call(inst->g, pa, (uint32_t)c->alen, pb, (uint32_t)c->blen);
        }
        if (pa)
            vt->dealloc(inst->g, pa);
        if (pb)
            vt->dealloc(inst->g, pb);
    }
    uint32_t rp = vt->result_ptr(inst->g), rl = vt->result_len(inst->g);
    if (rl > MAX_RESULT || (uint64_t)rp + rl > inst->mem->size)
        rl = 0;
    set_result(inst, rl ? (const char *)inst->mem->data + rp : "", rl);
    if (c->status == GUEST_EXIT)
        inst->exit_code = vt->exit_code(inst->g);
}

static int run_call(call_t *c)
{
    set_result(c->inst, "", 0);
    int rc = engine__guest_run(c->inst, thunk_call, c);
    if (rc != HV_OK)
        return rc;
    switch (c->status) {
    case GUEST_OK:
        return HV_OK;
    case GUEST_EXCEPTION:
        return HV_EEXCEPTION;
    case GUEST_EXIT:
        return HV_EEXIT;
    default:
        return HV_ENOMEM;
    }
}

int hv_instance_main(hv_instance_t *inst, int *ret_status)
{
    call_t c = {inst, 0, NULL, NULL, 0, 0, 0};
    int rc = engine__guest_run(inst, thunk_call, &c);
    if (rc == HV_EEXIT) {
        *ret_status = inst->exit_code;
        return HV_OK;
    }
    if (rc == HV_OK)
        *ret_status = c.status;
    return rc;
}

int hv_instance_init_python(hv_instance_t *inst)
{
    call_t c = {inst, 1, NULL, NULL, 0, 0, 0};
    return run_call(&c);
}

int hv_instance_exec(hv_instance_t *inst, const char *src, size_t len, const char *filename)
{
    if (len > UINT32_MAX / 2)
        return HV_ETOOBIG;
    call_t c = {inst, 2, src, filename, len, strlen(filename), 0};
    return run_call(&c);
}

int hv_instance_call(hv_instance_t *inst, const char *fn, const char *arg, size_t arg_len)
{
    if (arg_len > UINT32_MAX / 2)
        return HV_ETOOBIG;
    call_t c = {inst, 3, fn, arg, strlen(fn), arg_len, 0};
    return run_call(&c);
}

/* ---- imports of module "harvester" -------------------------------------- */

uint32_t Z_harvesterZ_call(struct Z_harvester_instance_t *h, uint32_t name, uint32_t nlen,
                           uint32_t in, uint32_t inlen);
void Z_harvesterZ_take(struct Z_harvester_instance_t *h, uint32_t dst);

static int32_t pend(struct Z_harvester_instance_t *h, int ok, uint8_t *data, size_t len)
{
    free(h->pending);
    h->pending = data;
    h->pending_len = data ? len : 0;
    return ok ? (int32_t)h->pending_len : -(int32_t)h->pending_len - 1;
}

static int32_t pend_msg(struct Z_harvester_instance_t *h, const char *msg)
{
    return pend(h, 0, (uint8_t *)strdup(msg), strlen(msg));
}

uint32_t Z_harvesterZ_call(struct Z_harvester_instance_t *h, uint32_t name, uint32_t nlen,
                           uint32_t in, uint32_t inlen)
{
    hv_rt_host_enter();
    int32_t r;
    if ((uint64_t)name + nlen > h->mem->size || (uint64_t)in + inlen > h->mem->size) {
        r = pend_msg(h, "invalid buffer");
    } else if (h->fn == NULL) {
        r = pend_msg(h, "no capabilities granted to this instance");
    } else {
        uint8_t *out = NULL;
        size_t out_len = 0;
        int rc = h->fn(h->ud, (const char *)h->mem->data + name, nlen, h->mem->data + in, inlen,
                       &out, &out_len);
        if (out_len > HV_HOSTCALL_MAX_RESULT) {
            free(out);
            r = pend_msg(h, "capability result too large");
        } else {
            r = pend(h, rc == 0, out, out_len);
        }
    }
    hv_rt_host_leave();
    return (uint32_t)r;
}

void Z_harvesterZ_take(struct Z_harvester_instance_t *h, uint32_t dst)
{
    hv_rt_host_enter();
    if (h->pending != NULL && (uint64_t)dst + h->pending_len <= h->mem->size)
        memcpy(h->mem->data + dst, h->pending, h->pending_len);
    free(h->pending);
    h->pending = NULL;
    h->pending_len = 0;
    hv_rt_host_leave();
}
