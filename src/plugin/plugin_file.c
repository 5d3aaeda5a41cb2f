/*
 * The plugin file: a WebAssembly binary made only of custom sections.
 *   harvester.plugin  JSON: name, world, version, runtime (hash), sdk (ABI)
 *   harvester.wit     the WIT text the plugin was built against
 *   harvester.app     the Python sources: u32 count, then per file
 *                     u32 path length, path, u32 data length, data (LE)
 * The runtime is referenced by content hash rather than embedded: it is
 * 6 MB and compiled ahead of time once per host, while a plugin is a few
 * KB of source that hot-reloads in milliseconds.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hv_plugin.h"

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    int oom;
} out_t;

static void put(out_t *o, const void *p, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n)
            cap *= 2;
        uint8_t *nb = realloc(o->buf, cap);
        if (nb == NULL) {
            o->oom = 1;
            return;
        }
        o->buf = nb;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static void put_leb(out_t *o, uint32_t v)
{
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        if (v)
            b |= 0x80;
        put(o, &b, 1);
    } while (v);
}

static void put_u32(out_t *o, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(o, b, 4);
}

static void put_section(out_t *o, const char *name, const out_t *body)
{
    uint8_t id = 0;
    size_t nlen = strlen(name);
    out_t hdr = {0};
    put_leb(&hdr, (uint32_t)nlen);
    put(&hdr, name, nlen);
    put(o, &id, 1);
    put_leb(o, (uint32_t)(hdr.len + body->len));
    put(o, hdr.buf, hdr.len);
    put(o, body->buf, body->len);
    o->oom |= hdr.oom | body->oom;
    free(hdr.buf);
}

int hv_plugin_file_encode(const hv_plugin_file_t *f, uint8_t **ret_buf, size_t *ret_len)
{
    static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    out_t o = {0}, meta = {0}, wit = {0}, app = {0};
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "name", f->name);
    cJSON_AddStringToObject(m, "world", f->world);
    cJSON_AddStringToObject(m, "version", f->version ? f->version : "0.0.0");
    cJSON_AddStringToObject(m, "runtime", f->runtime ? f->runtime : "");
    cJSON_AddNumberToObject(m, "sdk", f->sdk_abi);
    char *text = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    if (text == NULL)
        return HV_ENOMEM;
    put(&meta, text, strlen(text));
    free(text);
    put(&wit, f->wit, f->wit_len);
    put_u32(&app, (uint32_t)f->nsources);
    for (size_t i = 0; i < f->nsources; i++) {
        size_t pl = strlen(f->sources[i].path);
        put_u32(&app, (uint32_t)pl);
        put(&app, f->sources[i].path, pl);
        put_u32(&app, (uint32_t)f->sources[i].len);
        put(&app, f->sources[i].data, f->sources[i].len);
    }
    put(&o, magic, sizeof magic);
    put_section(&o, "harvester.plugin", &meta);
    put_section(&o, "harvester.wit", &wit);
    put_section(&o, "harvester.app", &app);
    int oom = o.oom;
    free(meta.buf);
    free(wit.buf);
    free(app.buf);
    if (oom) {
        free(o.buf);
        return HV_ENOMEM;
    }
    *ret_buf = o.buf;
    *ret_len = o.len;
    return HV_OK;
}

/* ---- decoding (untrusted input) ---------------------------------------- */

typedef struct {
    const uint8_t *p, *end;
} in_t;

static int get_leb(in_t *in, uint32_t *ret)
{
    uint32_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (in->p >= in->end)
            return -1;
        uint8_t b = *in->p++;
        if (shift == 28 && (b & 0xF0))
            return -1;
        v |= (uint32_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *ret = v;
            return 0;
        }
    }
    return -1;
}

static int get_u32(in_t *in, uint32_t *ret)
{
    if (in->end - in->p < 4)
        return -1;
    *ret = (uint32_t)in->p[0] | (uint32_t)in->p[1] << 8 | (uint32_t)in->p[2] << 16 |
           (uint32_t)in->p[3] << 24;
    in->p += 4;
    return 0;
}

/* Relative, plain, no "..": a path that cannot leave the extraction dir. */
static int safe_path(const char *s, size_t n)
{
    if (n == 0 || n > 255 || s[0] == '/' || s[n - 1] == '/')
        return 0;
    size_t seg = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (seg == 0 || (seg == 2 && s[i - 1] == '.' && s[i - 2] == '.') ||
                (seg == 1 && s[i - 1] == '.'))
                return 0;
            seg = 0;
            continue;
        }
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
        seg++;
    }
    return 1;
}

