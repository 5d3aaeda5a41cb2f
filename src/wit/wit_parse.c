/*
 * WIT parser: tokens -> the document's interfaces, worlds, functions and
 * type nodes. Recursive descent with one token of lookahead.
 *
 * Names of types are not looked up here: WIT lets a type be used before
 * its declaration (and `use` another interface declared further down), so
 * every name becomes a reference node that wit__resolve binds once the
 * whole document is known. Duplicate names, syntax and unsupported
 * features are reported here, in source order.
 */
#include <string.h>

#include "wit_impl.h"

typedef struct {
    wit_doc_t *d;
    wit_lexer_t lx;
    wit_tok_t tok; /* current, not yet consumed */
    int depth;     /* nesting of type expressions */
    bool seen_item;
} parser_t;

static int parse_type(parser_t *p, wit_scope_t *s, const hv_wit_type_t **out);

/* ---- tokens ---- */

static int advance(parser_t *p)
{
    return wit__lex_next(&p->lx, &p->tok);
}

static int unexpected(parser_t *p, const char *what)
{
    char found[64];
    wit__tok_desc(&p->tok, found, sizeof found);
    return wit__err(p->d, p->tok.pos, "expected %s, found %s", what, found);
}

static int expect(parser_t *p, wit_tok_kind_t kind, const char *what)
{
    if (p->tok.kind != kind)
        return unexpected(p, what);
    return advance(p);
}

static bool at_kw(const parser_t *p, wit_kw_t kw)
{
    return p->tok.kind == WIT_T_ID && p->tok.kw == kw;
}

static int parse_name(parser_t *p, const char **name, wit_pos_t *pos)
{
    const wit_tok_t *t = &p->tok;
    if (t->kind != WIT_T_ID)
        return unexpected(p, "a name");
    if (t->kw != WIT_KW_NONE)
        return wit__err(p->d, t->pos,
                        "expected a name, found keyword '%s' (write '%%%s' to use it as a name)",
                        wit__kw_text(t->kw), wit__kw_text(t->kw));
    if (!t->valid)
        return wit__err(p->d, t->pos,
                        "'%.*s' is not a valid name: expected kebab-case words such as 'read-len'",
                        (int)(t->len < 64 ? t->len : 64), t->text);
    char *s = wit__strndup(&p->d->arena, t->text + t->escaped, t->len - t->escaped);
    if (s == NULL)
        return wit__oom(p->d);
    *name = s;
    if (pos != NULL)
        *pos = t->pos;
    return advance(p);
}

/* At an `@` token: lexes the version behind it. */
static int parse_version(parser_t *p, const char **ver)
{
    WIT_TRY(wit__lex_version(&p->lx, &p->tok));
    char *s = wit__strndup(&p->d->arena, p->tok.text, p->tok.len);
    if (s == NULL)
        return wit__oom(p->d);
    *ver = s;
    return advance(p);
}

static int unsupported_resource(parser_t *p)
{
    return wit__err(p->d, p->tok.pos, "resources are not supported (found '%s')",
                    wit__kw_text(p->tok.kw));
}

/* ---- nodes and names ---- */

static wit_node_t *new_node(parser_t *p, hv_wit_kind_t kind, wit_pos_t pos)
{
    wit_node_t *n = wit__alloc(&p->d->arena, sizeof *n);
    wit_node_t **slot = n ? wit__vec_push(&p->d->arena, &p->d->nodes, sizeof *slot) : NULL;
    if (slot == NULL)
        return NULL;
    *slot = n;
    n->t.kind = kind;
    n->pos = pos;
    return n;
}

/* A reference to a type name, bound later by wit__resolve. */
static wit_node_t *new_ref(parser_t *p, wit_scope_t *s, wit_pos_t pos)
{
    wit_node_t *n = new_node(p, HV_WIT_RECORD, pos);
    if (n != NULL) {
        n->is_ref = true;
        n->scope = s;
    }
    return n;
}

/* Declares a name in an interface or world (types and functions share
 * one namespace, as in WIT). */
