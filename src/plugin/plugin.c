/*
 * Loading a plugin file and calling into it. The canonical-ABI import
 * callbacks live here: resolve() is where the host, not the guest, decides
 * that a function outside the plugin's world is refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "plugin_impl.h"

void plugin__log(hv_plugin_t *p, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *name = p->file.name ? p->file.name : "?";
    if (p->o.log != NULL) {
        p->o.log(p->o.log_ud, name, level, msg);
        return;
    }
    static const char *const levels[] = {"trace", "debug", "info", "warn", "error"};
    fprintf(stderr, "[%s] %s: %s\n", name, levels[level < 0 || level > 4 ? 2 : level], msg);
}

static void on_output(void *ud, int fd, const char *line, size_t len)
{
    plugin__log(ud, fd == 2 ? HV_LOG_WARN : HV_LOG_INFO, "%.*s", (int)len, line);
}

/* ---- canonical ABI imports -------------------------------------------- */

static uint8_t *mem_base(void *ctx, size_t *ret_size)
{
    return hv_instance_memory(((hv_plugin_t *)ctx)->inst, ret_size);
}

static int mem_alloc(void *ctx, uint32_t size, uint32_t align, uint32_t *ret_addr)
{
    return hv_instance_guest_alloc(((hv_plugin_t *)ctx)->inst, size, align, ret_addr);
}

static int do_resolve(void *ud, hv_instance_t *inst, const char *name, size_t len, char *err,
                      size_t errlen)
{
    (void)inst;
    hv_plugin_t *p = ud;
    for (size_t i = 0; i < p->nimports; i++)
        if (strlen(p->imports[i].name) == len && memcmp(p->imports[i].name, name, len) == 0)
            return (int)i;
    /* Not in the world. Refuse and say why; log it, since a plugin asking
     * for what it was not given is worth an operator's attention. */
    const char *hash = memchr(name, '#', len);
    size_t ilen = hash ? (size_t)(hash - name) : len;
    char iface[128];
    snprintf(iface, sizeof iface, "%.*s", (int)(ilen < 127 ? ilen : 127), name);
    const hv_wit_interface_t *known = hv_wit_interface(p->doc, iface);
    if (known == NULL || hash == NULL) {
        snprintf(err, errlen, "no such import: %.*s", (int)(len < 200 ? len : 200), name);
        return HV_ENOENT;
    }
    p->refusals++;
    snprintf(err, errlen, "permission denied: plugin %s (world %s) may not call %.*s: %s is not "
             "imported by its world", p->file.name, p->world->name, (int)(len < 200 ? len : 200),
             name, iface);
    plugin__log(p, HV_LOG_WARN, "%s", err);
    return HV_EPERM;
}

static int do_invoke(void *ud, hv_instance_t *inst, uint32_t fid, const uint64_t *slots,
                     size_t nslots, uint32_t ret, char *err, size_t errlen)
{
    (void)inst;
    hv_plugin_t *p = ud;
    if (fid >= p->nimports) {
        snprintf(err, errlen, "permission denied: import id %u was not resolved", fid);
        p->refusals++;
        return HV_EPERM;
    }
    plugin_import_t *im = &p->imports[fid];
    if (im->fn == NULL) {
        snprintf(err, errlen, "%s is not implemented by this host", im->name);
        return HV_EIO;
    }
    hv_arena_t a;
    hv_arena_init(&a, HV_ABI_MAX_LIFT_BYTES);
    hv_value_t *args, result;
    memset(&result, 0, sizeof result);
    int rc = hv_abi_lift_params(&p->mem, im->func, slots, nslots, &a, &args, err, errlen);
    if (rc != HV_OK) {
        plugin__log(p, HV_LOG_WARN, "bad arguments to %s: %s", im->name, err);
    } else {
        hv_cap_call_t c = {p, im->func, &a, im->ud, err, errlen};
        err[0] = '\0';
        result.type = im->func->result;
        rc = im->fn(&c, args, &result);
        if (rc != HV_OK) {
            /* The guest's arguments were fine; the capability failed. */
            if (err[0] == '\0')
                snprintf(err, errlen, "%s: %s", im->name, hv_strerror(rc));
            /* A permission denial stays one: the guest raises PermissionError. */
            if (rc == HV_EINVAL || rc == HV_ENOENT)
                rc = HV_EIO;
        } else {
            /* Fails only on a bad return pointer from the guest (EINVAL). */
            rc = hv_abi_lower_result(&p->mem, im->func, &result, ret, err, errlen);
        }
    }
    hv_arena_free(&a);
    return rc;
}

/* ---- loading ------------------------------------------------------------ */