static char *json_str(cJSON *o, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static int decode_meta(const uint8_t *p, size_t n, hv_plugin_file_t *f, char *err, size_t errlen)
{
    cJSON *m = cJSON_ParseWithLength((const char *)p, n);
    if (!cJSON_IsObject(m)) {
        cJSON_Delete(m);
        snprintf(err, errlen, "section harvester.plugin is not a JSON object");
        return HV_EINVAL;
    }
    f->name = json_str(m, "name");
    f->world = json_str(m, "world");
    f->version = json_str(m, "version");
    f->runtime = json_str(m, "runtime");
    cJSON *sdk = cJSON_GetObjectItemCaseSensitive(m, "sdk");
    f->sdk_abi = cJSON_IsNumber(sdk) ? sdk->valueint : 0;
    cJSON_Delete(m);
    if (f->name == NULL || f->world == NULL) {
        snprintf(err, errlen, "section harvester.plugin lacks name or world");
        return HV_EINVAL;
    }
    return HV_OK;
}

static int decode_app(const uint8_t *p, size_t n, hv_plugin_file_t *f, char *err, size_t errlen)
{
    in_t in = {p, p + n};
    uint32_t count;
    if (get_u32(&in, &count) != 0 || count > HV_PLUGIN_MAX_SOURCES) {
        snprintf(err, errlen, "section harvester.app: bad file count");
        return HV_EINVAL;
    }
    f->sources = calloc(count ? count : 1, sizeof *f->sources);
    if (f->sources == NULL)
        return HV_ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t pl, dl;
        if (get_u32(&in, &pl) != 0 || pl > (size_t)(in.end - in.p) ||
            !safe_path((const char *)in.p, pl)) {
            snprintf(err, errlen, "section harvester.app: file %u has a bad path", i);
            return HV_EINVAL;
        }
        hv_plugin_source_t *s = &f->sources[f->nsources++];
        s->path = strndup((const char *)in.p, pl);
        in.p += pl;
        if (get_u32(&in, &dl) != 0 || dl > (size_t)(in.end - in.p)) {
            snprintf(err, errlen, "section harvester.app: %s is truncated", s->path ? s->path : "?");
            return HV_EINVAL;
        }
        s->data = malloc(dl ? dl : 1);
        if (s->path == NULL || s->data == NULL)
            return HV_ENOMEM;
        memcpy(s->data, in.p, dl);
        s->len = dl;
        in.p += dl;
    }
    return HV_OK;
}

int hv_plugin_file_decode(const uint8_t *buf, size_t len, hv_plugin_file_t *ret, char *err,
                          size_t errlen)
{
    hv_plugin_file_t f;
    memset(&f, 0, sizeof f);
    int rc = HV_OK, have_meta = 0, have_wit = 0, have_app = 0;
    if (len < 8 || memcmp(buf, "\0asm", 4) != 0) {
        snprintf(err, errlen, "not a WebAssembly file");
        return HV_EBADWASM;
    }
    if (buf[4] != 1 || buf[5] || buf[6] || buf[7]) {
        snprintf(err, errlen, "not a harvester plugin (a component or unknown wasm version)");
        return HV_EBADWASM;
    }
    if (len > HV_PLUGIN_MAX_FILE) {
        snprintf(err, errlen, "file larger than %u MiB", HV_PLUGIN_MAX_FILE >> 20);
        return HV_ETOOBIG;
    }
    in_t in = {buf + 8, buf + len};
    while (rc == HV_OK && in.p < in.end) {
        uint8_t id = *in.p++;
        uint32_t size, nlen;
        if (get_leb(&in, &size) != 0 || size > (size_t)(in.end - in.p)) {
            snprintf(err, errlen, "truncated section at byte %zu", (size_t)(in.p - buf));
            rc = HV_EBADWASM;
            break;
        }
        in_t sec = {in.p, in.p + size};
        in.p += size;
        if (id != 0) {
            snprintf(err, errlen,
                     "not a harvester plugin: it has code (section id %u); plugins are "
                     "Python built with `harvester build`",
                     id);
            rc = HV_EBADWASM;
            break;
        }
        if (get_leb(&sec, &nlen) != 0 || nlen > (size_t)(sec.end - sec.p)) {
            snprintf(err, errlen, "bad custom section name");
            rc = HV_EBADWASM;
            break;
        }
        const char *name = (const char *)sec.p;
        sec.p += nlen;
        size_t body = (size_t)(sec.end - sec.p);
#define IS(s) (nlen == sizeof(s) - 1 && memcmp(name, s, nlen) == 0)
        if (IS("harvester.plugin") && !have_meta) {
            have_meta = 1;
            rc = decode_meta(sec.p, body, &f, err, errlen);
        } else if (IS("harvester.wit") && !have_wit) {
            have_wit = 1;
            /* All body bytes (a NUL inside must not shorten the copy below
             * wit_len: hv_wit_parse reads wit_len bytes), NUL-terminated. */
            f.wit = malloc(body + 1);
            if (f.wit) {
                memcpy(f.wit, sec.p, body);
                f.wit[body] = '\0';
            }
            f.wit_len = body;
            rc = f.wit ? HV_OK : HV_ENOMEM;
        } else if (IS("harvester.app") && !have_app) {
            have_app = 1;
            rc = decode_app(sec.p, body, &f, err, errlen);
        } else if (IS("harvester.plugin") || IS("harvester.wit") || IS("harvester.app")) {
            snprintf(err, errlen, "duplicate section %.*s", (int)nlen, name);
            rc = HV_EINVAL;
        }
#undef IS
    }
    if (rc == HV_OK && !(have_meta && have_wit && have_app)) {
        snprintf(err, errlen, "not a harvester plugin: missing section %s",
                 !have_meta ? "harvester.plugin" : !have_wit ? "harvester.wit" : "harvester.app");
        rc = HV_EINVAL;
    }
    if (rc == HV_ENOMEM)
        snprintf(err, errlen, "out of memory");
    if (rc != HV_OK) {
        hv_plugin_file_clear(&f);
        return rc;
    }
    *ret = f;
    return HV_OK;
}

void hv_plugin_file_clear(hv_plugin_file_t *f)
{
    for (size_t i = 0; i < f->nsources; i++) {
        free(f->sources[i].path);
        free(f->sources[i].data);
    }
    free(f->sources);
    free(f->name);
    free(f->world);
    free(f->version);
    free(f->runtime);
    free(f->wit);
    memset(f, 0, sizeof *f);
}
