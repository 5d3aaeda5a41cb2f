/*
 * Log lines: stderr (journald priority prefix) plus a ring per source.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv_log.h"

typedef struct {
    char name[sizeof((hv_log_entry_t *)0)->source];
    hv_log_entry_t *ring;
    size_t head, count; /* oldest at head */
} source_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static source_t sources[HV_LOG_SOURCES];
static size_t nsources;
static size_t ring_cap = 500;
static int min_level = HV_LOG_INFO;
static uint64_t next_seq = 1;
static void (*hook)(void *ud, const hv_log_entry_t *e);
static void *hook_ud;

void hv_log_set_hook(void (*fn)(void *ud, const hv_log_entry_t *e), void *ud)
{
    pthread_mutex_lock(&lock);
    hook = fn;
    hook_ud = ud;
    pthread_mutex_unlock(&lock);
}

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error"};
/* syslog priorities: debug 7, info 6, warning 4, err 3 */
static const int priorities[] = {7, 7, 6, 4, 3};

void hv_log_configure(int level, size_t lines)
{
    pthread_mutex_lock(&lock);
    min_level = level;
    if (lines && lines != ring_cap) {
        for (size_t i = 0; i < HV_LOG_SOURCES; i++) {
            free(sources[i].ring);
            sources[i].ring = NULL;
            sources[i].head = sources[i].count = 0;
        }
        ring_cap = lines;
    }
    pthread_mutex_unlock(&lock);
}

int hv_log_level_from_name(const char *name)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

const char *hv_log_level_name(int level)
{
    return level >= 0 && level < 5 ? level_names[level] : "info";
}

/* Slots 0..NAMED-1 get a source each; past them this node's lines share
 * "other" and other nodes' lines (a hub's "node/source") share "x/other",
 * so each stays on its side of the '/' that hv_log_read goes by. */
#define NAMED (HV_LOG_SOURCES - 2)

static source_t *find_source(const char *name)
{
    for (size_t i = 0; i < HV_LOG_SOURCES; i++)
        if (sources[i].name[0] != '\0' && strcmp(sources[i].name, name) == 0)
            return &sources[i];
    if (nsources < NAMED) {
        source_t *s = &sources[nsources++];
        snprintf(s->name, sizeof s->name, "%s", name);
        return s;
    }
    int remote = strchr(name, '/') != NULL;
    source_t *s = &sources[remote ? NAMED : NAMED + 1];
    if (s->name[0] == '\0')
        snprintf(s->name, sizeof s->name, "%s", remote ? "x/other" : "other");
    return s;
}

void hv_log_line(const char *source, int level, const char *msg)
{
    if (level < 0 || level > HV_LOG_ERROR)
        level = HV_LOG_INFO;
    if (level < min_level)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    pthread_mutex_lock(&lock);
    source_t *s = find_source(source);
    hv_log_entry_t copy;
    int have_copy = 0;
    void (*fn)(void *, const hv_log_entry_t *) = hook;
    void *fn_ud = hook_ud;
    if (s->ring == NULL)
        s->ring = calloc(ring_cap, sizeof *s->ring);
    if (s->ring != NULL) {
        hv_log_entry_t *e;
        if (s->count < ring_cap) {
            e = &s->ring[(s->head + s->count++) % ring_cap];
        } else {
            e = &s->ring[s->head];
            s->head = (s->head + 1) % ring_cap;
        }
        e->seq = next_seq++;
        e->time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        e->level = level;
        snprintf(e->source, sizeof e->source, "%s", source);
        snprintf(e->text, sizeof e->text, "%s", msg);
        if (fn != NULL) {
            copy = *e;
            have_copy = 1;
        }
    }
    /* One write per line so concurrent lines never interleave. */
    fprintf(stderr, "<%d>%s: %s\n", priorities[level], source, msg);
    pthread_mutex_unlock(&lock);
    if (have_copy)
        fn(fn_ud, &copy);
}

void hv_log(const char *source, int level, const char *fmt, ...)
{
    char msg[HV_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hv_log_line(source, level, msg);
}

/* NULL: this node's sources (no '/'); "node/": every source under it;
 * else exactly that one. */
static int source_matches(const char *name, const char *source, size_t plen)
{
    if (source == NULL)
        return strchr(name, '/') == NULL;
    if (plen > 0 && source[plen - 1] == '/')
        return strncmp(name, source, plen) == 0;
    return strcmp(name, source) == 0;
}

size_t hv_log_read(const char *source, uint64_t after_seq, hv_log_entry_t *out, size_t max)
{
    size_t n = 0, plen = source ? strlen(source) : 0;
    pthread_mutex_lock(&lock);
    /* Merge by seq: repeatedly take the smallest next entry over sources. */
    size_t pos[HV_LOG_SOURCES] = {0};
    for (;;) {
        source_t *best = NULL;
        size_t bi = 0;
        for (size_t i = 0; i < HV_LOG_SOURCES; i++) {
            source_t *s = &sources[i];
            if (s->name[0] == '\0' || !source_matches(s->name, source, plen))
                continue;
            while (pos[i] < s->count && s->ring[(s->head + pos[i]) % ring_cap].seq <= after_seq)
                pos[i]++;
            if (pos[i] < s->count &&
                (best == NULL || s->ring[(s->head + pos[i]) % ring_cap].seq <
                                     best->ring[(best->head + pos[bi]) % ring_cap].seq)) {
                best = s;
                bi = i;
            }
        }
        if (best == NULL || n == max)
            break;
        out[n++] = best->ring[(best->head + pos[bi]++) % ring_cap];
    }
    pthread_mutex_unlock(&lock);
    return n;
}

void hv_log_reset(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < HV_LOG_SOURCES; i++)
        free(sources[i].ring);
    memset(sources, 0, sizeof sources);
    nsources = 0;
    pthread_mutex_unlock(&lock);
}
