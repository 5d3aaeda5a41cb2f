/*
 * TOML structure: key/value lines, [table] and [[array]] headers, arrays,
 * inline tables, and the rules about what may be defined where.
 *
 * The rules are kept per node (they match tomli's, which passes
 * toml-test):
 *  - A [header] defines a table once (TOML__EXPLICIT). The tables it
 *    creates on its way ([a.b.c] creates a and a.b) are implicit and may
 *    get their own header later.
 *  - Dotted keys (a.b.c = 1) create and extend tables within one section,
 *    the lines after one header. A table they went through is closed to
 *    later headers and to dotted keys of later sections (node->section),
 *    though a header may still go through it to a new sub-table. They
 *    never extend a table a header defined.
 *  - Inline tables and array literals are complete as written
 *    (TOML__INLINE): no header, dotted key or [[header]] may add to them.
 *  - [[a]] appends only to an array that [[a]] created (TOML__AOT); a
 *    header path through such an array goes into its last element.
 * Keys are checked for duplicates through one hash index over all tables,
 * so a table with many keys costs no more per key than a small one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml_impl.h"

static char at(const toml__parser_t *p, size_t i)
{
    return i < p->len ? p->src[i] : '\0';
}

/* Containers are allocated as nodes (toml_impl.h), so the cast is exact. */
static toml__node_t *node_of(const hv_toml_value_t *v)
{
    return (toml__node_t *)(uintptr_t)v;
}

/* ---- messages ---------------------------------------------------------- */

/* Appends key k to out: bare keys as they are, others in quotes with
 * anything unprintable escaped, so a message stays on one line. */
static void show_key(char *out, size_t size, const char *k, size_t n)
{
    size_t len = strlen(out);
    bool bare = n > 0;
    for (size_t i = 0; i < n; i++)
        bare = bare && toml__is_bare((unsigned char)k[i]);
    if (bare) {
        snprintf(out + len, size - len, "%.*s", (int)(n > 60 ? 60 : n), k);
        return;
    }
    char q[160];
    size_t j = 0;
    q[j++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        if ((c & 0xC0) != 0x80 && j >= sizeof q - 8) /* cut between characters */
            break;
        if (c < 0x20 || c == 0x7F || c == '"' || c == '\\')
            j += (size_t)snprintf(q + j, sizeof q - j, c == '"' || c == '\\' ? "\\%c" : "\\u%04X",
                                  c);
        else
            q[j++] = (char)c;
    }
    q[j++] = '"';
    q[j] = '\0';
    snprintf(out + len, size - len, "%s", q);
}

/* The first n parts of the current key, dotted: a.b."c d". */
static const char *path_text(const toml__parser_t *p, int n, char out[256])
{
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i > 0)
            snprintf(out + strlen(out), 256 - strlen(out), ".");
        show_key(out, 256, p->buf + p->parts[i].off, p->parts[i].len);
    }
    return out;
}

static const char *kind_name(const hv_toml_value_t *v)
{
    switch (v->kind) {
    case HV_TOML_TABLE:
        return node_of(v)->flags & TOML__INLINE ? "an inline table" : "a table";
    case HV_TOML_ARRAY:
        return node_of(v)->flags & TOML__AOT ? "an array of tables" : "an array";
    case HV_TOML_STRING:
        return "a string";
    case HV_TOML_INTEGER:
        return "an integer";
    case HV_TOML_FLOAT:
        return "a float";
    case HV_TOML_BOOL:
        return "a boolean";
    case HV_TOML_DATETIME:
        return "a date-time";
    case HV_TOML_DATETIME_LOCAL:
        return "a local date-time";
    case HV_TOML_DATE_LOCAL:
        return "a local date";
    case HV_TOML_TIME_LOCAL:
        return "a local time";
    }
    return "a value";
}

/* "key a.b already holds an integer (line 3, column 1); <why>" */
static int clash(toml__parser_t *p, int part, const hv_toml_kv_t *kv, const char *why)
{
    char path[256];
    return toml__fail(p, p->parts[part].src_off, "key %s already holds %s (line %d, column %d); %s",
                      path_text(p, part + 1, path), kind_name(kv->value), kv->line, kv->col, why);
}

