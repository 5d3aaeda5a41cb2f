/*
 * WIT resolution: turns the parsed document into the final tree.
 *
 * 1. every reference node (a type name, `type a = b`, `use i.{b}`) is
 *    followed to the node it names, detecting unknown names and alias
 *    cycles;
 * 2. every slot holding a reference is rebound to that node;
 * 3. type graphs are checked for recursion (WIT types cannot contain
 *    themselves) and for excessive nesting;
 * 4. interfaces get their type lists, worlds their flattened imports and
 *    exports (`include` merged), the document its arrays.
 * Errors come out in source order within each step.
 */
#include <string.h>

#include "wit_impl.h"

/* ---- 1. references ---- */

/* Follows a chain of aliases and uses iteratively (chains may be long)
 * and stores the final node in every reference on the way. */
static int resolve_ref(wit_doc_t *d, wit_node_t *ref)
{
    const hv_wit_type_t *target = NULL;
    wit_node_t *cur = ref;
    d->path.n = 0;
    while (target == NULL) {
        if (cur->state == WIT_DONE) {
            target = cur->target;
            break;
        }
        if (cur->state == WIT_VISITING)
            return wit__err(d, cur->pos, "type '%s' is recursive: it is defined in terms of itself",
                            cur->ref_name);
        cur->state = WIT_VISITING;
        wit_node_t **slot = wit__vec_push(&d->arena, &d->path, sizeof *slot);
        if (slot == NULL)
            return wit__oom(d);
        *slot = cur;
        const wit_scope_t *s = cur->scope;
        if (cur->ref_iface != NULL) {
            const wit_iface_t *i = wit__map_get(&d->ifaces, cur->ref_iface);
            if (i == NULL)
                return wit__err(d, cur->iface_pos, "unknown interface '%s'", cur->ref_iface);
            s = &i->scope;
        }
        const wit_entry_t *e = wit__map_get(&s->names, cur->ref_name);
        if (e == NULL && cur->ref_iface != NULL)
            return wit__err(d, cur->pos, "interface '%s' has no type '%s'", cur->ref_iface,
                            cur->ref_name);
        if (e == NULL)
            return wit__err(d, cur->pos, "unknown type '%s'", cur->ref_name);
        if (e->kind == WIT_E_FUNC)
            return wit__err(d, cur->pos, "'%s' is a function, not a type", cur->ref_name);
        if (e->kind == WIT_E_TYPE)
            target = &e->node->t;
        else
            cur = e->node;
    }
    for (size_t k = 0; k < d->path.n; k++) {
        wit_node_t *n = WIT_VEC_AT(d->path, wit_node_t *, k);
        n->state = WIT_DONE;
        n->target = target;
    }
    return 0;
}

/* ---- 2. binding ---- */

static const hv_wit_type_t *bound(const hv_wit_type_t *t)
{
    return t != NULL && WIT_CNODE(t)->is_ref ? WIT_CNODE(t)->target : t;
}

static void bind_node(wit_node_t *n)
{
    hv_wit_field_t *f = (hv_wit_field_t *)n->t.fields;
    n->t.elem = bound(n->t.elem);
    n->t.err = bound(n->t.err);
    for (size_t k = 0; k < n->t.nfields; k++)
        f[k].type = bound(f[k].type);
}

static void bind_funcs(wit_iface_t *i)
{
    for (size_t k = 0; k < i->funcs.n; k++) {
        hv_wit_func_t *f = &WIT_VEC_AT(i->funcs, hv_wit_func_t, k);
        hv_wit_param_t *a = (hv_wit_param_t *)f->params;
        for (size_t j = 0; j < f->nparams; j++)
            a[j].type = bound(a[j].type);
        f->result = bound(f->result);
    }
}

/* ---- 3. recursion and depth ---- */

/* Depth-first walk computing each node's nesting depth (memoized, so the
 * walk is linear). `level` bounds the recursion; the depth bound keeps
 * consumers' own recursive walks bounded too. */
