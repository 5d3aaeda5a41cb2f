/*
 * /metrics: Prometheus text exposition of the server's own counters plus
 * the daemon's lines (opts->metrics_text).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_impl.h"

void http__count(hv_http_t *h, unsigned code)
{
    if (code < HTTP__MAX_CODE)
        atomic_fetch_add_explicit(&h->codes[code], 1, memory_order_relaxed);
}

enum MHD_Result http__metrics(hv_http_t *h, struct MHD_Connection *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return MHD_NO;
    fputs("# HELP http_requests_total HTTP requests answered, by status code.\n"
          "# TYPE http_requests_total counter\n",
          f);
    for (unsigned code = 100; code < HTTP__MAX_CODE; code++) {
        uint64_t n = atomic_load_explicit(&h->codes[code], memory_order_relaxed);
        if (n > 0)
            fprintf(f, "http_requests_total{code=\"%u\"} %llu\n", code, (unsigned long long)n);
    }
    fprintf(f,
            "# HELP sse_clients Connected Server-Sent Events clients.\n"
            "# TYPE sse_clients gauge\n"
            "sse_clients %zu\n"
            "# HELP sse_dropped_total Event clients dropped for not keeping up.\n"
            "# TYPE sse_dropped_total counter\n"
            "sse_dropped_total %llu\n",
            http__sse_count(h),
            (unsigned long long)atomic_load_explicit(&h->sse_dropped, memory_order_relaxed));
    char *extra = h->o.metrics_text ? h->o.metrics_text(h->o.ud) : NULL;
    if (extra != NULL) {
        size_t n = strlen(extra);
        fputs(extra, f);
        if (n > 0 && extra[n - 1] != '\n')
            fputc('\n', f);
        free(extra);
    }
    if (fclose(f) != 0) {
        free(text);
        return MHD_NO;
    }
    return http__send(h, c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