/* ---- tables, arrays and the key index ---------------------------------- */

static uint32_t key_hash(const toml__node_t *t, const char *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u ^ ((uint64_t)(uintptr_t)t * 0x9E3779B97F4A7C15u);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 0x100000001b3u;
    }
    return (uint32_t)(h ^ h >> 32);
}

static hv_toml_kv_t *table_find(toml__parser_t *p, toml__node_t *t, const char *k, size_t n,
                                uint32_t h)
{
    if (p->nslots == 0)
        return NULL;
    size_t mask = p->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const toml__slot_t *s = &p->slots[i];
        if (s->table == NULL)
            return NULL;
        if (s->table == t && s->hash == h) {
            hv_toml_kv_t *kv = &t->kvs[s->index];
            if (toml__key_len(kv->key) == n && memcmp(kv->key, k, n) == 0)
                return kv;
        }
    }
}

static void slot_put(toml__slot_t *slots, size_t nslots, toml__slot_t s)
{
    size_t i = s.hash & (nslots - 1);
    while (slots[i].table != NULL)
        i = (i + 1) & (nslots - 1);
    slots[i] = s;
}

/* Keeps the index at most half full, which keeps probe runs short. */
static int index_add(toml__parser_t *p, const toml__node_t *t, uint32_t h, uint32_t index)
{
    if (2 * (p->nused + 1) > p->nslots) {
        size_t n = p->nslots ? p->nslots * 2 : 64;
        toml__slot_t *slots = calloc(n, sizeof *slots);
        if (slots == NULL)
            return toml__oom(p);
        for (size_t i = 0; i < p->nslots; i++)
            if (p->slots[i].table != NULL)
                slot_put(slots, n, p->slots[i]);
        free(p->slots);
        p->slots = slots;
        p->nslots = n;
    }
    slot_put(p->slots, p->nslots, (toml__slot_t){t, h, index});
    p->nused++;
    return 0;
}

/* Doubles a container's item array (a new block of the arena). */
static int grow(toml__parser_t *p, toml__node_t *n)
{
    bool table = n->v.kind == HV_TOML_TABLE;
    size_t size = table ? sizeof(hv_toml_kv_t) : sizeof(hv_toml_value_t *);
    size_t len = table ? n->v.table.len : n->v.array.len;
    uint32_t cap = n->cap ? n->cap * 2 : 4;
    void *items = hv_arena_alloc(&p->doc->arena, cap * size);
    if (items == NULL)
        return toml__oom(p);
    if (len > 0)
        memcpy(items, table ? (void *)n->kvs : (void *)n->elems, len * size);
    if (table) {
        n->kvs = items;
        n->v.table.items = n->kvs;
    } else {
        n->elems = items;
        n->v.array.items = (const hv_toml_value_t *const *)n->elems;
    }
    n->cap = cap;
    return 0;
}

toml__node_t *toml__new_node(toml__parser_t *p, hv_toml_kind_t kind, int line, int col, int depth)
{
    if (depth > HV_TOML_MAX_DEPTH) {
        toml__fail(p, p->pos, "tables and arrays nest deeper than %d levels", HV_TOML_MAX_DEPTH);
        return NULL;
    }
    toml__node_t *n = hv_arena_alloc(&p->doc->arena, sizeof *n);
    if (n == NULL) {
        toml__oom(p);
        return NULL;
    }
    n->v.kind = kind;
    n->v.line = line;
    n->v.col = col;
    n->depth = (uint16_t)depth;
    return n;
}

/* Adds key part (copied from p->buf) -> v to table t. */
static int table_add(toml__parser_t *p, toml__node_t *t, const toml__keypart_t *part, uint32_t h,
                     hv_toml_value_t *v)
{
    if (t->v.table.len == t->cap && grow(p, t) < 0)
        return -1;
    /* [length][text][NUL]: see toml__key_len. */
    char *key = hv_arena_alloc(&p->doc->arena, sizeof(size_t) + part->len + 1);
    if (key == NULL)
        return toml__oom(p);
    memcpy(key, &part->len, sizeof(size_t));
    key += sizeof(size_t);
    memcpy(key, p->buf + part->off, part->len);
    hv_toml_kv_t *kv = &t->kvs[t->v.table.len];
    kv->key = key;
    kv->line = part->line;
    kv->col = part->col;
    kv->value = v;
    if (index_add(p, t, h, (uint32_t)t->v.table.len) < 0)
        return -1;
    t->v.table.len++;
    return 0;
}

