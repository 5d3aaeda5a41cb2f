/*
 * Loading the runtime: AOT-compile (cached) and dlopen the module, check its
 * ABI, register its function types once.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aot.h"
#include "engine_impl.h"

#ifndef HV_SOURCE_DIR
#define HV_SOURCE_DIR "."
#endif

/* Plugins record the runtime they were built against by this hash. */
static int runtime_id(const char *wasm, char out[33], char *err, size_t errlen)
{
    FILE *f = fopen(wasm, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open", wasm);
        return HV_EIO;
    }
    size_t cap = 1 << 20, len = 0, n;
    char *buf = malloc(cap);
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL)
                free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return HV_ENOMEM;
    }
    hv_aot_hash_hex(buf, len, 0, out);
    free(buf);
    return HV_OK;
}

int hv_engine_open(const hv_engine_opts_t *opts, hv_engine_t **ret, char *err, size_t errlen)
{
    char wasm[4096], so[4096];
    struct stat st;
    snprintf(wasm, sizeof wasm, "%s/python.wasm", opts->runtime_dir);
    hv_engine_t *eng = calloc(1, sizeof *eng);
    if (eng == NULL) {
        snprintf(err, errlen, "out of memory");
        return HV_ENOMEM;
    }
    if (asprintf(&eng->stdlib_dir, "%s/lib/python3.11", opts->runtime_dir) < 0) {
        free(eng);
        snprintf(err, errlen, "out of memory");
        return HV_ENOMEM;
    }
    int rc;
    if (stat(eng->stdlib_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: runtime has no standard library (run `make runtime`)",
                 eng->stdlib_dir);
        rc = HV_ENOENT;
        goto out_free;
    }
    const char *data = opts->data_dir ? opts->data_dir : getenv("HARVESTER_DATA_DIR");
    if (data == NULL)
        data = HV_SOURCE_DIR;
    if (asprintf(&eng->sdk_dir, "%s/runtime/sdk", data) < 0) {
        eng->sdk_dir = NULL;
        snprintf(err, errlen, "out of memory");
        rc = HV_ENOMEM;
        goto out_free;
    }
    if (stat(eng->sdk_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: the harvester Python SDK is missing", eng->sdk_dir);
        rc = HV_ENOENT;
        goto out_free;
    }
    hv_aot_opts_t aot = {opts->cache_dir, data, 0, 0, opts->verbose};
    rc = hv_aot_compile(wasm, &aot, so, sizeof so, err, errlen);
    if (rc == HV_OK)
        rc = runtime_id(wasm, eng->runtime_id, err, errlen);
    if (rc != HV_OK)
        goto out_free;
    eng->dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (eng->dl == NULL) {
        snprintf(err, errlen, "%s: %s", so, dlerror());
        rc = HV_ELOAD;
        goto out_free;
    }
    eng->vt = dlsym(eng->dl, HV_GUEST_SYMBOL);
    if (eng->vt == NULL || eng->vt->abi != HV_GUEST_ABI) {
        snprintf(err, errlen, "%s: not a harvester runtime module (ABI %u expected)", so,
                 HV_GUEST_ABI);
        rc = HV_ELOAD;
        goto out_close;
    }
    wasm_rt_init();
    eng->vt->init_module();
    pthread_mutex_init(&eng->base_lock, NULL);
    *ret = eng;
    return HV_OK;

out_close:
    dlclose(eng->dl);
out_free:
    free(eng->sdk_dir);
    free(eng->stdlib_dir);
    free(eng);
    return rc;
}

void hv_engine_close(hv_engine_t *eng)
{
    if (eng == NULL)
        return;
    /* The module stays mapped: its function types live in the global
     * registry and a dlclose/dlopen cycle would register them again. */
    hv_snapshot_free(eng->base);
    pthread_mutex_destroy(&eng->base_lock);
    free(eng->sdk_dir);
    free(eng->stdlib_dir);
    free(eng);
}

const char *hv_engine_stdlib_dir(const hv_engine_t *eng) { return eng->stdlib_dir; }
const char *hv_engine_runtime_id(const hv_engine_t *eng) { return eng->runtime_id; }

/* What every plugin imports first: paid once, then shared copy-on-write. */
static const char base_src[] = "import harvester, json, dataclasses, enum, struct, math\n";

int hv_engine_base_snapshot(hv_engine_t *eng, hv_snapshot_t **ret)
{
    pthread_mutex_lock(&eng->base_lock);
    int rc = HV_OK;
    if (eng->base == NULL) {
        /* wasi-libc learns the preopened directories once, at start-up,
         * and the snapshot keeps that table: so the base instance has a
         * /plugin mount too (an empty directory), at the descriptor every
         * plugin instance gives its own /plugin. */
        char empty[4200];
        snprintf(empty, sizeof empty, "%s/lib-dynload", eng->stdlib_dir);
        hv_instance_opts_t o = {0};
        o.mounts[0].guest = "/plugin";
        o.mounts[0].host = empty;
        o.nmounts = 1;
        hv_instance_t *inst = NULL;
        rc = hv_instance_new(eng, &o, &inst);
        if (rc == HV_OK)
            rc = hv_instance_init_python(inst);
        if (rc == HV_OK)
            rc = hv_instance_exec(inst, base_src, sizeof base_src - 1, "<base>");
        if (rc == HV_OK)
            rc = hv_snapshot_take(inst, &eng->base);
        hv_instance_free(inst);
    }
    if (rc == HV_OK)
        *ret = eng->base;
    pthread_mutex_unlock(&eng->base_lock);
    return rc;
}