static int define(parser_t *p, wit_scope_t *s, const char *what, const char *name, wit_pos_t pos,
                  int kind, wit_node_t *node)
{
    wit_entry_t *old = wit__map_get(&s->names, name);
    if (old != NULL)
        return wit__err(p->d, pos, "duplicate %s '%s' (first defined at %u:%u)", what, name,
                        (unsigned)old->pos.line, (unsigned)old->pos.col);
    wit_entry_t *e = wit__alloc(&p->d->arena, sizeof *e);
    if (e == NULL || wit__map_put(&p->d->arena, &s->names, name, e) < 0)
        return wit__oom(p->d);
    e->name = name;
    e->pos = pos;
    e->kind = kind;
    e->node = node;
    if (kind != WIT_E_FUNC) {
        wit_entry_t **slot = wit__vec_push(&p->d->arena, &s->types, sizeof *slot);
        if (slot == NULL)
            return wit__oom(p->d);
        *slot = e;
    }
    return 0;
}

/* Records `name` in a per-construct set; reports a second occurrence. */
static int unique(parser_t *p, wit_map_t *seen, const char *what, const char *name, wit_pos_t pos)
{
    if (wit__map_get(seen, name) != NULL)
        return wit__err(p->d, pos, "duplicate %s '%s'", what, name);
    if (wit__map_put(&p->d->arena, seen, name, (void *)name) < 0)
        return wit__oom(p->d);
    return 0;
}

/* ---- types ---- */

/* list<T>, option<T>, result[<T|_[, E]>], tuple<T, ...>; at the keyword. */
static int parse_compound(parser_t *p, wit_scope_t *s, const hv_wit_type_t **out)
{
    wit_kw_t kw = p->tok.kw;
    hv_wit_kind_t kind = kw == WIT_KW_LIST     ? HV_WIT_LIST
                         : kw == WIT_KW_OPTION ? HV_WIT_OPTION
                         : kw == WIT_KW_RESULT ? HV_WIT_RESULT
                                               : HV_WIT_TUPLE;
    wit_node_t *n = new_node(p, kind, p->tok.pos);
    if (n == NULL)
        return wit__oom(p->d);
    *out = &n->t;
    WIT_TRY(advance(p));
    if (kind == HV_WIT_RESULT && p->tok.kind != WIT_T_LT)
        return 0; /* bare `result` */
    WIT_TRY(expect(p, WIT_T_LT, "'<'"));
    if (kind == HV_WIT_RESULT) {
        if (p->tok.kind == WIT_T_UNDERSCORE) {
            WIT_TRY(advance(p));
            WIT_TRY(expect(p, WIT_T_COMMA, "','"));
            WIT_TRY(parse_type(p, s, &n->t.err));
        } else {
            WIT_TRY(parse_type(p, s, &n->t.elem));
            if (p->tok.kind == WIT_T_COMMA) {
                WIT_TRY(advance(p));
                WIT_TRY(parse_type(p, s, &n->t.err));
            }
        }
        return expect(p, WIT_T_GT, "'>'");
    }
    if (kind != HV_WIT_TUPLE) {
        WIT_TRY(parse_type(p, s, &n->t.elem));
        return expect(p, WIT_T_GT, "'>'");
    }
    wit_vec_t v = {0};
    for (;;) {
        hv_wit_field_t *f = wit__vec_push(&p->d->arena, &v, sizeof *f);
        if (f == NULL)
            return wit__oom(p->d);
        WIT_TRY(parse_type(p, s, &f->type));
        if (p->tok.kind != WIT_T_COMMA)
            break;
        WIT_TRY(advance(p));
        if (p->tok.kind == WIT_T_GT)
            break;
    }
    n->t.fields = v.items;
    n->t.nfields = v.n;
    return expect(p, WIT_T_GT, "',' or '>'");
}

