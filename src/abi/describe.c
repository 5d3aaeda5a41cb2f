/*
 * The world as JSON for the guest SDK: the SDK builds its typed modules,
 * dataclasses and lift/lower closures from this, so a world the host has
 * never seen before works without rebuilding anything.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "abi_impl.h"

typedef struct {
    const hv_wit_type_t **v;
    size_t n, cap;
    int oom;
} type_table_t;

static const char *const kind_names[] = {
    [HV_WIT_BOOL] = "bool",     [HV_WIT_S8] = "s8",         [HV_WIT_U8] = "u8",
    [HV_WIT_S16] = "s16",       [HV_WIT_U16] = "u16",       [HV_WIT_S32] = "s32",
    [HV_WIT_U32] = "u32",       [HV_WIT_S64] = "s64",       [HV_WIT_U64] = "u64",
    [HV_WIT_F32] = "f32",       [HV_WIT_F64] = "f64",       [HV_WIT_CHAR] = "char",
    [HV_WIT_STRING] = "string", [HV_WIT_LIST] = "list",     [HV_WIT_OPTION] = "option",
    [HV_WIT_RESULT] = "result", [HV_WIT_TUPLE] = "tuple",   [HV_WIT_RECORD] = "record",
    [HV_WIT_VARIANT] = "variant", [HV_WIT_ENUM] = "enum",   [HV_WIT_FLAGS] = "flags",
};

/* Id of t in the table, adding it (and, first, what it refers to). */
static int type_id(type_table_t *tt, const hv_wit_type_t *t)
{
    for (size_t i = 0; i < tt->n; i++)
        if (tt->v[i] == t)
            return (int)i;
    if (tt->n == tt->cap) {
        size_t cap = tt->cap ? tt->cap * 2 : 32;
        const hv_wit_type_t **nv = realloc(tt->v, cap * sizeof *nv);
        if (nv == NULL) {
            tt->oom = 1;
            return 0;
        }
        tt->v = nv;
        tt->cap = cap;
    }
    tt->v[tt->n] = t;
    int id = (int)tt->n++;
    if (t->elem)
        type_id(tt, t->elem);
    if (t->err)
        type_id(tt, t->err);
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].type)
            type_id(tt, t->fields[i].type);
    return id;
}

static cJSON *id_or_null(type_table_t *tt, const hv_wit_type_t *t)
{
    return t ? cJSON_CreateNumber(type_id(tt, t)) : cJSON_CreateNull();
}

static cJSON *type_json(type_table_t *tt, const hv_wit_type_t *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", kind_names[t->kind]);
    if (t->name) {
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddStringToObject(o, "interface", t->interface ? t->interface : "");
    }
    switch (t->kind) {
    case HV_WIT_LIST:
    case HV_WIT_OPTION:
        cJSON_AddNumberToObject(o, "elem", type_id(tt, t->elem));
        break;
    case HV_WIT_RESULT:
        cJSON_AddItemToObject(o, "ok", id_or_null(tt, t->elem));
        cJSON_AddItemToObject(o, "err", id_or_null(tt, t->err));
        break;
    case HV_WIT_TUPLE: {
        cJSON *a = cJSON_AddArrayToObject(o, "elems");
        for (size_t i = 0; i < t->nfields; i++)
            cJSON_AddItemToArray(a, cJSON_CreateNumber(type_id(tt, t->fields[i].type)));
        break;
    }
    case HV_WIT_RECORD:
    case HV_WIT_VARIANT: {
        cJSON *a = cJSON_AddArrayToObject(o, t->kind == HV_WIT_RECORD ? "fields" : "cases");
        for (size_t i = 0; i < t->nfields; i++) {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "name", t->fields[i].name);
            cJSON_AddItemToObject(f, "type", id_or_null(tt, t->fields[i].type));
            cJSON_AddItemToArray(a, f);
        }
        break;
    }
    case HV_WIT_ENUM:
    case HV_WIT_FLAGS: {
        cJSON *a = cJSON_AddArrayToObject(o, t->kind == HV_WIT_ENUM ? "cases" : "flags");
        for (size_t i = 0; i < t->nfields; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(t->fields[i].name));
        break;
    }
    default:
        break;
    }
    return o;
}

static cJSON *iface_json(type_table_t *tt, const hv_wit_interface_t *in, int *export_id)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "interface", in->name);
    cJSON *types = cJSON_AddArrayToObject(o, "types");
    for (size_t i = 0; i < in->ntypes; i++)
        cJSON_AddItemToArray(types, cJSON_CreateNumber(type_id(tt, in->types[i])));
    cJSON *funcs = cJSON_AddArrayToObject(o, "functions");
    for (size_t i = 0; i < in->nfuncs; i++) {
        const hv_wit_func_t *f = &in->funcs[i];
        cJSON *fo = cJSON_CreateObject();
        cJSON_AddStringToObject(fo, "name", f->name);
        if (export_id)
            cJSON_AddNumberToObject(fo, "id", (*export_id)++);
        cJSON *ps = cJSON_AddArrayToObject(fo, "params");
        for (size_t k = 0; k < f->nparams; k++) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "name", f->params[k].name);
            cJSON_AddNumberToObject(p, "type", type_id(tt, f->params[k].type));
            cJSON_AddItemToArray(ps, p);
        }
        cJSON_AddItemToObject(fo, "result", id_or_null(tt, f->result));
        cJSON_AddItemToArray(funcs, fo);
    }
    return o;
}

char *hv_abi_describe_world(const hv_wit_world_t *w)
{
    type_table_t tt = {0};
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "world", w->name);
    cJSON *imports = cJSON_AddArrayToObject(root, "imports");
    for (size_t i = 0; i < w->nimports; i++)
        cJSON_AddItemToArray(imports, iface_json(&tt, w->imports[i], NULL));
    cJSON *exports = cJSON_AddArrayToObject(root, "exports");
    int next_id = 0;
    for (size_t i = 0; i < w->nexports; i++)
        cJSON_AddItemToArray(exports, iface_json(&tt, w->exports[i], &next_id));
    /* The table last: describing a type may add the types it refers to. */
    cJSON *types = cJSON_AddArrayToObject(root, "types");
    for (size_t i = 0; i < tt.n; i++)
        cJSON_AddItemToArray(types, type_json(&tt, tt.v[i]));
    char *text = tt.oom ? NULL : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    free(tt.v);
    return text;
}