static int check(wit_doc_t *d, const hv_wit_type_t *t, int level, int *depth)
{
    *depth = 0;
    if (t == NULL)
        return 0;
    wit_node_t *n = WIT_NODE(t);
    if (n->state == WIT_DONE) { /* includes the shared primitives */
        *depth = n->depth;
        return 0;
    }
    if (n->state == WIT_VISITING)
        return wit__err(d, n->pos, "type '%s' is recursive: it contains itself",
                        n->t.name ? n->t.name : "?");
    if (level >= WIT_MAX_DEPTH)
        return wit__err(d, n->pos, "type nesting is too deep (limit %d levels)", WIT_MAX_DEPTH);
    n->state = WIT_VISITING;
    int max = 0, sub;
    WIT_TRY(check(d, n->t.elem, level + 1, &sub));
    max = sub > max ? sub : max;
    WIT_TRY(check(d, n->t.err, level + 1, &sub));
    max = sub > max ? sub : max;
    for (size_t k = 0; k < n->t.nfields; k++) {
        WIT_TRY(check(d, n->t.fields[k].type, level + 1, &sub));
        max = sub > max ? sub : max;
    }
    n->state = WIT_DONE;
    n->depth = max + 1;
    if (n->depth > WIT_MAX_DEPTH)
        return wit__err(d, n->pos, "type nesting is too deep (limit %d levels)", WIT_MAX_DEPTH);
    *depth = n->depth;
    return 0;
}

static int check_funcs(wit_doc_t *d, const wit_iface_t *i)
{
    int depth;
    for (size_t k = 0; k < i->funcs.n; k++) {
        const hv_wit_func_t *f = &WIT_VEC_AT(i->funcs, hv_wit_func_t, k);
        for (size_t j = 0; j < f->nparams; j++)
            WIT_TRY(check(d, f->params[j].type, 0, &depth));
        WIT_TRY(check(d, f->result, 0, &depth));
    }
    return 0;
}

/* ---- 4. the public arrays ---- */

/* Declared and used types of an interface, each node once. */
static int list_types(wit_doc_t *d, wit_iface_t *i, size_t stamp)
{
    for (size_t k = 0; k < i->scope.types.n; k++) {
        const wit_entry_t *e = WIT_VEC_AT(i->scope.types, wit_entry_t *, k);
        wit_node_t *n = e->kind == WIT_E_TYPE ? e->node : WIT_NODE(e->node->target);
        if (n->mark == stamp)
            continue;
        n->mark = stamp;
        const hv_wit_type_t **slot = wit__vec_push(&d->arena, &i->types, sizeof *slot);
        if (slot == NULL)
            return wit__oom(d);
        *slot = &n->t;
    }
    i->pub.types = i->types.items;
    i->pub.ntypes = i->types.n;
    i->pub.funcs = i->funcs.items;
    i->pub.nfuncs = i->funcs.n;
    return 0;
}

/* Adds an interface to a world's imports or exports: the same interface
 * twice (through includes) is kept once, two different ones under one
 * name are a conflict. */
static int add_iface(wit_doc_t *d, wit_world_t *w, int kind, const hv_wit_interface_t *iface,
                     wit_pos_t pos, const char *via)
{
    const char *what = kind == WIT_IMPORT ? "import" : "export";
    const hv_wit_interface_t *old = wit__map_get(&w->merged[kind], iface->name);
    if (old == iface)
        return 0;
    if (old != NULL && via != NULL)
        return wit__err(d, pos,
                        "including world '%s' gives world '%s' two different %ss named '%s'", via,
                        w->pub.name, what, iface->name);
    if (old != NULL)
        return wit__err(d, pos, "%s '%s' conflicts with an included %s of the same name", what,
                        iface->name, what);
    const hv_wit_interface_t **slot = wit__vec_push(&d->arena, &w->lists[kind], sizeof *slot);
    if (slot == NULL || wit__map_put(&d->arena, &w->merged[kind], iface->name, (void *)iface) < 0)
        return wit__oom(d);
    *slot = iface;
    return 0;
}

static int flatten(wit_doc_t *d, wit_world_t *w, int level);

