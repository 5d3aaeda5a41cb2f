/*
 * WIT documents: the public entry points (parse, free, lookups) and the
 * memory every pass shares (one arena per document, arrays and hash maps
 * inside it, error formatting).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wit_impl.h"

/* ---- arena ---- */

#define CHUNK_SIZE (32u * 1024)
#define ALIGN_UP(n) (((n) + _Alignof(max_align_t) - 1) & ~(size_t)(_Alignof(max_align_t) - 1))

struct wit_chunk {
    wit_chunk_t *next;
    size_t used, cap;
};
#define CHUNK_HDR ALIGN_UP(sizeof(wit_chunk_t))

void *wit__alloc(wit_arena_t *a, size_t n)
{
    if (n > HV_WIT_MAX_SOURCE * (size_t)64)
        return NULL; /* no sane document needs this; also keeps ALIGN_UP from wrapping */
    n = ALIGN_UP(n ? n : 1);
    wit_chunk_t *c = a->head;
    if (c == NULL || c->cap - c->used < n) {
        /* Big blocks get a chunk of their own behind the head, so the
         * head's free space stays in use. */
        size_t cap = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
        wit_chunk_t *nc = malloc(CHUNK_HDR + cap);
        if (nc == NULL)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        if (c != NULL && cap != CHUNK_SIZE) {
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    void *p = (char *)c + CHUNK_HDR + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *wit__strndup(wit_arena_t *a, const char *s, size_t n)
{
    char *p = wit__alloc(a, n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void wit__arena_free(wit_arena_t *a)
{
    wit_chunk_t *c = a->head;
    while (c != NULL) {
        wit_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

void *wit__vec_push(wit_arena_t *a, wit_vec_t *v, size_t size)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        void *items = wit__alloc(a, cap * size);
        if (items == NULL)
            return NULL;
        if (v->n)
            memcpy(items, v->items, v->n * size);
        v->items = items;
        v->cap = cap;
    }
    void *p = (char *)v->items + v->n++ * size;
    memset(p, 0, size);
    return p;
}

/* ---- string map: open addressing, FNV-1a ---- */

static size_t hash(const char *s)
{
    size_t h = (size_t)1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * (size_t)1099511628211ull;
    return h;
}

void *wit__map_get(const wit_map_t *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].key == NULL)
            return NULL;
        if (strcmp(m->slots[i].key, key) == 0)
            return m->slots[i].val;
    }
}

static void insert(wit_slot_t *slots, size_t cap, const char *key, void *val)
{
    size_t i = hash(key) & (cap - 1);
    while (slots[i].key != NULL && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    slots[i].key = key;
    slots[i].val = val;
}

int wit__map_put(wit_arena_t *a, wit_map_t *m, const char *key, void *val)
{
    if (2 * (m->n + 1) > m->cap) { /* keep the load under one half */
        size_t cap = m->cap ? m->cap * 2 : 8;
        wit_slot_t *slots = wit__alloc(a, cap * sizeof *slots);
        if (slots == NULL)
            return HV_ENOMEM;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].key != NULL)
                insert(slots, cap, m->slots[i].key, m->slots[i].val);
        m->slots = slots;
        m->cap = cap;
    }
    if (wit__map_get(m, key) == NULL)
        m->n++;
    insert(m->slots, m->cap, key, val);
    return 0;
}

/* ---- shared pieces ---- */

/* Primitive types are shared by every document; they are never written. */
#define PRIM(k) [k] = {.t = {.kind = (k)}, .state = WIT_DONE, .depth = 1}
static const wit_node_t prims[] = {
    PRIM(HV_WIT_BOOL), PRIM(HV_WIT_S8),   PRIM(HV_WIT_U8),     PRIM(HV_WIT_S16), PRIM(HV_WIT_U16),
    PRIM(HV_WIT_S32),  PRIM(HV_WIT_U32),  PRIM(HV_WIT_S64),    PRIM(HV_WIT_U64), PRIM(HV_WIT_F32),
    PRIM(HV_WIT_F64),  PRIM(HV_WIT_CHAR), PRIM(HV_WIT_STRING),
};

const hv_wit_type_t *wit__prim(hv_wit_kind_t kind)
{
    return &prims[kind].t;
}

int wit__err(wit_doc_t *d, wit_pos_t pos, const char *fmt, ...)
{
    if (d->failed || d->err == NULL || d->errlen == 0)
        return HV_EINVAL;
    d->failed = true;
    int n = snprintf(d->err, d->errlen, "%s:%u:%u: ", d->pub.filename, (unsigned)pos.line,
                     (unsigned)pos.col);
    if (n >= 0 && (size_t)n < d->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return HV_EINVAL;
}

int wit__oom(wit_doc_t *d)
{
    if (!d->failed && d->err != NULL && d->errlen != 0)
        snprintf(d->err, d->errlen, "%s: out of memory", d->pub.filename);
    d->failed = true;
    return HV_ENOMEM;
}

/* ---- public API ---- */

static void set_err(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err != NULL && errlen != 0)
        snprintf(err, errlen, fmt, a, b);
}

int hv_wit_parse(const char *src, size_t len, const char *filename, hv_wit_doc_t **ret, char *err,
                 size_t errlen)
{
    if (filename == NULL)
        filename = "<wit>";
    if (err != NULL && errlen != 0)
        err[0] = '\0';
    if (len > HV_WIT_MAX_SOURCE) {
        if (err != NULL && errlen != 0)
            snprintf(err, errlen, "%s:1:1: source is too large (%zu bytes, limit %u)", filename,
                     len, HV_WIT_MAX_SOURCE);
        return HV_ETOOBIG;
    }
    if ((src == NULL && len != 0) || ret == NULL) {
        set_err(err, errlen, "%s: %s", filename, "invalid argument");
        return HV_EINVAL;
    }
    wit_doc_t *d = calloc(1, sizeof *d);
    if (d == NULL) {
        set_err(err, errlen, "%s: %s", filename, "out of memory");
        return HV_ENOMEM;
    }
    d->err = err;
    d->errlen = errlen;
    d->pub.filename = filename; /* until the copy exists, for messages */
    int rc;
    char *name = wit__strndup(&d->arena, filename, strlen(filename));
    if (name == NULL) {
        rc = wit__oom(d);
        goto fail;
    }
    d->pub.filename = name;
    if ((rc = wit__parse_doc(d, src ? src : "", len)) < 0 || (rc = wit__resolve(d)) < 0)
        goto fail;
    *ret = &d->pub;
    return HV_OK;
fail:
    wit__arena_free(&d->arena);
    free(d);
    return rc;
}

int hv_wit_parse_file(const char *path, hv_wit_doc_t **ret, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        set_err(err, errlen, "%s: %s", path, strerror(e));
        return e == ENOENT || e == ENOTDIR ? HV_ENOENT : e == EACCES ? HV_EPERM : HV_EIO;
    }
    int rc = HV_OK;
    size_t len = 0, cap = 0;
    char *buf = NULL;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16384;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                set_err(err, errlen, "%s: %s", path, "out of memory");
                rc = HV_ENOMEM;
                goto out;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len > HV_WIT_MAX_SOURCE) {
            set_err(err, errlen, "%s: %s", path, "file is too large for a WIT document");
            rc = HV_ETOOBIG;
            goto out;
        }
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        set_err(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
        rc = HV_EIO;
        goto out;
    }
    rc = hv_wit_parse(buf, len, path, ret, err, errlen);
out:
    free(buf);
    fclose(f);
    return rc;
}

void hv_wit_free(hv_wit_doc_t *doc)
{
    if (doc == NULL)
        return;
    wit_doc_t *d = (wit_doc_t *)(void *)doc;
    wit__arena_free(&d->arena);
    free(d);
}

const hv_wit_world_t *hv_wit_world(const hv_wit_doc_t *doc, const char *name)
{
    for (size_t i = 0; doc && name && i < doc->nworlds; i++)
        if (strcmp(doc->worlds[i]->name, name) == 0)
            return doc->worlds[i];
    return NULL;
}

const hv_wit_interface_t *hv_wit_interface(const hv_wit_doc_t *doc, const char *name)
{
    for (size_t i = 0; doc && name && i < doc->ninterfaces; i++)
        if (strcmp(doc->interfaces[i]->name, name) == 0)
            return doc->interfaces[i];
    return NULL;
}

const hv_wit_func_t *hv_wit_func(const hv_wit_interface_t *iface, const char *name)
{
    for (size_t i = 0; iface && name && i < iface->nfuncs; i++)
        if (strcmp(iface->funcs[i].name, name) == 0)
            return &iface->funcs[i];
    return NULL;
}
