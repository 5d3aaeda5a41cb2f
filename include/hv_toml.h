/*
 * TOML 1.0 documents (https://toml.io/en/v1.0.0), held to the toml-test
 * suite. hv_toml_parse builds a read-only tree; every key remembers where
 * it was written so the configuration layer can say file:line:col.
 *
 * A document owns all its nodes and strings until hv_toml_free. Documents
 * are immutable after parsing and safe to share between threads.
 */
#ifndef HV_TOML_H
#define HV_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hv_error.h"

typedef enum {
    HV_TOML_TABLE,
    HV_TOML_ARRAY,
    HV_TOML_STRING,
    HV_TOML_INTEGER,
    HV_TOML_FLOAT,
    HV_TOML_BOOL,
    HV_TOML_DATETIME,       /* offset date-time: 1979-05-27T07:32:00Z */
    HV_TOML_DATETIME_LOCAL, /* 1979-05-27T07:32:00 */
    HV_TOML_DATE_LOCAL,     /* 1979-05-27 */
    HV_TOML_TIME_LOCAL,     /* 07:32:00 */
} hv_toml_kind_t;

typedef struct hv_toml_value hv_toml_value_t;

/* One key of a table, in the order it was first defined. */
typedef struct {
    /* UTF-8, NUL-terminated. A quoted key may hold U+0000 (through an
     * escape); such a key is cut short here, never matches hv_toml_get, and
     * is written whole by the JSON writers. */
    const char *key;
    int line, col; /* 1-based position of the key where it was defined (columns
                    * count characters, here and in error messages) */
    const hv_toml_value_t *value;
} hv_toml_kv_t;

struct hv_toml_value {
    hv_toml_kind_t kind;
    int line, col; /* 1-based position where the value starts */
    union {
        struct { /* TABLE (also inline tables and array-of-tables elements) */
            const hv_toml_kv_t *items;
            size_t len;
        } table;
        struct { /* ARRAY */
            const hv_toml_value_t *const *items;
            size_t len;
        } array;
        struct { /* STRING: UTF-8, NUL-terminated; len excludes the NUL */
            const char *ptr;
            size_t len;
        } str;
        int64_t i; /* INTEGER */
        double f;  /* FLOAT (inf, nan included) */
        bool b;    /* BOOL */
        struct {   /* the four date/time kinds; unused parts are 0 */
            int year, month, day, hour, minute, second;
            int32_t nanosecond;
            int offset_minutes; /* DATETIME only; Z = 0 */
        } dt;
    };
};

typedef struct hv_toml_doc hv_toml_doc_t;

/*
 * Parses TOML text (len bytes; need not be NUL-terminated). filename is
 * copied and used in messages. On success *ret owns a new document. On
 * failure returns HV_EINVAL (or HV_ENOMEM, HV_ETOOBIG past
 * HV_TOML_MAX_SOURCE), writes "filename:line:col: message" (what was
 * expected and what was found) into err, and leaves *ret untouched.
 * Nesting of tables and arrays, however written (headers, dotted keys,
 * inline values), is capped at HV_TOML_MAX_DEPTH levels below the root.
 */
#define HV_TOML_MAX_SOURCE (8u << 20)
#define HV_TOML_MAX_DEPTH 128
int hv_toml_parse(const char *src, size_t len, const char *filename, hv_toml_doc_t **ret,
                  char *err, size_t errlen);

/* Reads and parses a file; I/O errors give "path: reason". */
int hv_toml_parse_file(const char *path, hv_toml_doc_t **ret, char *err, size_t errlen);

void hv_toml_free(hv_toml_doc_t *doc);

/* The root table. */
const hv_toml_value_t *hv_toml_root(const hv_toml_doc_t *doc);
/* The document's file name as given to hv_toml_parse. */
const char *hv_toml_filename(const hv_toml_doc_t *doc);

/* The length of an entry's key (a quoted key may hold U+0000, which ends
 * the C string early: compare this with strlen to refuse such keys). */
size_t hv_toml_key_len(const hv_toml_kv_t *kv);

/* The entry for key in a TABLE value, or NULL. */
const hv_toml_kv_t *hv_toml_get(const hv_toml_value_t *table, const char *key);

/*
 * Writes v in toml-test's tagged JSON form (tables -> objects, arrays ->
 * arrays, leaves -> {"type": ..., "value": "..."}). Returns 0, or -1 on a
 * write error.
 */
int hv_toml_write_tagged_json(FILE *out, const hv_toml_value_t *v);

/* Plain JSON of v (tables -> objects, strings, numbers, booleans; dates
 * as their TOML text; inf and nan, which JSON lacks, as the strings "inf",
 * "-inf", "nan"), malloc'd; NULL when out of memory. */
char *hv_toml_to_json(const hv_toml_value_t *v);

/*
 * `harvester toml2json`, the toml-test decoder interface: reads TOML from
 * stdin and writes its tagged JSON (hv_toml_write_tagged_json) and a
 * newline to stdout. Returns the exit status: 0, or 1 with the parse or
 * I/O error on stderr.
 */
int hv_toml_cli_toml2json(void);

#endif