static int parse_type(parser_t *p, wit_scope_t *s, const hv_wit_type_t **out)
{
    const wit_tok_t *t = &p->tok;
    hv_wit_kind_t prim;
    if (t->kind != WIT_T_ID)
        return unexpected(p, "a type");
    switch (t->kw) {
    case WIT_KW_BOOL:
        prim = HV_WIT_BOOL;
        break;
    case WIT_KW_S8:
        prim = HV_WIT_S8;
        break;
    case WIT_KW_U8:
        prim = HV_WIT_U8;
        break;
    case WIT_KW_S16:
        prim = HV_WIT_S16;
        break;
    case WIT_KW_U16:
        prim = HV_WIT_U16;
        break;
    case WIT_KW_S32:
        prim = HV_WIT_S32;
        break;
    case WIT_KW_U32:
        prim = HV_WIT_U32;
        break;
    case WIT_KW_S64:
        prim = HV_WIT_S64;
        break;
    case WIT_KW_U64:
        prim = HV_WIT_U64;
        break;
    case WIT_KW_F32:
    case WIT_KW_FLOAT32:
        prim = HV_WIT_F32;
        break;
    case WIT_KW_F64:
    case WIT_KW_FLOAT64:
        prim = HV_WIT_F64;
        break;
    case WIT_KW_CHAR:
        prim = HV_WIT_CHAR;
        break;
    case WIT_KW_STRING:
        prim = HV_WIT_STRING;
        break;
    case WIT_KW_LIST:
    case WIT_KW_OPTION:
    case WIT_KW_RESULT:
    case WIT_KW_TUPLE: {
        if (p->depth >= WIT_MAX_DEPTH)
            return wit__err(p->d, t->pos, "type nesting is too deep (limit %d levels)",
                            WIT_MAX_DEPTH);
        p->depth++;
        int rc = parse_compound(p, s, out);
        p->depth--;
        return rc;
    }
    case WIT_KW_OWN:
    case WIT_KW_BORROW:
    case WIT_KW_RESOURCE:
        return unsupported_resource(p);
    case WIT_KW_FUTURE:
    case WIT_KW_STREAM:
        return wit__err(p->d, t->pos, "future and stream types are not supported (found '%s')",
                        wit__kw_text(t->kw));
    case WIT_KW_NONE: {
        wit_node_t *n = new_ref(p, s, t->pos);
        if (n == NULL)
            return wit__oom(p->d);
        *out = &n->t;
        return parse_name(p, &n->ref_name, NULL);
    }
    default:
        return unexpected(p, "a type");
    }
    *out = wit__prim(prim);
    return advance(p);
}

/* `{ a: T, b: U }` (record), `{ a, b(T) }` (variant), `{ a, b }` (enum,
 * flags); at the `{`. WIT forbids empty ones. */
static int parse_body(parser_t *p, wit_scope_t *s, wit_node_t *n)
{
    hv_wit_kind_t kind = n->t.kind;
    const char *what = kind == HV_WIT_RECORD ? "field" : kind == HV_WIT_FLAGS ? "flag" : "case";
    wit_map_t seen = {0};
    wit_vec_t v = {0};
    WIT_TRY(expect(p, WIT_T_LBRACE, "'{'"));
    while (p->tok.kind != WIT_T_RBRACE) {
        hv_wit_field_t *f = wit__vec_push(&p->d->arena, &v, sizeof *f);
        if (f == NULL)
            return wit__oom(p->d);
        wit_pos_t pos;
        f->docs = p->tok.docs;
        WIT_TRY(parse_name(p, &f->name, &pos));
        WIT_TRY(unique(p, &seen, what, f->name, pos));
        if (kind == HV_WIT_RECORD) {
            WIT_TRY(expect(p, WIT_T_COLON, "':'"));
            WIT_TRY(parse_type(p, s, &f->type));
        } else if (kind == HV_WIT_VARIANT && p->tok.kind == WIT_T_LPAREN) {
            WIT_TRY(advance(p));
            WIT_TRY(parse_type(p, s, &f->type));
            WIT_TRY(expect(p, WIT_T_RPAREN, "')'"));
        }
        if (p->tok.kind == WIT_T_COMMA)
            WIT_TRY(advance(p));
        else if (p->tok.kind != WIT_T_RBRACE)
            return unexpected(p, "',' or '}'");
    }
    if (v.n == 0) {
        const char *kw = kind == HV_WIT_RECORD    ? "record"
                         : kind == HV_WIT_VARIANT ? "variant"
                         : kind == HV_WIT_ENUM    ? "enum"
                                                  : "flags";
        return wit__err(p->d, p->tok.pos, "%s '%s' is empty: WIT needs at least one %s", kw,
                        n->t.name, what);
    }
    n->t.fields = v.items;
    n->t.nfields = v.n;
    return advance(p);
}

