/*
 * TOML documents: parsing entry points, lookup and freeing.
 *
 * The work is split by layer: toml_lex.c (characters, keys, strings),
 * toml_scalar.c (numbers, booleans, dates), toml_parse.c (tables, arrays
 * and the redefinition rules), toml_json.c (output).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml_impl.h"

static void set_err(char *err, size_t errlen, const char *name, const char *what)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s: %s", name, what);
}

static void parser_done(toml__parser_t *p)
{
    free(p->buf);
    free(p->slots);
}

int hv_toml_parse(const char *src, size_t len, const char *filename, hv_toml_doc_t **ret, char *err,
                  size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (filename == NULL)
        filename = "<input>";
    if (src == NULL && len > 0) {
        set_err(err, errlen, filename, "no input");
        return HV_EINVAL;
    }
    if (len > HV_TOML_MAX_SOURCE) {
        char what[96];
        snprintf(what, sizeof what, "%zu bytes, over the limit of %u", len, HV_TOML_MAX_SOURCE);
        set_err(err, errlen, filename, what);
        return HV_ETOOBIG;
    }
    hv_toml_doc_t *doc = calloc(1, sizeof *doc);
    size_t namelen = strlen(filename);
    if (doc == NULL || (doc->filename = malloc(namelen + 1)) == NULL) {
        free(doc);
        set_err(err, errlen, filename, "out of memory");
        return HV_ENOMEM;
    }
    memcpy(doc->filename, filename, namelen + 1);
    hv_arena_init(&doc->arena, 0);

    toml__parser_t p = {.src = src ? src : "",
                        .len = len,
                        .filename = doc->filename,
                        .doc = doc,
                        .err = err,
                        .errlen = errlen,
                        .rc = HV_OK};
    /* A byte order mark is allowed at the very start and means nothing. */
    if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0)
        p.start = p.pos = 3;
    p.pc_off = p.start;
    p.pc_line = p.pc_col = 1;

    doc->root = toml__new_node(&p, HV_TOML_TABLE, 1, 1, 0);
    if (doc->root != NULL && toml__check_utf8(&p) == 0)
        toml__parse_document(&p);
    parser_done(&p);
    if (p.rc != HV_OK) {
        hv_toml_free(doc);
        return p.rc;
    }
    *ret = doc;
    return HV_OK;
}

/* Reads all of f, refusing more than HV_TOML_MAX_SOURCE bytes. */
static int read_all(FILE *f, char **text, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return HV_ENOMEM;
    for (;;) {
        if (n == cap) {
            if (cap > HV_TOML_MAX_SOURCE) {
                free(buf);
                return HV_ETOOBIG;
            }
            char *grown = realloc(buf, cap * 2);
            if (grown == NULL) {
                free(buf);
                return HV_ENOMEM;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return HV_EIO;
    }
    if (n > HV_TOML_MAX_SOURCE) {
        free(buf);
        return HV_ETOOBIG;
    }
    *text = buf;
    *len = n;
    return HV_OK;
}

int hv_toml_parse_file(const char *path, hv_toml_doc_t **ret, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        set_err(err, errlen, path, strerror(e));
        return e == ENOENT ? HV_ENOENT : HV_EIO;
    }
    char *text = NULL;
    size_t len = 0;
    errno = 0;
    int rc = read_all(f, &text, &len);
    int e = errno;
    fclose(f);
    if (rc == HV_EIO)
        set_err(err, errlen, path, e ? strerror(e) : "read error");
    else if (rc == HV_ETOOBIG)
        set_err(err, errlen, path, "file larger than the 8 MiB limit");
    else if (rc != HV_OK)
        set_err(err, errlen, path, "out of memory");
    if (rc != HV_OK)
        return rc;
    rc = hv_toml_parse(text, len, path, ret, err, errlen);
    free(text);
    return rc;
}

void hv_toml_free(hv_toml_doc_t *doc)
{
    if (doc == NULL)
        return;
    hv_arena_free(&doc->arena);
    free(doc->filename);
    free(doc);
}

const hv_toml_value_t *hv_toml_root(const hv_toml_doc_t *doc)
{
    return doc ? &doc->root->v : NULL;
}

const char *hv_toml_filename(const hv_toml_doc_t *doc)
{
    return doc ? doc->filename : NULL;
}

/* A linear scan: configuration tables are small, and the parser's own
 * duplicate checks use the hash index in toml_parse.c instead. Comparing
 * lengths too keeps "a\u0000b" from answering for "a". */
const hv_toml_kv_t *hv_toml_get(const hv_toml_value_t *table, const char *key)
{
    if (table == NULL || key == NULL || table->kind != HV_TOML_TABLE)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < table->table.len; i++) {
        const hv_toml_kv_t *kv = &table->table.items[i];
        if (toml__key_len(kv->key) == n && memcmp(kv->key, key, n) == 0)
            return kv;
    }
    return NULL;
}

size_t hv_toml_key_len(const hv_toml_kv_t *kv) { return toml__key_len(kv->key); }
