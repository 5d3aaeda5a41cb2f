/*
 * Pre-initialised snapshots: an instance's linear memory goes into a memfd;
 * new instances map it MAP_PRIVATE (copy-on-write), copy the instance struct
 * (globals) and the table, and point them at their own import contexts.
 * CPython's start-up (~15 ms) then costs a page-table setup instead.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine_impl.h"

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int hv_snapshot_take(hv_instance_t *inst, hv_snapshot_t **ret)
{
    if (inst->dead)
        return HV_EDEAD;
    if (hv_wasi_extra_fds(&inst->wasi) != 0 || inst->host.pending != NULL)
        return HV_EBUSY;
    const hv_guest_vtable_t *vt = inst->eng->vt;
    hv_snapshot_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return HV_ENOMEM;
    s->eng = inst->eng;
    s->mem_bytes = inst->mem->size;
    s->memfd = memfd_create("harvester-snapshot", MFD_CLOEXEC);
    s->image = malloc(vt->instance_size);
    wasm_rt_funcref_table_t *t = vt->table(inst->g);
    s->table = malloc((t->size ? t->size : 1) * sizeof *s->table);
    int rc = HV_ENOMEM;
    if (s->memfd < 0 || s->image == NULL || s->table == NULL)
        goto out_free;
    if (write_all(s->memfd, inst->mem->data, s->mem_bytes) != 0) {
        rc = HV_EIO;
        goto out_free;
    }
    memcpy(s->image, inst->g, vt->instance_size);
    s->image_self = inst->g;
    memcpy(s->table, t->data, t->size * sizeof *s->table);
    s->table_size = t->size;
    s->table_max = t->max_size;
    *ret = s;
    return HV_OK;

out_free:
    hv_snapshot_free(s);
    return rc;
}

void hv_snapshot_free(hv_snapshot_t *s)
{
    if (s == NULL)
        return;
    if (s->memfd >= 0)
        close(s->memfd);
    free(s->image);
    free(s->table);
    free(s);
}

int hv_instance_from_snapshot(hv_snapshot_t *s, const hv_instance_opts_t *opts, hv_instance_t **ret)
{
    hv_instance_t *inst;
    const hv_guest_vtable_t *vt = s->eng->vt;
    int rc = engine__instance_alloc(s->eng, opts, &inst);
    if (rc != HV_OK)
        return rc;
    memcpy(inst->g, s->image, vt->instance_size);
    vt->rebind(inst->g, &inst->host, &inst->wasi);
    wasm_rt_memory_t *mem = vt->memory(inst->g);
    wasm_rt_funcref_table_t *t = vt->table(inst->g);
    /* The copied struct still points at the source's memory and table. */
    mem->data = NULL;
    t->data = NULL;
    rc = hv_rt_memory_from_image(mem, s->memfd, s->mem_bytes, 65536); /* capped below */
    if (rc != HV_OK)
        goto out_free;
    t->data = malloc((s->table_size ? s->table_size : 1) * sizeof *t->data);
    if (t->data == NULL) {
        rc = HV_ENOMEM;
        goto out_free;
    }
    for (uint32_t i = 0; i < s->table_size; i++) {
        t->data[i] = s->table[i];
        if (t->data[i].module_instance == s->image_self)
            t->data[i].module_instance = inst->g;
    }
    t->size = s->table_size;
    t->max_size = s->table_max;
    rc = engine__instance_attach_memory(inst);
    if (rc != HV_OK)
        goto out_free;
    *ret = inst;
    return HV_OK;

out_free:
    hv_instance_free(inst);
    return rc;
}