/* type/record/variant/enum/flags; at the keyword. */
static int parse_typedef(parser_t *p, wit_scope_t *s)
{
    const char *docs = p->tok.docs, *name;
    wit_kw_t kw = p->tok.kw;
    wit_pos_t pos;
    WIT_TRY(advance(p));
    WIT_TRY(parse_name(p, &name, &pos));
    if (kw == WIT_KW_TYPE) {
        const hv_wit_type_t *t;
        WIT_TRY(expect(p, WIT_T_EQ, "'='"));
        WIT_TRY(parse_type(p, s, &t));
        wit_node_t *n = WIT_NODE(t);
        if (n->is_ref) {
            /* `type a = b;`: `a` becomes another name for b's node */
            WIT_TRY(define(p, s, "type", name, pos, WIT_E_REF, n));
            return expect(p, WIT_T_SEMI, "';'");
        }
        /* `type a = u32;` or `type a = list<u8>;`: a named node, so
         * signatures can print `a`. The compound node is fresh and ours. */
        if (WIT_IS_PRIM(t->kind) && (n = new_node(p, t->kind, pos)) == NULL)
            return wit__oom(p->d);
        n->t.name = name;
        n->t.interface = s->name;
        n->t.docs = docs;
        n->pos = pos;
        WIT_TRY(define(p, s, "type", name, pos, WIT_E_TYPE, n));
        return expect(p, WIT_T_SEMI, "';'");
    }
    hv_wit_kind_t kind = kw == WIT_KW_RECORD    ? HV_WIT_RECORD
                         : kw == WIT_KW_VARIANT ? HV_WIT_VARIANT
                         : kw == WIT_KW_ENUM    ? HV_WIT_ENUM
                                                : HV_WIT_FLAGS;
    wit_node_t *n = new_node(p, kind, pos);
    if (n == NULL)
        return wit__oom(p->d);
    n->t.name = name;
    n->t.interface = s->name;
    n->t.docs = docs;
    WIT_TRY(define(p, s, "type", name, pos, WIT_E_TYPE, n));
    return parse_body(p, s, n);
}

/* The rest of `ns:pkg/name[@version]` after `ns:`. Only the document's own
 * package may be named; *name and *pos are set to the last segment. */
static int parse_qualified(parser_t *p, const char *ns, wit_pos_t ns_pos, const char **name,
                           wit_pos_t *pos)
{
    const char *pkg, *ver = NULL;
    WIT_TRY(parse_name(p, &pkg, NULL));
    WIT_TRY(expect(p, WIT_T_SLASH, "'/'"));
    WIT_TRY(parse_name(p, name, pos));
    if (p->tok.kind == WIT_T_AT)
        WIT_TRY(parse_version(p, &ver));
    const hv_wit_doc_t *doc = &p->d->pub;
    if (doc->package_ns == NULL || strcmp(ns, doc->package_ns) != 0 ||
        strcmp(pkg, doc->package_name) != 0 ||
        (ver != NULL && (doc->package_version == NULL || strcmp(ver, doc->package_version) != 0)))
        return wit__err(p->d, ns_pos, "foreign package '%s:%s%s%s' is not supported", ns, pkg,
                        ver ? "@" : "", ver ? ver : "");
    return 0;
}

/* `name` or `ns:pkg/name[@version]`. */
static int parse_path(parser_t *p, const char **name, wit_pos_t *pos)
{
    WIT_TRY(parse_name(p, name, pos));
    if (p->tok.kind != WIT_T_COLON)
        return 0;
    WIT_TRY(advance(p));
    return parse_qualified(p, *name, *pos, name, pos);
}

/* `use iface.{a, b as c};`; at `use`. */
static int parse_use(parser_t *p, wit_scope_t *s)
{
    const char *iface;
    wit_pos_t iface_pos;
    WIT_TRY(advance(p));
    WIT_TRY(parse_path(p, &iface, &iface_pos));
    WIT_TRY(expect(p, WIT_T_DOT, "'.'"));
    WIT_TRY(expect(p, WIT_T_LBRACE, "'{'"));
    for (;;) {
        const char *alias;
        wit_pos_t pos;
        wit_node_t *n = new_ref(p, NULL, p->tok.pos);
        if (n == NULL)
            return wit__oom(p->d);
        n->ref_iface = iface;
        n->iface_pos = iface_pos;
        WIT_TRY(parse_name(p, &n->ref_name, &pos));
        alias = n->ref_name;
        if (at_kw(p, WIT_KW_AS)) {
            WIT_TRY(advance(p));
            WIT_TRY(parse_name(p, &alias, &pos));
        }
        WIT_TRY(define(p, s, "type", alias, pos, WIT_E_REF, n));
        if (p->tok.kind != WIT_T_COMMA)
            break;
        WIT_TRY(advance(p));
        if (p->tok.kind == WIT_T_RBRACE)
            break;
    }
    WIT_TRY(expect(p, WIT_T_RBRACE, "',' or '}'"));
    return expect(p, WIT_T_SEMI, "';'");
}

