/* libFuzzer harness for the TOML parser: any input gives a document or a
 * clean "f.toml:line:col: ..." error; a document's tree is well-formed and
 * both JSON writers produce JSON that cJSON reads back (abort otherwise). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hv_toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_toml: %s\ninput: %.*s\n", what, (int)size, (const char *)data);
    abort();
}

/* Positions are 1-based, containers hold no NULLs, strings end in NUL. */
static bool well_formed(const hv_toml_value_t *v, int depth)
{
    if (v == NULL || v->line < 1 || v->col < 1 || depth > HV_TOML_MAX_DEPTH + 1)
        return false;
    switch (v->kind) {
    case HV_TOML_TABLE:
        for (size_t i = 0; i < v->table.len; i++) {
            const hv_toml_kv_t *kv = &v->table.items[i];
            if (kv->key == NULL || kv->line < 1 || kv->col < 1 ||
                !well_formed(kv->value, depth + 1))
                return false;
        }
        return true;
    case HV_TOML_ARRAY:
        for (size_t i = 0; i < v->array.len; i++)
            if (!well_formed(v->array.items[i], depth + 1))
                return false;
        return true;
    case HV_TOML_STRING:
        return v->str.ptr != NULL && v->str.ptr[v->str.len] == '\0';
    default:
        return true;
    }
}

static bool lines_ok(const char *err, const uint8_t *data, size_t size)
{
    int line, col;
    if (sscanf(err, "f.toml:%d:%d: ", &line, &col) != 2 || line < 1 || col < 1)
        return false;
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    return (size_t)line <= lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hv_toml_doc_t *doc = NULL;
    char err[512];
    int rc = hv_toml_parse((const char *)data, size, "f.toml", &doc, err, sizeof err);
    if (rc != HV_OK) {
        if (rc != HV_EINVAL || doc != NULL || !lines_ok(err, data, size))
            die(err, data, size);
        return 0;
    }
    const hv_toml_value_t *root = hv_toml_root(doc);
    if (!well_formed(root, 0))
        die("malformed tree", data, size);

    char *plain = hv_toml_to_json(root);
    cJSON *back = plain ? cJSON_Parse(plain) : NULL;
    if (back == NULL)
        die(plain ? plain : "hv_toml_to_json failed", data, size);
    cJSON_Delete(back);
    free(plain);

    char *tagged = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&tagged, &len);
    if (f == NULL || hv_toml_write_tagged_json(f, root) != 0 || fclose(f) != 0)
        die("hv_toml_write_tagged_json failed", data, size);
    back = cJSON_Parse(tagged);
    if (back == NULL)
        die(tagged, data, size);
    cJSON_Delete(back);
    free(tagged);
    hv_toml_free(doc);
    return 0;
}