static int read_all(const char *path, uint8_t **ret, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return errno == ENOENT ? HV_ENOENT : HV_EIO;
    size_t cap = 1 << 16, len = 0, n;
    uint8_t *buf = malloc(cap);
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len > HV_PLUGIN_MAX_FILE)
            break;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (nb == NULL)
                free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (buf == NULL)
        return HV_ENOMEM;
    *ret = buf;
    *ret_len = len;
    return HV_OK;
}

static int mkdirs(char *path)
{
    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        int rc = mkdir(path, 0755);
        *s = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Writes the sources under the cache, keyed by the file's content hash,
 * into a private directory renamed into place (concurrent loaders agree). */
static int extract(hv_plugin_t *p, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    char hash[33], base[PATH_MAX - 64], tmp[PATH_MAX];
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ buf[i]) * 0x100000001b3ULL;
    snprintf(hash, sizeof hash, "%016llx%08zx", (unsigned long long)h, len);
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(base, sizeof base, "%s/harvester/plugins", xdg);
    else
        snprintf(base, sizeof base, "%s/.cache/harvester/plugins", home && *home ? home : "/tmp");
    snprintf(p->dir, sizeof p->dir, "%s/%s", base, hash);
    struct stat st;
    if (stat(p->dir, &st) == 0 && S_ISDIR(st.st_mode))
        return HV_OK;
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%ld", base, hash, (long)getpid());
    if (mkdirs(tmp) != 0) {
        snprintf(err, errlen, "%.400s: cannot create: %s", tmp, strerror(errno));
        return HV_EIO;
    }
    for (size_t i = 0; i < p->file.nsources; i++) {
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", tmp, p->file.sources[i].path);
        char *slash = strrchr(path, '/');
        *slash = '\0';
        int ok = mkdirs(path) == 0;
        *slash = '/';
        FILE *f = ok ? fopen(path, "wb") : NULL;
        ok = f != NULL && fwrite(p->file.sources[i].data, 1, p->file.sources[i].len, f) ==
                              p->file.sources[i].len;
        if (f != NULL && fclose(f) != 0)
            ok = 0;
        if (!ok) {
            snprintf(err, errlen, "%.400s: cannot write: %s", path, strerror(errno));
            return HV_EIO;
        }
    }
    if (rename(tmp, p->dir) != 0 && !(stat(p->dir, &st) == 0 && S_ISDIR(st.st_mode))) {
        snprintf(err, errlen, "%.400s: cannot create: %s", p->dir, strerror(errno));
        return HV_EIO;
    }
    return HV_OK;
}

static int build_tables(hv_plugin_t *p)
{
    const hv_wit_world_t *w = p->world;
    size_t ni = 0, ne = 0;
    for (size_t i = 0; i < w->nimports; i++)
        ni += w->imports[i]->nfuncs;
    for (size_t i = 0; i < w->nexports; i++)
        ne += w->exports[i]->nfuncs;
    p->imports = calloc(ni + 1, sizeof *p->imports);
    p->exports = calloc(ne + 1, sizeof *p->exports);
    if (p->imports == NULL || p->exports == NULL)
        return HV_ENOMEM;
    for (size_t i = 0; i < w->nimports; i++) {
        const hv_wit_interface_t *in = w->imports[i];
        for (size_t k = 0; k < in->nfuncs; k++) {
            plugin_import_t *im = &p->imports[p->nimports++];
            im->iface = in;
            im->func = &in->funcs[k];
            snprintf(im->name, sizeof im->name, "%s#%s", in->name, in->funcs[k].name);
            for (const hv_cap_entry_t *c = p->o.caps; c && c->name; c++)
                if (strcmp(c->name, im->name) == 0) {
                    im->fn = c->fn;
                    im->ud = c->ud;
                }
            if (im->fn == NULL)
                im->fn = plugin__builtin_cap(in->name, &in->funcs[k]);
        }
    }
    for (size_t i = 0; i < w->nexports; i++)
        for (size_t k = 0; k < w->exports[i]->nfuncs; k++)
            p->exports[p->nexports++] = (plugin_export_t){w->exports[i], &w->exports[i]->funcs[k]};
    return HV_OK;
}

/* The base snapshot never looked at /plugin, but drop any cached finder
 * for it anyway: this instance's /plugin is a different directory. */
static const char bootstrap_src[] = "import harvester, sys, importlib\n"
                                    "sys.path_importer_cache.pop('/plugin', None)\n"
                                    "importlib.invalidate_caches()\n"
                                    "def _hv_boot(world):\n"
                                    "    harvester._bootstrap(world, 'app')\n";