/* `func(a: T, ...) [-> T]`. */
static int parse_func(parser_t *p, wit_scope_t *s, hv_wit_func_t *f)
{
    if (at_kw(p, WIT_KW_ASYNC))
        return wit__err(p->d, p->tok.pos, "async functions are not supported");
    if (!at_kw(p, WIT_KW_FUNC))
        return unexpected(p, "'func'");
    WIT_TRY(advance(p));
    WIT_TRY(expect(p, WIT_T_LPAREN, "'('"));
    wit_map_t seen = {0};
    wit_vec_t v = {0};
    while (p->tok.kind != WIT_T_RPAREN) {
        hv_wit_param_t *a = wit__vec_push(&p->d->arena, &v, sizeof *a);
        if (a == NULL)
            return wit__oom(p->d);
        wit_pos_t pos;
        WIT_TRY(parse_name(p, &a->name, &pos));
        WIT_TRY(unique(p, &seen, "parameter", a->name, pos));
        WIT_TRY(expect(p, WIT_T_COLON, "':'"));
        WIT_TRY(parse_type(p, s, &a->type));
        if (p->tok.kind == WIT_T_COMMA)
            WIT_TRY(advance(p));
        else if (p->tok.kind != WIT_T_RPAREN)
            return unexpected(p, "',' or ')'");
    }
    f->params = v.items;
    f->nparams = v.n;
    WIT_TRY(advance(p));
    if (p->tok.kind != WIT_T_ARROW)
        return 0;
    WIT_TRY(advance(p));
    if (p->tok.kind == WIT_T_LPAREN)
        return wit__err(
            p->d, p->tok.pos,
            "named function results are not supported: return one type (e.g. a record)");
    return parse_type(p, s, &f->result);
}

static int parse_func_item(parser_t *p, wit_iface_t *i)
{
    const char *docs = p->tok.docs, *name;
    wit_pos_t pos;
    WIT_TRY(parse_name(p, &name, &pos));
    WIT_TRY(define(p, &i->scope, "function", name, pos, WIT_E_FUNC, NULL));
    WIT_TRY(expect(p, WIT_T_COLON, "':'"));
    hv_wit_func_t *f = wit__vec_push(&p->d->arena, &i->funcs, sizeof *f);
    if (f == NULL)
        return wit__oom(p->d);
    f->name = name;
    f->docs = docs;
    WIT_TRY(parse_func(p, &i->scope, f));
    return expect(p, WIT_T_SEMI, "';'");
}

/* Items shared by interfaces and worlds; 1 if the token starts none. */
static int parse_type_item(parser_t *p, wit_scope_t *s)
{
    if (p->tok.kind != WIT_T_ID)
        return 1;
    switch (p->tok.kw) {
    case WIT_KW_USE:
        return parse_use(p, s);
    case WIT_KW_TYPE:
    case WIT_KW_RECORD:
    case WIT_KW_VARIANT:
    case WIT_KW_ENUM:
    case WIT_KW_FLAGS:
        return parse_typedef(p, s);
    case WIT_KW_RESOURCE:
    case WIT_KW_STATIC:
    case WIT_KW_CONSTRUCTOR:
    case WIT_KW_OWN:
    case WIT_KW_BORROW:
        return unsupported_resource(p);
    default:
        return 1;
    }
}

/* Interface items up to and including the closing `}`. */
static int parse_iface_items(parser_t *p, wit_iface_t *i)
{
    while (p->tok.kind != WIT_T_RBRACE) {
        int rc = parse_type_item(p, &i->scope);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        if (p->tok.kind != WIT_T_ID || p->tok.kw != WIT_KW_NONE)
            return unexpected(p, "an interface item (use, type, record, variant, enum, flags, "
                                 "a function) or '}'");
        WIT_TRY(parse_func_item(p, i));
    }
    return advance(p);
}

static wit_iface_t *new_iface(parser_t *p, const char *name, wit_pos_t pos, const char *docs)
{
    wit_iface_t *i = wit__alloc(&p->d->arena, sizeof *i);
    wit_iface_t **slot = i ? wit__vec_push(&p->d->arena, &p->d->all_ifaces, sizeof *slot) : NULL;
    if (slot == NULL)
        return NULL;
    *slot = i;
    i->pub.name = name;
    i->pub.docs = docs;
    i->pos = pos;
    i->scope.name = name;
    return i;
}

