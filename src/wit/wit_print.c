/*
 * WIT output: types spelled as WIT writes them (hv_wit_type_str) and the
 * human-readable summary of a document's worlds (hv_wit_print, what
 * `harvester wit <file>` shows).
 */
#include <stdlib.h>
#include <string.h>

#include "wit_impl.h"

/* Output goes either to a FILE or into a buffer with snprintf semantics,
 * so the type printer exists once. */
typedef struct {
    FILE *out;
    char *buf;
    size_t len, need;
} sink_t;

static void put(sink_t *s, const char *text)
{
    size_t n = strlen(text);
    if (s->out != NULL) {
        fputs(text, s->out);
    } else if (s->need + 1 < s->len) {
        size_t room = s->len - 1 - s->need;
        memcpy(s->buf + s->need, text, n < room ? n : room);
    }
    s->need += n;
}

/* A declared name, `%`-escaped where WIT needs it (`%type`). */
static void put_name(sink_t *s, const char *name)
{
    if (wit__is_keyword(name))
        put(s, "%");
    put(s, name);
}

static const char *const prim_names[] = {
    [HV_WIT_BOOL] = "bool",       [HV_WIT_S8] = "s8",       [HV_WIT_U8] = "u8",
    [HV_WIT_S16] = "s16",         [HV_WIT_U16] = "u16",     [HV_WIT_S32] = "s32",
    [HV_WIT_U32] = "u32",         [HV_WIT_S64] = "s64",     [HV_WIT_U64] = "u64",
    [HV_WIT_F32] = "f32",         [HV_WIT_F64] = "f64",     [HV_WIT_CHAR] = "char",
    [HV_WIT_STRING] = "string",   [HV_WIT_LIST] = "list",   [HV_WIT_OPTION] = "option",
    [HV_WIT_RESULT] = "result",   [HV_WIT_TUPLE] = "tuple", [HV_WIT_RECORD] = "record",
    [HV_WIT_VARIANT] = "variant", [HV_WIT_ENUM] = "enum",   [HV_WIT_FLAGS] = "flags",
};

/* `structural`: spell the top level out even if it has a name (for
 * `type a = list<u8>` definitions). */
static void type_str(sink_t *s, const hv_wit_type_t *t, bool structural)
{
    if (t == NULL) {
        put(s, "_");
        return;
    }
    if (t->name != NULL && !structural) {
        put_name(s, t->name);
        return;
    }
    put(s, (size_t)t->kind < sizeof prim_names / sizeof prim_names[0] ? prim_names[t->kind] : "?");
    switch (t->kind) {
    case HV_WIT_LIST:
    case HV_WIT_OPTION:
        put(s, "<");
        type_str(s, t->elem, false);
        put(s, ">");
        break;
    case HV_WIT_RESULT:
        if (t->elem == NULL && t->err == NULL)
            break;
        put(s, "<");
        type_str(s, t->elem, false);
        if (t->err != NULL) {
            put(s, ", ");
            type_str(s, t->err, false);
        }
        put(s, ">");
        break;
    case HV_WIT_TUPLE:
        put(s, "<");
        for (size_t k = 0; k < t->nfields; k++) {
            if (k)
                put(s, ", ");
            type_str(s, t->fields[k].type, false);
        }
        put(s, ">");
        break;
    default:
        break;
    }
}

size_t hv_wit_type_str(const hv_wit_type_t *t, char *buf, size_t len)
{
    sink_t s = {NULL, buf, len, 0};
    type_str(&s, t, false);
    if (len != 0)
        buf[s.need < len ? s.need : len - 1] = '\0';
    return s.need;
}

/* ---- hv_wit_print ---- */

/* Named types used by an interface's functions, in first-use order. */
typedef struct {
    const hv_wit_type_t **items;
    size_t n, cap;
    bool oom;
} used_t;

static bool seen(const used_t *u, const hv_wit_type_t *t)
{
    for (size_t k = 0; k < u->n; k++)
        if (u->items[k] == t)
            return true;
    return false;
}

static void collect(used_t *u, const hv_wit_type_t *t)
{
    if (t == NULL || u->oom)
        return;
    if (t->name != NULL) {
        if (seen(u, t))
            return;
        if (u->n == u->cap) {
            size_t cap = u->cap ? 2 * u->cap : 16;
            const hv_wit_type_t **items = realloc(u->items, cap * sizeof *items);
            if (items == NULL) {
                u->oom = true;
                return;
            }
            u->items = items;
            u->cap = cap;
        }
        u->items[u->n++] = t;
    }
    collect(u, t->elem);
    collect(u, t->err);
    for (size_t k = 0; k < t->nfields; k++)
        collect(u, t->fields[k].type);
}

static void print_def(sink_t *s, const hv_wit_type_t *t)
{
    switch (t->kind) {
    case HV_WIT_RECORD:
    case HV_WIT_VARIANT:
    case HV_WIT_ENUM:
    case HV_WIT_FLAGS:
        break;
    default:
        put(s, "    type ");
        put_name(s, t->name);
        put(s, " = ");
        type_str(s, t, true);
        put(s, "\n");
        return;
    }
    put(s, "    ");
    put(s, prim_names[t->kind]);
    put(s, " ");
    put_name(s, t->name);
    put(s, " {\n");
    for (size_t k = 0; k < t->nfields; k++) {
        const hv_wit_field_t *f = &t->fields[k];
        put(s, "      ");
        put_name(s, f->name);
        if (t->kind == HV_WIT_RECORD) {
            put(s, ": ");
            type_str(s, f->type, false);
        } else if (f->type != NULL) {
            put(s, "(");
            type_str(s, f->type, false);
            put(s, ")");
        }
        put(s, ",\n");
    }
    put(s, "    }\n");
}

static void print_func(sink_t *s, const hv_wit_func_t *f)
{
    put(s, "    ");
    put_name(s, f->name);
    put(s, ": func(");
    for (size_t k = 0; k < f->nparams; k++) {
        if (k)
            put(s, ", ");
        put_name(s, f->params[k].name);
        put(s, ": ");
        type_str(s, f->params[k].type, false);
    }
    put(s, ")");
    if (f->result != NULL) {
        put(s, " -> ");
        type_str(s, f->result, false);
    }
    put(s, "\n");
}

static int print_iface(sink_t *s, const char *what, const hv_wit_interface_t *i)
{
    used_t u = {0};
    put(s, "  ");
    put(s, what);
    put(s, " ");
    put_name(s, i->name);
    put(s, "\n");
    for (size_t k = 0; k < i->nfuncs; k++) {
        const hv_wit_func_t *f = &i->funcs[k];
        print_func(s, f);
        for (size_t j = 0; j < f->nparams; j++)
            collect(&u, f->params[j].type);
        collect(&u, f->result);
    }
    for (size_t k = 0; k < u.n; k++)
        print_def(s, u.items[k]);
    free(u.items);
    return u.oom ? -1 : 0;
}

int hv_wit_print(FILE *out, const hv_wit_doc_t *doc)
{
    sink_t s = {out, NULL, 0, 0};
    for (size_t w = 0; w < doc->nworlds; w++) {
        const hv_wit_world_t *world = doc->worlds[w];
        if (w)
            put(&s, "\n");
        put(&s, "world ");
        put_name(&s, world->name);
        put(&s, "\n");
        for (size_t k = 0; k < world->nimports; k++)
            if (print_iface(&s, "import", world->imports[k]) < 0)
                return -1;
        for (size_t k = 0; k < world->nexports; k++)
            if (print_iface(&s, "export", world->exports[k]) < 0)
                return -1;
    }
    return ferror(out) ? -1 : 0;
}