static int start(hv_plugin_t *p, char *err, size_t errlen)
{
    hv_instance_opts_t io = {0};
    io.mounts[0].guest = "/plugin";
    io.mounts[0].host = p->dir;
    io.nmounts = 1;
    io.output = on_output;
    io.output_ud = p;
    io.canon = &p->canon;
    io.memory_limit_mb = p->o.memory_limit_mb;
    io.deadline_ms = p->o.deadline_ms ? p->o.deadline_ms : 5000;
    hv_snapshot_t *base;
    int rc = hv_engine_base_snapshot(p->o.eng, &base);
    if (rc == HV_OK)
        rc = hv_instance_from_snapshot(base, &io, &p->inst);
    if (rc == HV_OK)
        rc = hv_instance_exec(p->inst, bootstrap_src, sizeof bootstrap_src - 1, "<bootstrap>");
    char *desc = rc == HV_OK ? hv_abi_describe_world(p->world) : NULL;
    if (rc == HV_OK && desc == NULL)
        rc = HV_ENOMEM;
    if (rc == HV_OK)
        rc = hv_instance_call(p->inst, "_hv_boot", desc, strlen(desc));
    free(desc);
    if (rc != HV_OK) {
        const char *tb = p->inst ? hv_instance_result(p->inst, NULL) : "";
        /* The last line of a traceback is the message that matters. */
        const char *last = tb + strlen(tb);
        while (last > tb && (last[-1] == '\n'))
            last--;
        const char *nl = last;
        while (nl > tb && nl[-1] != '\n')
            nl--;
        snprintf(err, errlen, "cannot start plugin %s: %s%s%.*s", p->file.name, hv_strerror(rc),
                 last > nl ? ": " : "", (int)(last - nl), nl);
    }
    return rc;
}

int hv_plugin_load(const char *path, const hv_plugin_opts_t *opts, hv_plugin_t **ret, char *err,
                   size_t errlen)
{
    char msg[768] = "";
    uint8_t *buf = NULL;
    size_t len = 0;
    hv_plugin_t *p = calloc(1, sizeof *p);
    if (p == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return HV_ENOMEM;
    }
    p->o = *opts;
    p->state_dir = opts->state_dir ? strdup(opts->state_dir) : NULL;
    p->config_json = strdup(opts->config_json ? opts->config_json : "{}");
    p->o.state_dir = p->state_dir;
    p->o.config_json = p->config_json;
    p->canon = (hv_canon_imports_t){do_resolve, do_invoke, p};
    p->mem = (hv_abi_mem_t){mem_base, mem_alloc, p};
    int rc = read_all(path, &buf, &len);
    if (rc != HV_OK) {
        snprintf(msg, sizeof msg, "%s", hv_strerror(rc));
        goto fail;
    }
    rc = hv_plugin_file_decode(buf, len, &p->file, msg, sizeof msg);
    if (rc != HV_OK)
        goto fail;
    snprintf(p->perm_name, sizeof p->perm_name, "%s",
             opts->perm_name ? opts->perm_name : p->file.name);
    p->o.perm_name = p->perm_name;
    if (p->file.sdk_abi != HV_PLUGIN_SDK_ABI) {
        snprintf(msg, sizeof msg, "built for SDK ABI %d, this host speaks %d: rebuild it with "
                 "`harvester build`", p->file.sdk_abi, HV_PLUGIN_SDK_ABI);
        rc = HV_EINVAL;
        goto fail;
    }
    char witname[PATH_MAX + 8];
    snprintf(witname, sizeof witname, "%s:wit", path);
    rc = hv_wit_parse(p->file.wit, p->file.wit_len, witname, &p->doc, msg, sizeof msg);
    if (rc != HV_OK)
        goto fail;
    p->world = hv_wit_world(p->doc, p->file.world);
    if (p->world == NULL) {
        snprintf(msg, sizeof msg, "its WIT has no world '%s'", p->file.world);
        rc = HV_EINVAL;
        goto fail;
    }
    if (p->file.runtime && strcmp(p->file.runtime, hv_engine_runtime_id(opts->eng)) != 0)
        plugin__log(p, HV_LOG_DEBUG, "built on runtime %s, running on %s (sources are portable)",
                    p->file.runtime, hv_engine_runtime_id(opts->eng));
    if ((rc = build_tables(p)) != HV_OK || (rc = extract(p, buf, len, msg, sizeof msg)) != HV_OK)
        goto fail;
    plugin__state_load(p);
    free(buf);
    buf = NULL;
    rc = start(p, msg, sizeof msg);
    if (rc != HV_OK)
        goto fail;
    *ret = p;
    return HV_OK;

fail:
    snprintf(err, errlen, "%s: %s", path, msg[0] ? msg : hv_strerror(rc));
    free(buf);
    hv_plugin_free(p);
    return rc;
}

void hv_plugin_free(hv_plugin_t *p)
{
    if (p == NULL)
        return;
    hv_instance_free(p->inst);
    hv_wit_free(p->doc);
    hv_plugin_file_clear(&p->file);
    free(p->imports);
    free(p->exports);
    free(p->state);
    free(p->state_dir);
    free(p->config_json);
    free(p);
}