/* Interfaces and worlds share the package's namespace. */
static int check_toplevel(parser_t *p, const char *what, const char *name, wit_pos_t pos)
{
    const wit_iface_t *i = wit__map_get(&p->d->ifaces, name);
    const wit_world_t *w = wit__map_get(&p->d->worlds, name);
    if (i != NULL || w != NULL) {
        wit_pos_t old = i ? i->pos : w->pos;
        return wit__err(p->d, pos, "duplicate %s '%s' (first defined at %u:%u)", what, name,
                        (unsigned)old.line, (unsigned)old.col);
    }
    return 0;
}

static int parse_interface(parser_t *p)
{
    const char *docs = p->tok.docs, *name;
    wit_pos_t pos;
    WIT_TRY(advance(p));
    WIT_TRY(parse_name(p, &name, &pos));
    WIT_TRY(check_toplevel(p, "interface", name, pos));
    wit_iface_t *i = new_iface(p, name, pos, docs);
    wit_iface_t **slot = i ? wit__vec_push(&p->d->arena, &p->d->iface_list, sizeof *slot) : NULL;
    if (slot == NULL || wit__map_put(&p->d->arena, &p->d->ifaces, name, i) < 0)
        return wit__oom(p->d);
    *slot = i;
    WIT_TRY(expect(p, WIT_T_LBRACE, "'{'"));
    return parse_iface_items(p, i);
}

static int add_item(parser_t *p, wit_world_t *w, int kind, const char *name, wit_pos_t pos,
                    wit_iface_t *iface)
{
    if (kind != WIT_INCLUDE) {
        if (wit__map_get(&w->explicit[kind], name) != NULL)
            return wit__err(p->d, pos, "duplicate %s '%s' in world '%s'",
                            kind == WIT_IMPORT ? "import" : "export", name, w->pub.name);
        if (wit__map_put(&p->d->arena, &w->explicit[kind], name, (void *)name) < 0)
            return wit__oom(p->d);
    }
    wit_item_t *it = wit__vec_push(&p->d->arena, &w->items, sizeof *it);
    if (it == NULL)
        return wit__oom(p->d);
    it->kind = kind;
    it->name = name;
    it->pos = pos;
    it->iface = iface;
    return 0;
}

/* `import|export name;`, `... ns:pkg/name[@v];`, `... name: interface {..}`,
 * `... name: func(..);`; at the keyword. */
static int parse_extern(parser_t *p, wit_world_t *w, int kind)
{
    const char *docs = p->tok.docs, *name;
    wit_pos_t pos;
    WIT_TRY(advance(p));
    WIT_TRY(parse_name(p, &name, &pos));
    if (p->tok.kind != WIT_T_COLON) {
        WIT_TRY(add_item(p, w, kind, name, pos, NULL));
        return expect(p, WIT_T_SEMI, "';'");
    }
    WIT_TRY(advance(p));
    if (!at_kw(p, WIT_KW_INTERFACE) && !at_kw(p, WIT_KW_FUNC) && !at_kw(p, WIT_KW_ASYNC)) {
        WIT_TRY(parse_qualified(p, name, pos, &name, &pos));
        WIT_TRY(add_item(p, w, kind, name, pos, NULL));
        return expect(p, WIT_T_SEMI, "';'");
    }
    wit_iface_t *i = new_iface(p, name, pos, docs);
    if (i == NULL)
        return wit__oom(p->d);
    WIT_TRY(add_item(p, w, kind, name, pos, i));
    if (at_kw(p, WIT_KW_INTERFACE)) {
        WIT_TRY(advance(p));
        WIT_TRY(expect(p, WIT_T_LBRACE, "'{'"));
        WIT_TRY(parse_iface_items(p, i));
        return p->tok.kind == WIT_T_SEMI ? advance(p) : 0;
    }
    /* a bare function: an interface of its own, typed in the world's scope */
    hv_wit_func_t *f = wit__vec_push(&p->d->arena, &i->funcs, sizeof *f);
    if (f == NULL)
        return wit__oom(p->d);
    f->name = name;
    f->docs = docs;
    WIT_TRY(parse_func(p, &w->scope, f));
    return expect(p, WIT_T_SEMI, "';'");
}

