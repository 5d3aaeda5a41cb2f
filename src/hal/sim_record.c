/*
 * Record and replay of bus transactions. A recording is JSON lines, one
 * transaction each: {"op":"i2c","addr":119,"w":"d0","r":"61","rc":0,"err":""}.
 * Replaying answers each transaction from the recording, in order, so a
 * plugin can be run again, without hardware, against exactly what a real
 * board (or a scenario) answered.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim_impl.h"

#define REPLAY_MAX (1u << 20) /* transactions */

static void hex(FILE *f, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", b[i]);
}

void sim__record(sim_t *s, const char *op, int addr, const uint8_t *w, size_t wlen,
                 const uint8_t *r, size_t rlen, int rc, const char *err)
{
    if (s->record == NULL)
        return;
    fprintf(s->record, "{\"op\":\"%s\",\"addr\":%d,\"w\":\"", op, addr);
    hex(s->record, w, wlen);
    fprintf(s->record, "\",\"r\":\"");
    hex(s->record, r, rlen);
    fprintf(s->record, "\",\"rc\":%d,\"err\":\"", rc);
    for (const char *p = err; *p; p++)
        fprintf(s->record, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
    fprintf(s->record, "\"}\n");
    fflush(s->record);
}

static int unhex(const char *h, uint8_t **ret, size_t *ret_len)
{
    size_t n = strlen(h);
    if (n % 2)
        return -1;
    uint8_t *b = malloc(n / 2 + 1);
    if (b == NULL)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1) {
            free(b);
            return -1;
        }
        b[i] = (uint8_t)v;
    }
    *ret = b;
    *ret_len = n / 2;
    return 0;
}

int sim__replay_load(sim_t *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open the recording", path);
        return HV_ENOENT;
    }
    char line[65536];
    size_t cap = 0;
    int lineno = 0, rc = HV_OK;
    while (rc == HV_OK && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        cJSON *j = cJSON_Parse(line);
        cJSON *op = cJSON_GetObjectItemCaseSensitive(j, "op"),
              *addr = cJSON_GetObjectItemCaseSensitive(j, "addr"),
              *w = cJSON_GetObjectItemCaseSensitive(j, "w"),
              *r = cJSON_GetObjectItemCaseSensitive(j, "r"),
              *code = cJSON_GetObjectItemCaseSensitive(j, "rc"),
              *e = cJSON_GetObjectItemCaseSensitive(j, "err");
        if (!cJSON_IsString(op) || !cJSON_IsNumber(addr) || !cJSON_IsString(w) ||
            !cJSON_IsString(r) || !cJSON_IsNumber(code) || !cJSON_IsString(e) ||
            s->nreplay == REPLAY_MAX) {
            snprintf(err, errlen, "%s:%d:1: not a recorded transaction", path, lineno);
            rc = HV_EINVAL;
        } else {
            if (s->nreplay == cap) {
                cap = cap ? cap * 2 : 256;
                sim_txn_t *nt = realloc(s->replay, cap * sizeof *nt);
                if (nt == NULL) {
                    rc = HV_ENOMEM;
                    cJSON_Delete(j);
                    break;
                }
                s->replay = nt;
            }
            sim_txn_t *t = &s->replay[s->nreplay];
            memset(t, 0, sizeof *t);
            snprintf(t->op, sizeof t->op, "%s", op->valuestring);
            snprintf(t->err, sizeof t->err, "%s", e->valuestring);
            t->addr = addr->valueint;
            t->rc = code->valueint;
            if (unhex(w->valuestring, &t->w, &t->wlen) || unhex(r->valuestring, &t->r, &t->rlen)) {
                free(t->w);
                snprintf(err, errlen, "%s:%d:1: bad hex bytes", path, lineno);
                rc = HV_EINVAL;
            } else {
                s->nreplay++;
            }
        }
        cJSON_Delete(j);
    }
    fclose(f);
    if (rc == HV_OK && s->nreplay == 0) {
        /* An empty replay would look like no replay at all. */
        s->replay = calloc(1, sizeof *s->replay);
        if (s->replay == NULL)
            rc = HV_ENOMEM;
    }
    return rc;
}

int sim__replay(sim_t *s, const char *op, int addr, const uint8_t *w, size_t wlen, uint8_t *r,
                size_t rlen, char *err, size_t errlen)
{
    if (s->replay_pos >= s->nreplay) {
        snprintf(err, errlen, "replay: the recording has no transaction %zu", s->replay_pos + 1);
        return HV_EIO;
    }
    sim_txn_t *t = &s->replay[s->replay_pos];
    if (strcmp(t->op, op) != 0 || t->addr != addr || t->wlen != wlen ||
        (wlen && memcmp(t->w, w, wlen) != 0) || (t->rc == HV_OK && t->rlen != rlen)) {
        snprintf(err, errlen, "replay: transaction %zu differs from the recording (%s at %d)",
                 s->replay_pos + 1, t->op, t->addr);
        return HV_EIO;
    }
    s->replay_pos++;
    if (t->rc != HV_OK) {
        snprintf(err, errlen, "%s", t->err);
        return t->rc;
    }
    if (rlen)
        memcpy(r, t->r, rlen);
    return HV_OK;
}

void sim__replay_free(sim_t *s)
{
    for (size_t i = 0; i < s->nreplay; i++) {
        free(s->replay[i].w);
        free(s->replay[i].r);
    }
    free(s->replay);
    s->replay = NULL;
    s->nreplay = 0;
}