static int include(wit_doc_t *d, wit_world_t *w, const wit_item_t *it, int level)
{
    wit_world_t *inc = wit__map_get(&d->worlds, it->name);
    if (inc == NULL)
        return wit__err(d, it->pos, "unknown world '%s'", it->name);
    if (inc->state == WIT_VISITING)
        return wit__err(d, it->pos, "world '%s' includes itself", it->name);
    if (level >= WIT_MAX_DEPTH)
        return wit__err(d, it->pos, "includes are nested too deep (limit %d levels)",
                        WIT_MAX_DEPTH);
    WIT_TRY(flatten(d, inc, level + 1));
    for (int kind = WIT_IMPORT; kind <= WIT_EXPORT; kind++)
        for (size_t k = 0; k < inc->lists[kind].n; k++)
            WIT_TRY(add_iface(d, w, kind, WIT_VEC_AT(inc->lists[kind], hv_wit_interface_t *, k),
                              it->pos, inc->pub.name));
    return 0;
}

static int flatten(wit_doc_t *d, wit_world_t *w, int level)
{
    if (w->state == WIT_DONE)
        return 0;
    w->state = WIT_VISITING;
    for (size_t k = 0; k < w->items.n; k++) {
        const wit_item_t *it = &WIT_VEC_AT(w->items, wit_item_t, k);
        if (it->kind == WIT_INCLUDE) {
            WIT_TRY(include(d, w, it, level));
            continue;
        }
        const wit_iface_t *i = it->iface ? it->iface : wit__map_get(&d->ifaces, it->name);
        if (i == NULL)
            return wit__err(d, it->pos, "unknown interface '%s'", it->name);
        WIT_TRY(add_iface(d, w, it->kind, &i->pub, it->pos, NULL));
    }
    w->state = WIT_DONE;
    w->pub.imports = w->lists[WIT_IMPORT].items;
    w->pub.nimports = w->lists[WIT_IMPORT].n;
    w->pub.exports = w->lists[WIT_EXPORT].items;
    w->pub.nexports = w->lists[WIT_EXPORT].n;
    return 0;
}

static int doc_arrays(wit_doc_t *d)
{
    size_t ni = d->iface_list.n, nw = d->world_list.n;
    const hv_wit_interface_t **ifaces = wit__alloc(&d->arena, (ni + 1) * sizeof *ifaces);
    const hv_wit_world_t **worlds = wit__alloc(&d->arena, (nw + 1) * sizeof *worlds);
    if (ifaces == NULL || worlds == NULL)
        return wit__oom(d);
    for (size_t k = 0; k < ni; k++)
        ifaces[k] = &WIT_VEC_AT(d->iface_list, wit_iface_t *, k)->pub;
    for (size_t k = 0; k < nw; k++)
        worlds[k] = &WIT_VEC_AT(d->world_list, wit_world_t *, k)->pub;
    d->pub.interfaces = ifaces;
    d->pub.ninterfaces = ni;
    d->pub.worlds = worlds;
    d->pub.nworlds = nw;
    return 0;
}

int wit__resolve(wit_doc_t *d)
{
    wit_node_t **nodes = d->nodes.items;
    size_t nn = d->nodes.n;
    int depth;
    for (size_t k = 0; k < nn; k++)
        if (nodes[k]->is_ref)
            WIT_TRY(resolve_ref(d, nodes[k]));
    for (size_t k = 0; k < nn; k++)
        if (!nodes[k]->is_ref)
            bind_node(nodes[k]);
    for (size_t k = 0; k < d->all_ifaces.n; k++)
        bind_funcs(WIT_VEC_AT(d->all_ifaces, wit_iface_t *, k));
    for (size_t k = 0; k < nn; k++)
        if (!nodes[k]->is_ref)
            WIT_TRY(check(d, &nodes[k]->t, 0, &depth));
    for (size_t k = 0; k < d->all_ifaces.n; k++)
        WIT_TRY(check_funcs(d, WIT_VEC_AT(d->all_ifaces, wit_iface_t *, k)));
    for (size_t k = 0; k < d->all_ifaces.n; k++)
        WIT_TRY(list_types(d, WIT_VEC_AT(d->all_ifaces, wit_iface_t *, k), k + 1));
    for (size_t k = 0; k < d->world_list.n; k++)
        WIT_TRY(flatten(d, WIT_VEC_AT(d->world_list, wit_world_t *, k), 0));
    return doc_arrays(d);
}