const char *hv_plugin_name(const hv_plugin_t *p) { return p->file.name; }
const hv_wit_world_t *hv_plugin_world(const hv_plugin_t *p) { return p->world; }
uint64_t hv_plugin_refusals(const hv_plugin_t *p) { return p->refusals; }

void hv_plugin_set_limits(hv_plugin_t *p, uint32_t memory_limit_mb, uint32_t deadline_ms)
{
    p->o.memory_limit_mb = memory_limit_mb;
    p->o.deadline_ms = deadline_ms;
    hv_instance_set_limits(p->inst, memory_limit_mb, deadline_ms ? deadline_ms : 5000);
}

/* ---- calling exports ------------------------------------------------------ */

static int find_export(hv_plugin_t *p, const char *name, size_t *ret_id)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return HV_ENOENT;
    for (size_t i = 0; i < p->nexports; i++) {
        const plugin_export_t *e = &p->exports[i];
        if (strlen(e->iface->name) == (size_t)(dot - name) &&
            strncmp(e->iface->name, name, (size_t)(dot - name)) == 0 &&
            strcmp(e->func->name, dot + 1) == 0) {
            *ret_id = i;
            return HV_OK;
        }
    }
    return HV_ENOENT;
}

int hv_plugin_call(hv_plugin_t *p, const char *func, const hv_value_t *args, hv_arena_t *a,
                   hv_value_t *ret, char *err, size_t errlen)
{
    size_t id;
    if (find_export(p, func, &id) != HV_OK) {
        snprintf(err, errlen, "plugin %s (world %s) exports no function %s", p->file.name,
                 p->world->name, func);
        return HV_ENOENT;
    }
    const hv_wit_func_t *f = p->exports[id].func;
    uint64_t slots[HV_ABI_MAX_FLAT_PARAMS], slot = 0;
    size_t nslots = 0;
    int rc = hv_abi_lower_params(&p->mem, f, args, slots, &nslots, err, errlen);
    if (rc != HV_OK)
        return rc;
    rc = hv_instance_export(p->inst, (uint32_t)id, slots, nslots, &slot);
    if (rc == HV_EEXCEPTION) {
        snprintf(err, errlen, "%s", hv_instance_result(p->inst, NULL));
        return rc;
    }
    if (rc != HV_OK) {
        snprintf(err, errlen, "%s: %s", func, hv_strerror(rc));
        return rc;
    }
    rc = hv_abi_lift_result(&p->mem, f, slot, a, ret, err, errlen);
    hv_instance_post_return(p->inst, (uint32_t)id);
    return rc;
}

int hv_plugin_call_json(hv_plugin_t *p, const char *func, const char *args_json, char **ret_json,
                        char *err, size_t errlen)
{
    size_t id;
    if (find_export(p, func, &id) != HV_OK) {
        snprintf(err, errlen, "plugin %s (world %s) exports no function %s", p->file.name,
                 p->world->name, func);
        return HV_ENOENT;
    }
    const hv_wit_func_t *f = p->exports[id].func;
    /* Parse the arguments as a tuple of the parameters. */
    hv_wit_field_t fields[32];
    if (f->nparams > 32)
        return HV_EINVAL;
    for (size_t i = 0; i < f->nparams; i++)
        fields[i] = (hv_wit_field_t){NULL, f->params[i].type, NULL};
    hv_wit_type_t tuple = {HV_WIT_TUPLE, NULL, NULL, NULL, NULL, NULL, f->nparams, fields};
    const char *json = args_json && *args_json ? args_json : "[]";
    hv_arena_t a;
    hv_arena_init(&a, HV_ABI_MAX_LIFT_BYTES);
    hv_value_t args, result;
    memset(&result, 0, sizeof result);
    char perr[512];
    int rc = hv_value_from_json(&a, &tuple, json, strlen(json), &args, perr, sizeof perr);
    if (rc != HV_OK && f->nparams == 1) {
        /* A single parameter may be given bare. */
        hv_value_t one;
        char scratch[64];
        if (hv_value_from_json(&a, f->params[0].type, json, strlen(json), &one, scratch,
                               sizeof scratch) == HV_OK) {
            args.list.items = hv_arena_alloc(&a, sizeof one);
            if (args.list.items != NULL) {
                args.list.items[0] = one;
                rc = HV_OK;
            }
        }
    }
    if (rc != HV_OK) {
        snprintf(err, errlen, "%s: arguments: %s", func, perr);
        hv_arena_free(&a);
        return rc;
    }
    rc = hv_plugin_call(p, func, args.list.items, &a, &result, err, errlen);
    if (rc == HV_OK) {
        *ret_json = f->result ? hv_value_to_json(&result) : strdup("null");
        if (*ret_json == NULL)
            rc = HV_ENOMEM;
    }
    hv_arena_free(&a);
    return rc;
}
