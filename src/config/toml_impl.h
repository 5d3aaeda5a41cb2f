/*
 * Private to src/config/toml*.c: the document's memory, the node layout and
 * the parser state shared by the lexer (toml_lex.c), the scalar readers
 * (toml_scalar.c) and the structure parser (toml_parse.c).
 *
 * The parser works on the bytes directly, without a token stream: TOML's
 * lexical rules depend on context (a bare "1979" is a key on one side of
 * '=' and the start of a date on the other), so each rule scans what it
 * expects. Every function that can fail returns -1 after recording the
 * first error in the parser; callers just pass the -1 up.
 */
#ifndef HV_TOML_IMPL_H
#define HV_TOML_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hv_toml.h"
#include "hv_value.h"

/*
 * Everything a document holds lives in one hv_arena_t, freed in one go:
 * nodes, strings, and the item arrays of tables and arrays. Those grow by
 * copying into a twice-as-large block; the old blocks stay until
 * hv_toml_free, which at most doubles their cost and keeps freeing
 * trivially leak-free.
 */

/* ---- nodes ------------------------------------------------------------- */

/* Container flags; see toml_parse.c for the redefinition rules they serve. */
enum {
    TOML__EXPLICIT = 1, /* defined by a [header] (or the array of [[a]]) */
    TOML__INLINE = 2,   /* an inline table or array literal: complete as written */
    TOML__AOT = 4,      /* an array created by [[header]]s */
};

/*
 * Tables and arrays carry parse-time bookkeeping after the public value;
 * scalars are bare hv_toml_value_t. The public value comes first, so a
 * container's hv_toml_value_t pointer is its node pointer.
 */
typedef struct {
    hv_toml_value_t v;
    union { /* writable views of v.table.items / v.array.items */
        hv_toml_kv_t *kvs;
        hv_toml_value_t **elems;
    };
    uint32_t cap;     /* allocated entries of kvs / elems */
    uint32_t section; /* last section whose dotted keys went through it; 0: none */
    int dotted_line;  /* where dotted keys first went through it, for messages */
    uint16_t depth;   /* root = 0 */
    uint8_t flags;
} toml__node_t;

struct hv_toml_doc {
    hv_arena_t arena;
    toml__node_t *root;
    char *filename;
};

/*
 * Keys are stored with their length just before the text, so the JSON
 * writers and the duplicate check can see past a U+0000 inside a key while
 * consumers keep a plain C string.
 */
static inline size_t toml__key_len(const char *key)
{
    size_t n;
    memcpy(&n, key - sizeof n, sizeof n);
    return n;
}

/* ---- parser state ------------------------------------------------------ */

/* One part of a dotted key; its text is p->buf[off, off + len). */
typedef struct {
    size_t off, len;
    size_t src_off; /* where it starts in the source */
    int line, col;
} toml__keypart_t;

/* (table, key) -> entry index, for duplicate detection in O(1). */
typedef struct {
    const toml__node_t *table; /* NULL: free slot */
    uint32_t hash;
    uint32_t index;
} toml__slot_t;

typedef struct {
    const char *src;
    size_t len, pos;
    size_t start; /* after the BOM, if any */
    const char *filename;
    hv_toml_doc_t *doc;
    char *err;
    size_t errlen;
    int rc; /* HV_OK until the first error */

    /* Position cache: positions are asked for in source order, so counting
     * lines and columns from the last answer keeps it linear. */
    size_t pc_off;
    int pc_line, pc_col;

    /* Scratch text: the current key's parts, or the current string. */
    char *buf;
    size_t buflen, bufcap;
    toml__keypart_t parts[HV_TOML_MAX_DEPTH + 1];
    int nparts;

    toml__slot_t *slots; /* open addressing; nslots a power of two */
    size_t nslots, nused;

    toml__node_t *cur; /* table that key/value lines go into */
    uint32_t section;  /* 1 for the root's lines, +1 at every header */
} toml__parser_t;

/* ---- toml_lex.c -------------------------------------------------------- */

/* Records "file:line:col: message" at source offset off (first error wins). */
int toml__fail(toml__parser_t *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* toml__fail with "expected <what>, found <what is at off>". */
int toml__expected(toml__parser_t *p, size_t off, const char *what);
int toml__oom(toml__parser_t *p);
/* 1-based line and column (in characters) of source offset off. */
void toml__position(toml__parser_t *p, size_t off, int *line, int *col);
/* What is at off, for messages: "'x'", "newline", "end of input", ... */
const char *toml__describe(const toml__parser_t *p, size_t off, char out[32]);
/* Checks the whole input is UTF-8 before anything else reads it. */
int toml__check_utf8(toml__parser_t *p);

int toml__buf_put(toml__parser_t *p, const char *s, size_t n);
bool toml__is_bare(unsigned char c);
void toml__skip_ws(toml__parser_t *p);
/* Length of the newline at p->pos: 1 (LF), 2 (CRLF) or 0. */
size_t toml__newline(const toml__parser_t *p);
/* At '#': skips the comment, up to the newline. */
int toml__skip_comment(toml__parser_t *p);
/* Whitespace, newlines and comments (inside arrays). */
int toml__skip_blank(toml__parser_t *p);
/* Optional whitespace and comment, then a newline or the end. */
int toml__end_of_line(toml__parser_t *p, const char *after);
/* A dotted key into p->parts, and the whitespace after it. */
int toml__parse_key(toml__parser_t *p);
/* A string of any of the four kinds, appended to p->buf at *off. */
int toml__parse_string(toml__parser_t *p, bool key, size_t *off, size_t *len);

/* ---- toml_scalar.c ----------------------------------------------------- */

/* "expected a value, found 'word'" at off. */
int toml__bad_value(toml__parser_t *p, size_t off);
/* A boolean, number or date/time at p->pos into v (kind and payload). */
int toml__parse_scalar(toml__parser_t *p, hv_toml_value_t *v);

/* ---- toml_parse.c ------------------------------------------------------ */

/* A new empty container of the given kind; NULL after recording the error. */
toml__node_t *toml__new_node(toml__parser_t *p, hv_toml_kind_t kind, int line, int col, int depth);
int toml__parse_document(toml__parser_t *p);

#endif
