/*
 * Outgoing HTTP for the cluster, on libcurl: one easy handle per client,
 * so connections to the hub stay open between pushes (keep-alive), and
 * every request has a hard timeout so a dead peer never blocks a thread
 * for long.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hv_cluster.h"

struct hv_client {
    CURL *curl;
};

typedef struct {
    char *buf;
    size_t len, cap;
    int over; /* the reply passed HV_CLIENT_MAX_REPLY: the transfer is cut */
} sink_t;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

hv_client_t *hv_client_new(void)
{
    pthread_once(&global_once, global_init);
    hv_client_t *c = calloc(1, sizeof *c);
    if (c == NULL || (c->curl = curl_easy_init()) == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void hv_client_free(hv_client_t *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    sink_t *s = ud;
    size_t len = size * n;
    if (s->len + len > HV_CLIENT_MAX_REPLY) {
        s->over = 1;
        return 0; /* aborts the transfer */
    }
    if (s->len + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->len + len + 1)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (nb == NULL)
            return 0;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, ptr, len);
    s->len += len;
    s->buf[s->len] = '\0';
    return len;
}

int hv_client_request(hv_client_t *c, const char *url, const char *token, const char *body,
                      size_t len, long timeout_ms, hv_client_reply_t *ret, char *err,
                      size_t errlen)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    sink_t sink = {NULL, 0, 0, 0};
    struct curl_slist *hdrs = NULL;
    char auth[300];
    if (token != NULL && *token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    if (body != NULL) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 2000 ? timeout_ms : 2000);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "harvester");
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", url,
                 sink.over ? "reply larger than 1 MiB" : curl_easy_strerror(rc));
        free(sink.buf);
        return HV_EIO;
    }
    long status = 0;
    double secs = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &secs);
    ret->status = status;
    ret->body = sink.buf ? sink.buf : strdup("");
    ret->len = sink.len;
    ret->ms = secs * 1000.0;
    if (ret->body == NULL) {
        snprintf(err, errlen, "%s: out of memory", url);
        return HV_ENOMEM;
    }
    return HV_OK;
}
