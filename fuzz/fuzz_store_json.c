/* libFuzzer harness for the reading history: any bytes into
 * hv_store_add_json on an in-memory database must be stored or refused
 * cleanly (HV_EINVAL/HV_ETOOBIG with a "$..." message); stored readings
 * must be refused as duplicates the second time; every series' history
 * must be JSON with matching arrays; and maintenance (folding into 5-minute
 * aggregates, deleting raw points) must leave the 5-minute history exactly
 * as it was. abort() otherwise. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hv_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DAY_MS INT64_C(86400000)
#define MAX_SERIES_CHECKED 8

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_store_json: %s: %s\n", what, detail ? detail : "(null)");
    abort();
}

/* The history as JSON with arrays of equal length; returns that length. */
static int check_history(const char *json, int step)
{
    cJSON *h = cJSON_Parse(json);
    if (h == NULL)
        die("history is not JSON", json);
    const char *const raw[] = {"t", "v", NULL};
    const char *const buckets[] = {"t", "min", "max", "mean", NULL};
    int n = -1;
    for (const char *const *k = step ? buckets : raw; *k; k++) {
        cJSON *a = cJSON_GetObjectItemCaseSensitive(h, *k);
        if (!cJSON_IsArray(a))
            die("history lacks an array", json);
        if (n >= 0 && cJSON_GetArraySize(a) != n)
            die("history arrays differ in length", json);
        n = cJSON_GetArraySize(a);
    }
    if (cJSON_GetArraySize(h) != (step ? 4 : 2))
        die("history has extra members", json);
    cJSON_Delete(h);
    return n;
}

static char *history(hv_store_t *s, const char *sensor, const char *field, int64_t step)
{
    char *json = NULL, err[256];
    int rc = hv_store_history_json(s, sensor, field, 0, INT64_MAX, step, &json, err, sizeof err);
    if (rc != HV_OK)
        die("history failed", err);
    check_history(json, step != 0);
    return json;
}

/* Last timestamp of a raw history {"t":[...],"v":[...]}, or -1. */
static int64_t last_t(const char *json)
{
    cJSON *h = cJSON_Parse(json);
    cJSON *t = cJSON_GetObjectItemCaseSensitive(h, "t");
    int n = cJSON_GetArraySize(t);
    int64_t last = n > 0 ? (int64_t)cJSON_GetArrayItem(t, n - 1)->valuedouble : -1;
    cJSON_Delete(h);
    return last;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hv_store_t *s = NULL;
    char err[256];
    if (hv_store_open(":memory:", 1, &s, err, sizeof err) != HV_OK)
        die("open", err);
    const char *json = (const char *)data;
    size_t added = 0;
    err[0] = '\0';
    int rc = hv_store_add_json(s, json, size, &added, err, sizeof err);
    if (rc != HV_OK) {
        if ((rc != HV_EINVAL && rc != HV_ETOOBIG && rc != HV_ENOMEM) || err[0] != '$' || added != 0)
            die(hv_err_name(rc), err);
        char *series = hv_store_series_json(s);
        if (series == NULL || strcmp(series, "[]") != 0)
            die("a refused batch left series", series);
        free(series);
        hv_store_close(s);
        return 0;
    }
    if (added > HV_STORE_MAX_VALUES)
        die("added over the cap", json);
    size_t again = 1;
    if (hv_store_add_json(s, json, size, &again, err, sizeof err) != HV_OK || again != 0)
        die("second add stored something or failed", err);

    char *series = hv_store_series_json(s);
    cJSON *list = cJSON_Parse(series);
    if (!cJSON_IsArray(list))
        die("series is not a JSON array", series);
    free(series);
    size_t points = 0;
    int64_t now = 0;
    int k = 0;
    char *before[MAX_SERIES_CHECKED] = {0};
    const cJSON *pair;
    cJSON_ArrayForEach(pair, list)
    {
        const char *sensor = cJSON_GetArrayItem(pair, 0)->valuestring;
        const char *field = cJSON_GetArrayItem(pair, 1)->valuestring;
        if (sensor == NULL || field == NULL || strlen(sensor) > HV_STORE_MAX_NAME ||
            strlen(field) > HV_STORE_MAX_NAME)
            die("bad series", sensor);
        char *raw = history(s, sensor, field, 0);
        points += (size_t)check_history(raw, 0);
        int64_t t = last_t(raw);
        if (t > now)
            now = t;
        free(raw);
        if (k < MAX_SERIES_CHECKED) {
            free(history(s, sensor, field, 60000));
            before[k++] = history(s, sensor, field, 300000);
        }
    }
    if (points != added)
        die("stored points differ from added", json);
    /* fold everything but the last hour, delete raw points older than a day */
    now = now + DAY_MS / 2 < (INT64_C(1) << 53) ? now + DAY_MS / 2 : (INT64_C(1) << 53) - 1;
    if (hv_store_maintain(s, now) != HV_OK)
        die("maintain failed", json);
    if (hv_store_maintain(s, now) != HV_OK) /* idempotent: must change nothing */
        die("second maintain failed", json);
    k = 0;
    cJSON_ArrayForEach(pair, list)
    {
        if (k == MAX_SERIES_CHECKED)
            break;
        char *after = history(s, cJSON_GetArrayItem(pair, 0)->valuestring,
                              cJSON_GetArrayItem(pair, 1)->valuestring, 300000);
        if (strcmp(after, before[k]) != 0)
            die("maintenance changed the 5-minute history", after);
        free(after);
        free(before[k]);
        k++;
    }
    /* a replay after maintenance stores nothing */
    if (hv_store_add_json(s, json, size, &again, err, sizeof err) != HV_OK || again != 0)
        die("replay after maintenance stored something or failed", err);
    cJSON_Delete(list);
    hv_store_close(s);
    return 0;
}
