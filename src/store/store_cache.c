/*
 * The (sensor_id, field) -> series id map in memory: every value stored
 * needs its series id, and a hub ingesting thousands of pushes a second
 * would otherwise run one SELECT per value. Open addressing, FNV-1a,
 * grown at half full; at most HV_STORE_MAX_SERIES entries, like the table.
 * Caller holds the store's lock. Cleared whenever a rollback may have
 * removed series (hv_store_abort, a rolled-back push).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

static uint64_t hash(const char *sensor, const char *field)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)sensor; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ 0x1f) * 1099511628211ULL;
    for (const unsigned char *p = (const unsigned char *)field; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

/* The slot of (sensor, field): its entry, or the empty slot it would take. */
static hv_store_slot_t *slot(hv_store_slot_t *tab, size_t cap, const char *sensor,
                             const char *field, uint64_t h)
{
    size_t slen = strlen(sensor);
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        hv_store_slot_t *e = &tab[i];
        /* key is sensor '\0' field '\0': no separator a name could hold. */
        if (e->key == NULL || (e->hash == h && e->slen == slen &&
                               memcmp(e->key, sensor, slen + 1) == 0 &&
                               strcmp(e->key + slen + 1, field) == 0))
            return e;
    }
}

int64_t hv_store_cache_get(hv_store_t *s, const char *sensor, const char *field)
{
    if (s->cache_cap == 0)
        return 0;
    hv_store_slot_t *e = slot(s->cache, s->cache_cap, sensor, field, hash(sensor, field));
    return e->key ? e->id : 0;
}

static int grow(hv_store_t *s)
{
    size_t cap = s->cache_cap ? 2 * s->cache_cap : 1024;
    hv_store_slot_t *tab = calloc(cap, sizeof *tab);
    if (tab == NULL)
        return -1;
    for (size_t i = 0; i < s->cache_cap; i++) {
        hv_store_slot_t *e = &s->cache[i];
        if (e->key == NULL)
            continue;
        size_t k = e->hash & (cap - 1);
        while (tab[k].key != NULL)
            k = (k + 1) & (cap - 1);
        tab[k] = *e;
    }
    free(s->cache);
    s->cache = tab;
    s->cache_cap = cap;
    return 0;
}

void hv_store_cache_put(hv_store_t *s, const char *sensor, const char *field, int64_t id)
{
    if (s->cache_n >= HV_STORE_MAX_SERIES || (2 * (s->cache_n + 1) > s->cache_cap && grow(s) != 0))
        return; /* a miss only costs a SELECT */
    uint64_t h = hash(sensor, field);
    hv_store_slot_t *e = slot(s->cache, s->cache_cap, sensor, field, h);
    if (e->key != NULL)
        return;
    size_t a = strlen(sensor), b = strlen(field);
    if ((e->key = malloc(a + b + 2)) == NULL)
        return;
    memcpy(e->key, sensor, a + 1);
    memcpy(e->key + a + 1, field, b + 1);
    e->slen = a;
    e->hash = h;
    e->id = id;
    s->cache_n++;
}

void hv_store_cache_clear(hv_store_t *s)
{
    for (size_t i = 0; i < s->cache_cap; i++)
        free(s->cache[i].key);
    free(s->cache);
    s->cache = NULL;
    s->cache_cap = 0;
    s->cache_n = 0;
}
