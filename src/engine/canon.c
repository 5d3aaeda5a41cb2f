/*
 * The engine's half of the canonical ABI: the generic imports `resolve` and
 * `invoke` (one pair serves every WIT function, because one compiled
 * runtime serves every world), export calls into harvester._dispatch, and
 * guest allocation through cabi_realloc. What the slots mean is the WIT
 * layer's business (src/abi/); this file only moves them across safely.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

#define ERR_MAX 512

int hv_engine_deadline_expired(void) { return hv_rt_deadline_expired(); }

uint8_t *hv_instance_memory(hv_instance_t *inst, size_t *ret_size)
{
    *ret_size = inst->mem ? inst->mem->size : 0;
    return inst->mem ? inst->mem->data : NULL;
}

typedef struct {
    hv_instance_t *inst;
    uint32_t size, align, addr;
} alloc_t;

static void thunk_alloc(void *p)
{
    alloc_t *a = p;
    a->addr = a->inst->eng->vt->realloc(a->inst->g, 0, 0, a->align, a->size);
}

int hv_instance_guest_alloc(hv_instance_t *inst, uint32_t size, uint32_t align,
                            uint32_t *ret_addr)
{
    alloc_t a = {inst, size, align, 0};
    int rc = engine__guest_run(inst, thunk_alloc, &a);
    if (rc != HV_OK)
        return rc;
    /* Never trust the guest's allocator: the block must lie inside memory
     * and be aligned, or lowering into it would fault or misplace data. */
    if (a.addr == 0 || (uint64_t)a.addr + size > inst->mem->size || (a.addr & (align - 1)) != 0)
        return HV_ENOMEM;
    *ret_addr = a.addr;
    return HV_OK;
}

typedef struct {
    hv_instance_t *inst;
    uint32_t fid;
    const uint64_t *args;
    size_t nargs;
    uint64_t ret;
    int32_t status;
} export_t;

static void thunk_export(void *p)
{
    export_t *e = p;
    hv_instance_t *inst = e->inst;
    const hv_guest_vtable_t *vt = inst->eng->vt;
    size_t bytes = (e->nargs + 1) * 8;
    uint32_t block = vt->realloc(inst->g, 0, 0, 8, (uint32_t)bytes);
    if (block == 0 || (block & 7) != 0 || (uint64_t)block + bytes > inst->mem->size) {
        e->status = 3; /* GUEST_NOMEM */
        return;
    }
    uint8_t *m = inst->mem->data + block;
    for (size_t i = 0; i < e->nargs; i++)
        memcpy(m + i * 8, &e->args[i], 8);
    memset(m + e->nargs * 8, 0, 8);
    uint32_t ret = block + (uint32_t)(e->nargs * 8);
    e->status = vt->export_call(inst->g, e->fid, block, (uint32_t)e->nargs, ret);
    memcpy(&e->ret, inst->mem->data + ret, 8);
    vt->dealloc(inst->g, block);
    uint32_t rp = vt->result_ptr(inst->g), rl = vt->result_len(inst->g);
    if (e->status != 0 && rl > 0 && rl <= (1u << 20) && (uint64_t)rp + rl <= inst->mem->size) {
        free(inst->result);
        inst->result = strndup((const char *)inst->mem->data + rp, rl);
        inst->result_len = inst->result ? strlen(inst->result) : 0;
    }
}

int hv_instance_export(hv_instance_t *inst, uint32_t fid, const uint64_t *args, size_t nargs,
                       uint64_t *ret_slot)
{
    if (nargs > HV_CANON_MAX_SLOTS)
        return HV_EINVAL;
    export_t e = {inst, fid, args, nargs, 0, 0};
    int rc = engine__guest_run(inst, thunk_export, &e);
    if (rc != HV_OK)
        return rc;
    if (e.status == 1)
        return HV_EEXCEPTION;
    if (e.status != 0)
        return HV_ENOMEM;
    *ret_slot = e.ret;
    return HV_OK;
}

typedef struct {
    hv_instance_t *inst;
    uint32_t fid;
} post_t;

static void thunk_post(void *p)
{
    post_t *r = p;
    r->inst->eng->vt->post_return(r->inst->g, r->fid);
}

void hv_instance_post_return(hv_instance_t *inst, uint32_t fid)
{
    post_t r = {inst, fid};
    (void)engine__guest_run(inst, thunk_post, &r);
}

/* ---- imports "resolve" and "invoke" ------------------------------------ */

uint32_t Z_harvesterZ_resolve(struct Z_harvester_instance_t *h, uint32_t name, uint32_t nlen);
uint32_t Z_harvesterZ_invoke(struct Z_harvester_instance_t *h, uint32_t fid, uint32_t args,
                             uint32_t nargs, uint32_t ret);

/* Leaves an error for take(): its first byte says which kind it is. */
static int32_t pend_error(struct Z_harvester_instance_t *h, int code, const char *msg)
{
    char kind = code == HV_EPERM ? 'P' : code == HV_ENOENT ? 'L' : code == HV_EINVAL ? 'V' : 'E';
    size_t n = strlen(msg);
    uint8_t *buf = malloc(n + 1);
    free(h->pending);
    h->pending = buf;
    h->pending_len = buf ? n + 1 : 0;
    if (buf != NULL) {
        buf[0] = (uint8_t)kind;
        memcpy(buf + 1, msg, n);
    }
    return -(int32_t)h->pending_len - 1;
}

/* A trap inside a nested guest call (cabi_realloc) killed the instance:
 * unwind the outer guest call too instead of returning into a broken heap. */
static void trap_if_dead(struct Z_harvester_instance_t *h)
{
    if (h->inst->dead)
        wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
}

uint32_t Z_harvesterZ_resolve(struct Z_harvester_instance_t *h, uint32_t name, uint32_t nlen)
{
    char err[ERR_MAX] = "";
    int32_t r;
    hv_rt_host_enter();
    if ((uint64_t)name + nlen > h->mem->size || nlen > 256) {
        r = pend_error(h, HV_EINVAL, "invalid function name buffer");
    } else if (h->canon == NULL) {
        r = pend_error(h, HV_EPERM, "this instance may not call any import");
    } else {
        int rc = h->canon->resolve(h->canon->ud, h->inst, (const char *)h->mem->data + name, nlen,
                                   err, sizeof err);
        r = rc >= 0 ? rc : pend_error(h, rc, err[0] ? err : hv_strerror(rc));
    }
    hv_rt_host_leave();
    return (uint32_t)r;
}

uint32_t Z_harvesterZ_invoke(struct Z_harvester_instance_t *h, uint32_t fid, uint32_t args,
                             uint32_t nargs, uint32_t ret)
{
    char err[ERR_MAX] = "";
    uint64_t slots[HV_CANON_MAX_SLOTS];
    int32_t r;
    hv_rt_host_enter();
    if (nargs > HV_CANON_MAX_SLOTS || (uint64_t)args + (uint64_t)nargs * 8 > h->mem->size) {
        r = pend_error(h, HV_EINVAL, "invalid argument slots");
    } else if (h->canon == NULL) {
        r = pend_error(h, HV_EPERM, "this instance may not call any import");
    } else {
        /* Copy first: the guest's memory is not ours to read twice. */
        memcpy(slots, h->mem->data + args, (size_t)nargs * 8);
        int rc = h->canon->invoke(h->canon->ud, h->inst, fid, slots, nargs, ret, err, sizeof err);
        r = rc == HV_OK ? 0 : pend_error(h, rc, err[0] ? err : hv_strerror(rc));
    }
    trap_if_dead(h);
    hv_rt_host_leave();
    return (uint32_t)r;
}
