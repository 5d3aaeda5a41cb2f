/*
 * The daemon's log: host and plugin lines go to stderr in a journald-
 * friendly form ("<4>bme680: message": the <N> prefix is the syslog
 * priority journald reads) and into a bounded ring per source, which the
 * HTTP API serves. Thread-safe; lines are never lost to a slow reader, the
 * ring just forgets its oldest lines.
 */
#ifndef HV_LOG_H
#define HV_LOG_H

#include <stddef.h>
#include <stdint.h>

enum { HV_LOG_TRACE, HV_LOG_DEBUG, HV_LOG_INFO, HV_LOG_WARN, HV_LOG_ERROR };

#define HV_LOG_LINE_MAX 1024 /* longer lines are cut */
/* Distinct sources kept; later ones share "other" (this node's lines) or
 * "x/other", named with a '/' (other nodes' lines, a hub's "node/source"). */
#define HV_LOG_SOURCES 64

/* Lines below min_level are dropped; ring_lines per source (0: 500). */
void hv_log_configure(int min_level, size_t ring_lines);

/* Parses "trace".."error"; -1 when unknown. */
int hv_log_level_from_name(const char *name);
const char *hv_log_level_name(int level);

/* Logs one line for source ("host", a plugin name). */
void hv_log(const char *source, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void hv_log_line(const char *source, int level, const char *msg);

typedef struct {
    uint64_t seq;    /* increasing over all sources */
    int64_t time_ms; /* wall clock */
    int level;
    char source[128]; /* "node/source" on a hub: a 63-byte node id and its source */
    char text[HV_LOG_LINE_MAX];
} hv_log_entry_t;

/*
 * Copies up to max entries with seq > after_seq, oldest first, into out;
 * returns how many. source: one source; NULL: every source of this node,
 * merged by seq; "pi4/" (ending in '/'): every source of another node,
 * whose lines the hub keeps as "pi4/bme680" (a '/' marks a remote line).
 */
size_t hv_log_read(const char *source, uint64_t after_seq, hv_log_entry_t *out, size_t max);

/* Calls fn for every line kept (after the log's own lock is released, on
 * the logging thread); NULL removes it. For live log streams. */
void hv_log_set_hook(void (*fn)(void *ud, const hv_log_entry_t *e), void *ud);

/* Drops every ring (tests). */
void hv_log_reset(void);

#endif
