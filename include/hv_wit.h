/*
 * WIT (WebAssembly Interface Types) documents: the contract between the
 * host and its plugins. hv_wit_parse turns WIT text into a read-only tree of
 * packages' interfaces, worlds, functions and types that the canonical ABI
 * layer (hv_abi.h) walks at run time.
 *
 * Supported: one package per document (`package ns:name@x.y.z;`), interfaces,
 * worlds (import/export of named or inline interfaces, `include`), `use`
 * within the package, `type` aliases, record, variant, enum, flags, option,
 * result (all four forms), tuple, list, string, char, bool, s8..u64, f32,
 * f64 (and float32/float64), `//` and block comments, `///` doc comments.
 * Not supported (rejected with a clear error): resources, own/borrow,
 * future/stream, foreign packages, named function results.
 *
 * A document owns every node and string below it; all pointers stay valid
 * until hv_wit_free. Documents are immutable after parsing and safe to share
 * between threads.
 */
#ifndef HV_WIT_H
#define HV_WIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hv_error.h"

typedef enum {
    HV_WIT_BOOL,
    HV_WIT_S8,
    HV_WIT_U8,
    HV_WIT_S16,
    HV_WIT_U16,
    HV_WIT_S32,
    HV_WIT_U32,
    HV_WIT_S64,
    HV_WIT_U64,
    HV_WIT_F32,
    HV_WIT_F64,
    HV_WIT_CHAR,
    HV_WIT_STRING,
    HV_WIT_LIST,    /* elem */
    HV_WIT_OPTION,  /* elem */
    HV_WIT_RESULT,  /* elem = ok type or NULL, err = err type or NULL */
    HV_WIT_TUPLE,   /* fields (names NULL) */
    HV_WIT_RECORD,  /* fields */
    HV_WIT_VARIANT, /* fields = cases; a case's type is NULL without payload */
    HV_WIT_ENUM,    /* fields = cases, types NULL */
    HV_WIT_FLAGS,   /* fields = flags, types NULL */
} hv_wit_kind_t;

typedef struct hv_wit_type hv_wit_type_t;

/* A record field, tuple element, variant/enum case or flag. */
typedef struct {
    const char *name; /* NULL for tuple elements */
    const hv_wit_type_t *type; /* NULL: case without payload, enum case, flag */
    const char *docs; /* `///` text, NULL when none */
} hv_wit_field_t;

/*
 * A type. Named types (record/variant/enum/flags and aliases' targets) are
 * shared nodes; `type a = b;` makes the name `a` resolve to b's node, so
 * an alias never appears as a node of its own. Anonymous types (list<u8>,
 * option<..>, tuple<..>, and primitives) have name == NULL. Primitive
 * kinds may share one static node per kind.
 */
struct hv_wit_type {
    hv_wit_kind_t kind;
    const char *name;      /* declared name, e.g. "bme680-reading"; NULL if anonymous */
    const char *interface; /* interface that declared it; NULL if anonymous */
    const char *docs;
    const hv_wit_type_t *elem; /* list/option element; result ok type (NULL: none) */
    const hv_wit_type_t *err;  /* result err type (NULL: none) */
    size_t nfields;
    const hv_wit_field_t *fields;
};

typedef struct {
    const char *name;
    const hv_wit_type_t *type;
} hv_wit_param_t;

typedef struct {
    const char *name; /* "transfer" */
    const char *docs;
    size_t nparams;
    const hv_wit_param_t *params;
    const hv_wit_type_t *result; /* NULL: returns nothing */
} hv_wit_func_t;

typedef struct {
    const char *name; /* "i2c"; an inline world interface gets the item's name */
    const char *docs;
    size_t ntypes;
    const hv_wit_type_t *const *types; /* declared + used types, in order */
    size_t nfuncs;
    const hv_wit_func_t *funcs;
} hv_wit_interface_t;

typedef struct {
    const char *name; /* "bme680-plugin" */
    const char *docs;
    size_t nimports;
    const hv_wit_interface_t *const *imports; /* after `include`s are merged */
    size_t nexports;
    const hv_wit_interface_t *const *exports;
} hv_wit_world_t;

typedef struct hv_wit_doc {
    const char *filename;
    const char *package_ns;      /* "harvester" */
    const char *package_name;    /* "plugin" */
    const char *package_version; /* "1.0.0" or NULL */
    size_t ninterfaces;
    const hv_wit_interface_t *const *interfaces;
    size_t nworlds;
    const hv_wit_world_t *const *worlds;
} hv_wit_doc_t;

/*
 * Parses WIT source (len bytes, need not be NUL-terminated). filename is
 * used in messages and copied. On success *ret owns a new document. On
 * failure returns HV_EINVAL (syntax or semantic error) or HV_ENOMEM, writes
 * "filename:line:col: message" (1-based line and column of the offending
 * token, the message saying what was expected and what was found) into err,
 * and leaves *ret untouched. Input size is capped at HV_WIT_MAX_SOURCE
 * (HV_ETOOBIG).
 */
#define HV_WIT_MAX_SOURCE (4u << 20)
int hv_wit_parse(const char *src, size_t len, const char *filename, hv_wit_doc_t **ret, char *err,
                 size_t errlen);

/* Reads and parses a file; errors as hv_wit_parse (HV_ENOENT etc. for I/O,
 * with "path: reason" in err). */
int hv_wit_parse_file(const char *path, hv_wit_doc_t **ret, char *err, size_t errlen);

void hv_wit_free(hv_wit_doc_t *doc);

/* Lookups by name; NULL when absent. */
const hv_wit_world_t *hv_wit_world(const hv_wit_doc_t *doc, const char *name);
const hv_wit_interface_t *hv_wit_interface(const hv_wit_doc_t *doc, const char *name);
const hv_wit_func_t *hv_wit_func(const hv_wit_interface_t *iface, const char *name);

/*
 * Writes a type as WIT would spell it: its name for named types, else the
 * structural form ("list<u8>", "result<_, string>", "tuple<f32, f32>").
 * Returns the length it needed (snprintf semantics).
 */
size_t hv_wit_type_str(const hv_wit_type_t *t, char *buf, size_t len);

/*
 * Prints every world of the document: its imports and exports, each
 * interface's functions with full signatures, e.g.
 *   world bme680-plugin
 *     import i2c
 *       transfer: func(addr: u8, write-data: string, read-len: u32) -> result<string, string>
 *     export bme680-logic
 *       poll: func() -> result<list<bme680-reading>, string>
 * and, after the functions, the named types they use with their
 * definitions. Returns 0 or -1 on a write error.
 */
int hv_wit_print(FILE *out, const hv_wit_doc_t *doc);

#endif