static int parse_world(parser_t *p)
{
    const char *docs = p->tok.docs, *name;
    wit_pos_t pos;
    WIT_TRY(advance(p));
    WIT_TRY(parse_name(p, &name, &pos));
    WIT_TRY(check_toplevel(p, "world", name, pos));
    wit_world_t *w = wit__alloc(&p->d->arena, sizeof *w);
    wit_world_t **slot = w ? wit__vec_push(&p->d->arena, &p->d->world_list, sizeof *slot) : NULL;
    if (slot == NULL || wit__map_put(&p->d->arena, &p->d->worlds, name, w) < 0)
        return wit__oom(p->d);
    *slot = w;
    w->pub.name = name;
    w->pub.docs = docs;
    w->pos = pos;
    w->scope.name = name;
    WIT_TRY(expect(p, WIT_T_LBRACE, "'{'"));
    while (p->tok.kind != WIT_T_RBRACE) {
        int rc = parse_type_item(p, &w->scope);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        if (at_kw(p, WIT_KW_IMPORT) || at_kw(p, WIT_KW_EXPORT)) {
            WIT_TRY(parse_extern(p, w, at_kw(p, WIT_KW_IMPORT) ? WIT_IMPORT : WIT_EXPORT));
        } else if (at_kw(p, WIT_KW_INCLUDE)) {
            WIT_TRY(advance(p));
            WIT_TRY(parse_path(p, &name, &pos));
            if (at_kw(p, WIT_KW_WITH))
                return wit__err(p->d, p->tok.pos, "'include ... with' is not supported");
            WIT_TRY(add_item(p, w, WIT_INCLUDE, name, pos, NULL));
            WIT_TRY(expect(p, WIT_T_SEMI, "';'"));
        } else {
            return unexpected(p, "a world item (import, export, include, use, type, record, "
                                 "variant, enum, flags) or '}'");
        }
    }
    return advance(p);
}

static int parse_package(parser_t *p)
{
    hv_wit_doc_t *doc = &p->d->pub;
    if (doc->package_ns != NULL)
        return wit__err(p->d, p->tok.pos, "duplicate package declaration (only one is allowed)");
    if (p->seen_item)
        return wit__err(p->d, p->tok.pos,
                        "the package declaration must come before any interface or world");
    const char *ns, *name, *ver = NULL;
    WIT_TRY(advance(p));
    WIT_TRY(parse_name(p, &ns, NULL));
    WIT_TRY(expect(p, WIT_T_COLON, "':'"));
    WIT_TRY(parse_name(p, &name, NULL));
    if (p->tok.kind == WIT_T_AT)
        WIT_TRY(parse_version(p, &ver));
    doc->package_ns = ns;
    doc->package_name = name;
    doc->package_version = ver;
    return expect(p, WIT_T_SEMI, "';'");
}

static int parse_items(parser_t *p)
{
    WIT_TRY(advance(p));
    while (p->tok.kind != WIT_T_EOF) {
        if (at_kw(p, WIT_KW_PACKAGE)) {
            WIT_TRY(parse_package(p));
        } else if (at_kw(p, WIT_KW_INTERFACE)) {
            p->seen_item = true;
            WIT_TRY(parse_interface(p));
        } else if (at_kw(p, WIT_KW_WORLD)) {
            p->seen_item = true;
            WIT_TRY(parse_world(p));
        } else {
            return unexpected(p, p->seen_item || p->d->pub.package_ns
                                     ? "'interface' or 'world'"
                                     : "'package', 'interface' or 'world'");
        }
    }
    return 0;
}

int wit__parse_doc(wit_doc_t *d, const char *src, size_t len)
{
    /* WIT is UTF-8 text; a NUL can only be a mistake (or an attack on a C
     * consumer), so refuse it up front wherever it is, comments included. */
    const char *nul = memchr(src, '\0', len);
    if (nul != NULL) {
        wit_pos_t pos = {1, 1};
        for (const char *c = src; c < nul; c++) {
            if (*c == '\n') {
                pos.line++;
                pos.col = 1;
            } else {
                pos.col++;
            }
        }
        return wit__err(d, pos, "unexpected NUL byte");
    }
    parser_t p = {.d = d};
    wit__lex_init(&p.lx, d, src, len);
    int rc = parse_items(&p);
    wit__lex_done(&p.lx);
    return rc;
}
