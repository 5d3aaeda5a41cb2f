/*
 * `harvester build`: plugin directory -> plugin file (plugin.toml names the
 * plugin and its world; the sources are checked in the sandbox first).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hv_toml.h"
#include "plugin_impl.h"

typedef struct {
    char *name, *world, *version, *description, *wit;
} manifest_t;

static void manifest_clear(manifest_t *m)
{
    free(m->name);
    free(m->world);
    free(m->version);
    free(m->description);
    free(m->wit);
    memset(m, 0, sizeof *m);
}

/* plugin.toml: a flat table of strings; anything else names file:line:col. */
static int manifest_read(const char *path, manifest_t *m, char *err, size_t errlen)
{
    hv_toml_doc_t *doc;
    int rc = hv_toml_parse_file(path, &doc, err, errlen);
    if (rc != HV_OK)
        return rc;
    const hv_toml_value_t *root = hv_toml_root(doc);
    for (size_t i = 0; rc == HV_OK && i < root->table.len; i++) {
        const hv_toml_kv_t *kv = &root->table.items[i];
        char **slot = strcmp(kv->key, "name") == 0          ? &m->name
                      : strcmp(kv->key, "world") == 0       ? &m->world
                      : strcmp(kv->key, "version") == 0     ? &m->version
                      : strcmp(kv->key, "description") == 0 ? &m->description
                      : strcmp(kv->key, "wit") == 0         ? &m->wit
                                                             : NULL;
        if (slot == NULL) {
            snprintf(err, errlen, "%s:%d:%d: unknown key '%s' (expected name, world, version, "
                     "description, wit)", path, kv->line, kv->col, kv->key);
            rc = HV_EINVAL;
        } else if (kv->value->kind != HV_TOML_STRING) {
            snprintf(err, errlen, "%s:%d:%d: %s: expected a \"string\" value", path,
                     kv->value->line, kv->value->col, kv->key);
            rc = HV_EINVAL;
        } else if ((*slot = strdup(kv->value->str.ptr)) == NULL) {
            rc = HV_ENOMEM;
        }
    }
    hv_toml_free(doc);
    if (rc == HV_OK && (m->name == NULL || m->world == NULL)) {
        snprintf(err, errlen, "%s: missing required key '%s'", path,
                 m->name == NULL ? "name" : "world");
        rc = HV_EINVAL;
    }
    for (const char *c = m->name; rc == HV_OK && *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_')) {
            snprintf(err, errlen, "%s: name '%s' may only use a-z, 0-9, '-' and '_'", path,
                     m->name);
            rc = HV_EINVAL;
        }
    return rc;
}

static int read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return HV_ENOENT;
    uint8_t *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    fclose(f);
    if (buf == NULL)
        return HV_ENOMEM;
    if (n > max) {
        free(buf);
        return HV_ETOOBIG;
    }
    *ret = buf;
    *ret_len = n;
    return HV_OK;
}

/* Adds every .py file under dir/rel (skipping caches and hidden files). */
static int collect(const char *root, const char *rel, hv_plugin_file_t *f, int depth, char *err,
                   size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (d == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return HV_EIO;
    }
    int rc = HV_OK;
    struct dirent *e;
    while (rc == HV_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "__pycache__") == 0)
            continue;
        char sub[PATH_MAX], full[PATH_MAX * 2];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 4)
                rc = collect(root, sub, f, depth + 1, err, errlen);
            continue;
        }
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 3, ".py") != 0)
            continue;
        if (f->nsources == HV_PLUGIN_MAX_SOURCES) {
            snprintf(err, errlen, "%s: more than %d Python files", root, HV_PLUGIN_MAX_SOURCES);
            rc = HV_ETOOBIG;
            break;
        }
        hv_plugin_source_t *s = &f->sources[f->nsources];
        rc = read_file(full, HV_PLUGIN_MAX_FILE / 2, &s->data, &s->len);
        if (rc != HV_OK) {
            snprintf(err, errlen, "%s: %s", full, hv_strerror(rc));
            break;
        }
        s->path = strdup(sub);
        f->nsources++;
        if (s->path == NULL)
            rc = HV_ENOMEM;
    }
    closedir(d);
    return rc;
}

/* Checks in a sandbox that every file compiles and that the SDK accepts the
 * app for its world (export classes and methods present). */
static const char check_src[] =
    "import harvester, os\n"
    "def _hv_check(world):\n"
    "    for top, dirs, files in os.walk('/plugin'):\n"
    "        for f in sorted(files):\n"
    "            if f.endswith('.py'):\n"
    "                p = os.path.join(top, f)\n"
    "                with open(p, encoding='utf-8') as fh:\n"
    "                    compile(fh.read(), p[len('/plugin/'):], 'exec')\n"
    "    harvester._bootstrap(world, 'app')\n";