static hv_toml_kv_t *find_part(toml__parser_t *p, toml__node_t *t, int i, uint32_t *h)
{
    const toml__keypart_t *part = &p->parts[i];
    *h = key_hash(t, p->buf + part->off, part->len);
    return table_find(p, t, p->buf + part->off, part->len, *h);
}

/* A new table under part i of the current key in t. */
static toml__node_t *add_table(toml__parser_t *p, toml__node_t *t, int i, uint32_t h)
{
    const toml__keypart_t *part = &p->parts[i];
    toml__node_t *n = toml__new_node(p, HV_TOML_TABLE, part->line, part->col, t->depth + 1);
    if (n == NULL || table_add(p, t, part, h, &n->v) < 0)
        return NULL;
    return n;
}

static int array_push(toml__parser_t *p, toml__node_t *a, hv_toml_value_t *v)
{
    if (a->v.array.len == a->cap && grow(p, a) < 0)
        return -1;
    a->elems[a->v.array.len++] = v;
    return 0;
}

/* ---- values -------------------------------------------------------------- */

static int parse_keyval(toml__parser_t *p, toml__node_t *t, bool in_inline);

static int parse_value(toml__parser_t *p, int depth, hv_toml_value_t **out);

static int parse_array(toml__parser_t *p, int depth, hv_toml_value_t **out)
{
    int line, col;
    toml__position(p, p->pos, &line, &col);
    toml__node_t *a = toml__new_node(p, HV_TOML_ARRAY, line, col, depth + 1);
    if (a == NULL)
        return -1;
    a->flags = TOML__INLINE;
    p->pos++;
    for (;;) {
        if (toml__skip_blank(p) < 0)
            return -1;
        if (at(p, p->pos) == ']')
            break;
        hv_toml_value_t *v;
        if (parse_value(p, a->depth, &v) < 0 || array_push(p, a, v) < 0 || toml__skip_blank(p) < 0)
            return -1;
        if (at(p, p->pos) == ']')
            break;
        if (at(p, p->pos) != ',')
            return toml__expected(p, p->pos, "',' or ']' in the array");
        p->pos++;
    }
    p->pos++;
    *out = &a->v;
    return 0;
}

/* { k = v, ... } on one line, no trailing comma. */
static int parse_inline_table(toml__parser_t *p, int depth, hv_toml_value_t **out)
{
    int line, col;
    toml__position(p, p->pos, &line, &col);
    toml__node_t *t = toml__new_node(p, HV_TOML_TABLE, line, col, depth + 1);
    if (t == NULL)
        return -1;
    t->flags = TOML__INLINE;
    p->pos++;
    toml__skip_ws(p);
    if (at(p, p->pos) != '}') {
        for (;;) {
            if (parse_keyval(p, t, true) < 0)
                return -1;
            toml__skip_ws(p);
            if (at(p, p->pos) == '}')
                break;
            if (at(p, p->pos) != ',')
                return toml__expected(p, p->pos, "',' or '}' in the inline table");
            p->pos++;
            toml__skip_ws(p);
            if (at(p, p->pos) == '}')
                return toml__fail(p, p->pos,
                                  "expected a key after ',' (inline tables take no "
                                  "trailing comma), found '}'");
        }
    }
    p->pos++;
    *out = &t->v;
    return 0;
}

