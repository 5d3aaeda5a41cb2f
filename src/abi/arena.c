/*
 * Bump allocator for one call's values: lifting a guest result or parsing
 * a JSON argument allocates many small nodes that all die together.
 */
#include <stdlib.h>
#include <string.h>

#include "hv_value.h"

#define BLOCK_MIN 4096

struct hv_arena_block {
    hv_arena_block_t *next;
    size_t cap;
    _Alignas(16) unsigned char data[];
};

void hv_arena_init(hv_arena_t *a, size_t limit)
{
    memset(a, 0, sizeof *a);
    a->limit = limit;
}

void *hv_arena_alloc(hv_arena_t *a, size_t size)
{
    size_t need = (size + 15) & ~(size_t)15;
    if (need < size || (a->limit && (need > a->limit || a->total > a->limit - need)))
        return NULL;
    if (a->head == NULL || a->cap - a->used < need) {
        size_t cap = need > BLOCK_MIN ? need : BLOCK_MIN;
        /* Grow geometrically so many small values cost few mallocs. */
        if (a->head != NULL && a->head->cap * 2 > cap && a->head->cap < (1u << 20))
            cap = a->head->cap * 2;
        hv_arena_block_t *b = malloc(sizeof *b + cap);
        if (b == NULL)
            return NULL;
        b->next = a->head;
        b->cap = cap;
        a->head = b;
        a->cap = cap;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += need;
    a->total += need;
    memset(p, 0, size);
    return p;
}

char *hv_arena_strndup(hv_arena_t *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = hv_arena_alloc(a, len + 1);
    if (p == NULL)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void hv_arena_free(hv_arena_t *a)
{
    hv_arena_block_t *b = a->head;
    while (b != NULL) {
        hv_arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    size_t limit = a->limit;
    hv_arena_init(a, limit);
}