static int check(hv_engine_t *eng, const char *dir, const hv_wit_world_t *w, char *err,
                 size_t errlen)
{
    hv_instance_opts_t io = {0};
    io.mounts[0].guest = "/plugin";
    io.mounts[0].host = dir;
    io.nmounts = 1;
    io.deadline_ms = 30000;
    hv_instance_t *inst = NULL;
    char *desc = hv_abi_describe_world(w);
    int rc = desc ? hv_instance_new(eng, &io, &inst) : HV_ENOMEM;
    if (rc == HV_OK)
        rc = hv_instance_init_python(inst);
    if (rc == HV_OK)
        rc = hv_instance_exec(inst, check_src, sizeof check_src - 1, "<check>");
    if (rc == HV_OK)
        rc = hv_instance_call(inst, "_hv_check", desc, strlen(desc));
    if (rc != HV_OK) {
        const char *tb = inst ? hv_instance_result(inst, NULL) : "";
        snprintf(err, errlen, "%s: check failed: %s\n%s", dir, hv_strerror(rc), tb);
    }
    hv_instance_free(inst);
    free(desc);
    return rc;
}

int hv_plugin_build(hv_engine_t *eng, const char *dir, const char *out, const char *wit_default,
                    char *ret_out_path, size_t out_len, char *err, size_t errlen)
{
    char path[PATH_MAX], witpath[PATH_MAX], outpath[PATH_MAX];
    manifest_t m = {0};
    hv_plugin_file_t f = {0};
    hv_wit_doc_t *doc = NULL;
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    int rc;
    snprintf(path, sizeof path, "%s/plugin.toml", dir);
    if ((rc = manifest_read(path, &m, err, errlen)) != HV_OK)
        goto out;
    if (m.wit)
        snprintf(witpath, sizeof witpath, "%s%s%s", m.wit[0] == '/' ? "" : dir,
                 m.wit[0] == '/' ? "" : "/", m.wit);
    else
        snprintf(witpath, sizeof witpath, "%s", wit_default);
    uint8_t *wit;
    size_t wit_len;
    if ((rc = read_file(witpath, 4u << 20, &wit, &wit_len)) != HV_OK) {
        snprintf(err, errlen, "%s: %s", witpath, hv_strerror(rc));
        goto out;
    }
    f.wit = (char *)wit;
    f.wit_len = wit_len;
    if ((rc = hv_wit_parse(f.wit, f.wit_len, witpath, &doc, err, errlen)) != HV_OK)
        goto out;
    const hv_wit_world_t *w = hv_wit_world(doc, m.world);
    if (w == NULL) {
        snprintf(err, errlen, "%s: world '%s' is not in %s", path, m.world, witpath);
        rc = HV_EINVAL;
        goto out;
    }
    f.sources = calloc(HV_PLUGIN_MAX_SOURCES, sizeof *f.sources);
    if (f.sources == NULL) {
        rc = HV_ENOMEM;
        goto out;
    }
    if ((rc = collect(dir, "", &f, 0, err, errlen)) != HV_OK)
        goto out;
    int has_app = 0;
    for (size_t i = 0; i < f.nsources; i++)
        has_app |= strcmp(f.sources[i].path, "app.py") == 0;
    if (!has_app) {
        snprintf(err, errlen, "%s: no app.py", dir);
        rc = HV_ENOENT;
        goto out;
    }
    if ((rc = check(eng, dir, w, err, errlen)) != HV_OK)
        goto out;
    f.name = m.name;
    f.world = m.world;
    f.version = m.version;
    f.runtime = (char *)hv_engine_runtime_id(eng);
    f.sdk_abi = HV_PLUGIN_SDK_ABI;
    rc = hv_plugin_file_encode(&f, &bin, &bin_len);
    f.name = f.world = f.version = f.runtime = NULL;
    if (rc != HV_OK)
        goto out;
    if (out)
        snprintf(outpath, sizeof outpath, "%s", out);
    else
        snprintf(outpath, sizeof outpath, "%.*s.wasm", (int)strcspn(dir, "\0"), dir);
    /* Strip a trailing slash of dir so "plugins/x/" gives plugins/x.wasm. */
    size_t ol = strlen(outpath);
    if (!out && ol > 6 && outpath[ol - 6] == '/')
        memmove(outpath + ol - 6, outpath + ol - 5, 6);
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", outpath);
    FILE *o = fopen(tmp, "wb");
    int okw = o != NULL && fwrite(bin, 1, bin_len, o) == bin_len;
    if (o != NULL && fclose(o) != 0)
        okw = 0;
    if (!okw || rename(tmp, outpath) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", outpath, strerror(errno));
        rc = HV_EIO;
        goto out;
    }
    snprintf(ret_out_path, out_len, "%s", outpath);
out:
    free(bin);
    hv_wit_free(doc);
    hv_plugin_file_clear(&f);
    manifest_clear(&m);
    return rc;
}