/* depth: that of the container the value goes into. */
static int parse_value(toml__parser_t *p, int depth, hv_toml_value_t **out)
{
    char c = at(p, p->pos);
    if (c == '[')
        return parse_array(p, depth, out);
    if (c == '{')
        return parse_inline_table(p, depth, out);
    hv_toml_value_t *v = hv_arena_alloc(&p->doc->arena, sizeof *v);
    if (v == NULL)
        return toml__oom(p);
    toml__position(p, p->pos, &v->line, &v->col);
    if (c == '"' || c == '\'') {
        size_t off, len;
        p->buflen = 0;
        if (toml__parse_string(p, false, &off, &len) < 0)
            return -1;
        char *s = hv_arena_strndup(&p->doc->arena, p->buf + off, len);
        if (s == NULL)
            return toml__oom(p);
        v->kind = HV_TOML_STRING;
        v->str.ptr = s;
        v->str.len = len;
    } else if (toml__parse_scalar(p, v) < 0) {
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- keys ------------------------------------------------------------------ */

/* Part i of a dotted key on the left of '=', inside table t. */
static toml__node_t *dotted_table(toml__parser_t *p, toml__node_t *t, int i, bool in_inline)
{
    uint32_t h;
    hv_toml_kv_t *kv = find_part(p, t, i, &h);
    if (kv == NULL) {
        toml__node_t *n = add_table(p, t, i, h);
        if (n != NULL && !in_inline) {
            n->section = p->section;
            n->dotted_line = p->parts[i].line;
        }
        return n;
    }
    toml__node_t *n = node_of(kv->value);
    if (kv->value->kind != HV_TOML_TABLE || (n->flags & TOML__INLINE)) {
        clash(p, i, kv, "dotted keys cannot add to it");
        return NULL;
    }
    if (!in_inline) {
        if ((n->flags & TOML__EXPLICIT) || (n->section != 0 && n->section != p->section)) {
            char path[256];
            toml__fail(p, p->parts[i].src_off,
                       "table %s was defined at line %d, column %d; dotted keys cannot add to it "
                       "from here",
                       path_text(p, i + 1, path), kv->line, kv->col);
            return NULL;
        }
        n->section = p->section;
        if (n->dotted_line == 0)
            n->dotted_line = p->parts[i].line;
    }
    return n;
}

static int parse_keyval(toml__parser_t *p, toml__node_t *t, bool in_inline)
{
    if (toml__parse_key(p) < 0)
        return -1;
    if (at(p, p->pos) != '=')
        return toml__expected(p, p->pos, "'=' after the key");
    p->pos++;
    toml__skip_ws(p);
    for (int i = 0; i + 1 < p->nparts; i++)
        if ((t = dotted_table(p, t, i, in_inline)) == NULL)
            return -1;
    int last = p->nparts - 1;
    uint32_t h;
    const hv_toml_kv_t *old = find_part(p, t, last, &h);
    if (old != NULL) {
        char path[256];
        return toml__fail(p, p->parts[last].src_off,
                          "duplicate key %s, first defined at line %d, column %d",
                          path_text(p, p->nparts, path), old->line, old->col);
    }
    /* The entry goes in first (the key text is about to be reused); the
     * value joins it once parsed. */
    size_t index = t->v.table.len;
    hv_toml_value_t *v;
    if (table_add(p, t, &p->parts[last], h, NULL) < 0 || parse_value(p, t->depth, &v) < 0)
        return -1;
    t->kvs[index].value = v;
    return 0;
}

/* ---- headers --------------------------------------------------------------- */

/* Part i of a header's path, before the last: a table to go through. */
static toml__node_t *header_step(toml__parser_t *p, toml__node_t *t, int i)
{
    uint32_t h;
    hv_toml_kv_t *kv = find_part(p, t, i, &h);
    if (kv == NULL)
        return add_table(p, t, i, h);
    toml__node_t *n = node_of(kv->value);
    if (kv->value->kind == HV_TOML_TABLE && !(n->flags & TOML__INLINE))
        return n;
    if (kv->value->kind == HV_TOML_ARRAY && (n->flags & TOML__AOT))
        return node_of(n->elems[n->v.array.len - 1]);
    clash(p, i, kv, "a header cannot add to it");
    return NULL;
}

/* [a.b.c]: defines table c in t, or an implicit one made earlier. */
static toml__node_t *header_table(toml__parser_t *p, toml__node_t *t, int line, int col)
{
    int last = p->nparts - 1;
    uint32_t h;
    hv_toml_kv_t *kv = find_part(p, t, last, &h);
    toml__node_t *n;
    if (kv == NULL) {
        if ((n = add_table(p, t, last, h)) == NULL)
            return NULL;
    } else {
        n = node_of(kv->value);
        char path[256];
        if (kv->value->kind != HV_TOML_TABLE || (n->flags & TOML__INLINE)) {
            clash(p, last, kv, "it cannot be redefined as a table");
            return NULL;
        }
        if (n->flags & TOML__EXPLICIT) {
            toml__fail(p, p->parts[last].src_off, "table [%s] is already defined at line %d",
                       path_text(p, p->nparts, path), n->v.line);
            return NULL;
        }
        if (n->section != 0) {
            toml__fail(p, p->parts[last].src_off,
                       "table [%s] is already defined by dotted keys at line %d",
                       path_text(p, p->nparts, path), n->dotted_line);
            return NULL;
        }
        /* An implicit table: this header is where it is defined. */
        kv->line = p->parts[last].line;
        kv->col = p->parts[last].col;
    }
    n->flags |= TOML__EXPLICIT;
    n->v.line = line;
    n->v.col = col;
    return n;
}

/* [[a.b.c]]: a new table at the end of array c, which it may create. */
static toml__node_t *header_array(toml__parser_t *p, toml__node_t *t, int line, int col)
{
    int last = p->nparts - 1;
    uint32_t h;
    hv_toml_kv_t *kv = find_part(p, t, last, &h);
    toml__node_t *a;
    if (kv == NULL) {
        const toml__keypart_t *part = &p->parts[last];
        a = toml__new_node(p, HV_TOML_ARRAY, part->line, part->col, t->depth + 1);
        if (a == NULL || table_add(p, t, part, h, &a->v) < 0)
            return NULL;
        a->flags = TOML__AOT | TOML__EXPLICIT;
    } else {
        a = node_of(kv->value);
        if (kv->value->kind != HV_TOML_ARRAY || !(a->flags & TOML__AOT)) {
            clash(p, last, kv, "[[header]] cannot append to it");
            return NULL;
        }
    }
    toml__node_t *e = toml__new_node(p, HV_TOML_TABLE, line, col, a->depth + 1);
    if (e == NULL || array_push(p, a, &e->v) < 0)
        return NULL;
    e->flags = TOML__EXPLICIT;
    return e;
}

static int parse_header(toml__parser_t *p)
{
    int line, col;
    toml__position(p, p->pos, &line, &col);
    bool aot = at(p, p->pos + 1) == '[';
    p->pos += aot ? 2 : 1;
    toml__skip_ws(p);
    if (toml__parse_key(p) < 0)
        return -1;
    const char *close = aot ? "']]' closing the header" : "']' closing the header";
    if (at(p, p->pos) != ']' || (aot && at(p, p->pos + 1) != ']'))
        return toml__expected(p, at(p, p->pos) == ']' ? p->pos + 1 : p->pos, close);
    p->pos += aot ? 2 : 1;

    p->section++;
    toml__node_t *t = p->doc->root;
    for (int i = 0; i + 1 < p->nparts; i++)
        if ((t = header_step(p, t, i)) == NULL)
            return -1;
    t = aot ? header_array(p, t, line, col) : header_table(p, t, line, col);
    if (t == NULL)
        return -1;
    p->cur = t;
    return toml__end_of_line(p, "the header");
}

/* ---- document ---------------------------------------------------------------- */

int toml__parse_document(toml__parser_t *p)
{
    p->cur = p->doc->root;
    p->section = 1;
    for (;;) {
        toml__skip_ws(p);
        if (p->pos >= p->len)
            return 0;
        size_t nl = toml__newline(p);
        char c = p->src[p->pos];
        int rc;
        if (nl > 0) {
            p->pos += nl;
            rc = 0;
        } else if (c == '#') {
            rc = toml__end_of_line(p, "the comment");
        } else if (c == '[') {
            rc = parse_header(p);
        } else {
            rc = parse_keyval(p, p->cur, false) < 0 ? -1 : toml__end_of_line(p, "the value");
        }
        if (rc < 0)
            return -1;
    }
}
