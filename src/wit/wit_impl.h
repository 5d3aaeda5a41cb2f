/*
 * Private to the WIT parser (src/wit/): memory, the lexer, and the builder
 * structs behind the read-only tree of hv_wit.h.
 *
 * Every public node is the first member of a private struct, so the parser
 * can keep its bookkeeping next to it and a `const hv_wit_type_t *` from the
 * tree can be turned back into its wit_node_t. All memory comes from one
 * arena per document; hv_wit_free releases it in one go.
 */
#ifndef HV_WIT_IMPL_H
#define HV_WIT_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv_wit.h"

/* Deepest nesting of types (counting both list<..> levels and named types
 * inside named types) and of `include` chains. Keeps every recursive walk,
 * ours and the canonical ABI layer's, far from the end of the stack. */
#define WIT_MAX_DEPTH 100

/* ---- memory (wit_mem.c) ---- */

typedef struct wit_chunk wit_chunk_t;
typedef struct {
    wit_chunk_t *head;
} wit_arena_t;

/* Zeroed memory aligned for any type, or NULL when out of memory. */
void *wit__alloc(wit_arena_t *a, size_t n);
char *wit__strndup(wit_arena_t *a, const char *s, size_t n);
void wit__arena_free(wit_arena_t *a);

/* A growable array inside the arena (growing abandons the old copy: the
 * waste stays below the final size). */
typedef struct {
    void *items;
    size_t n, cap;
} wit_vec_t;

/* Appends one zeroed element of `size` bytes and returns it; NULL on OOM. */
void *wit__vec_push(wit_arena_t *a, wit_vec_t *v, size_t size);
#define WIT_VEC_AT(v, type, i) (((type *)(v).items)[i])

/* String -> pointer hash map (keys are not copied). */
typedef struct {
    const char *key;
    void *val;
} wit_slot_t;
typedef struct {
    wit_slot_t *slots;
    size_t n, cap;
} wit_map_t;

void *wit__map_get(const wit_map_t *m, const char *key);
int wit__map_put(wit_arena_t *a, wit_map_t *m, const char *key, void *val); /* 0 or HV_ENOMEM */

/* ---- the document under construction ---- */

typedef struct {
    uint32_t line, col; /* 1-based */
} wit_pos_t;

enum { WIT_NEW, WIT_VISITING, WIT_DONE };

typedef struct wit_scope wit_scope_t;

/*
 * A type node. While parsing, a name that may not be declared yet becomes a
 * reference node (is_ref) that wit__resolve replaces everywhere by the
 * node it names; reference nodes are then unreachable from the tree.
 */
typedef struct wit_node {
    hv_wit_type_t t; /* first: the public view */
    wit_pos_t pos;   /* declaration, or where the reference is written */
    bool is_ref;
    unsigned char state; /* WIT_NEW/VISITING/DONE during resolution walks */
    int depth;           /* nesting depth once state == WIT_DONE */
    size_t mark;         /* dedup stamp while listing interface types */
    /* reference nodes only */
    const char *ref_name;
    const char *ref_iface; /* `use iface.{name}`; NULL: look in scope */
    wit_pos_t iface_pos;
    wit_scope_t *scope;
    const hv_wit_type_t *target;
} wit_node_t;

#define WIT_NODE(type_ptr) ((wit_node_t *)(void *)(type_ptr))
#define WIT_CNODE(type_ptr) ((const wit_node_t *)(const void *)(type_ptr))

/* The shared node of a primitive kind (HV_WIT_BOOL..HV_WIT_STRING). */
const hv_wit_type_t *wit__prim(hv_wit_kind_t kind);
#define WIT_IS_PRIM(kind) ((kind) <= HV_WIT_STRING)

/* A name declared in an interface or world. */
enum { WIT_E_TYPE, WIT_E_REF, WIT_E_FUNC };
typedef struct {
    const char *name;
    wit_pos_t pos;
    int kind;
    wit_node_t *node; /* E_TYPE: the type; E_REF: reference node (alias, use) */
} wit_entry_t;

struct wit_scope {
    const char *name; /* becomes hv_wit_type_t.interface */
    wit_map_t names;  /* name -> wit_entry_t * (types and functions) */
    wit_vec_t types;  /* wit_entry_t *, type entries in declaration order */
};

typedef struct wit_iface {
    hv_wit_interface_t pub; /* first */
    wit_pos_t pos;
    wit_scope_t scope;
    wit_vec_t funcs; /* hv_wit_func_t */
    wit_vec_t types; /* const hv_wit_type_t *, filled by wit__resolve */
} wit_iface_t;

enum { WIT_IMPORT, WIT_EXPORT, WIT_INCLUDE };
typedef struct {
    int kind;
    const char *name; /* interface or world named by the item */
    wit_pos_t pos;
    wit_iface_t *iface; /* inline interface or bare function; NULL: by name */
} wit_item_t;

typedef struct wit_world {
    hv_wit_world_t pub; /* first */
    wit_pos_t pos;
    wit_scope_t scope;
    wit_vec_t items;       /* wit_item_t */
    wit_map_t explicit[2]; /* import/export names written in the world */
    wit_map_t merged[2];   /* name -> interface after flattening */
    wit_vec_t lists[2];    /* const hv_wit_interface_t * */
    int state;
} wit_world_t;

typedef struct wit_doc {
    hv_wit_doc_t pub; /* first: hv_wit_free casts back */
    wit_arena_t arena;
    char *err;
    size_t errlen;
    bool failed;
    wit_map_t ifaces, worlds; /* top-level, by name */
    wit_vec_t iface_list;     /* wit_iface_t *, top-level */
    wit_vec_t world_list;     /* wit_world_t * */
    wit_vec_t all_ifaces;     /* wit_iface_t *, including inline ones */
    wit_vec_t nodes;          /* wit_node_t *, every node allocated */
    wit_vec_t path;           /* scratch for wit__resolve */
} wit_doc_t;

/* Formats "filename:line:col: message" into the caller's buffer (first
 * error only) and returns HV_EINVAL. */
int wit__err(wit_doc_t *d, wit_pos_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int wit__oom(wit_doc_t *d); /* "filename: out of memory", HV_ENOMEM */

/* Propagates a negative status. */
#define WIT_TRY(expr)                                                                              \
    do {                                                                                           \
        int wit_rc_ = (expr);                                                                      \
        if (wit_rc_ < 0)                                                                           \
            return wit_rc_;                                                                        \
    } while (0)

/* ---- lexer (wit_lex.c) ---- */

typedef enum {
    WIT_T_EOF,
    WIT_T_ID, /* names and keywords */
    WIT_T_VERSION,
    WIT_T_STRING, /* never valid WIT; lexed so errors can name it */
    WIT_T_LBRACE,
    WIT_T_RBRACE,
    WIT_T_LPAREN,
    WIT_T_RPAREN,
    WIT_T_LT,
    WIT_T_GT,
    WIT_T_COMMA,
    WIT_T_SEMI,
    WIT_T_COLON,
    WIT_T_DOT,
    WIT_T_EQ,
    WIT_T_AT,
    WIT_T_SLASH,
    WIT_T_ARROW,
    WIT_T_UNDERSCORE,
} wit_tok_kind_t;

#define WIT_KEYWORDS(X)                                                                            \
    X(AS, "as")                                                                                    \
    X(ASYNC, "async")                                                                              \
    X(BOOL, "bool")                                                                                \
    X(BORROW, "borrow")                                                                            \
    X(CHAR, "char")                                                                                \
    X(CONSTRUCTOR, "constructor")                                                                  \
    X(ENUM, "enum")                                                                                \
    X(EXPORT, "export")                                                                            \
    X(F32, "f32")                                                                                  \
    X(F64, "f64")                                                                                  \
    X(FLAGS, "flags")                                                                              \
    X(FLOAT32, "float32")                                                                          \
    X(FLOAT64, "float64")                                                                          \
    X(FUNC, "func")                                                                                \
    X(FUTURE, "future")                                                                            \
    X(IMPORT, "import")                                                                            \
    X(INCLUDE, "include")                                                                          \
    X(INTERFACE, "interface")                                                                      \
    X(LIST, "list")                                                                                \
    X(OPTION, "option")                                                                            \
    X(OWN, "own")                                                                                  \
    X(PACKAGE, "package")                                                                          \
    X(RECORD, "record")                                                                            \
    X(RESOURCE, "resource")                                                                        \
    X(RESULT, "result")                                                                            \
    X(S8, "s8")                                                                                    \
    X(S16, "s16")                                                                                  \
    X(S32, "s32")                                                                                  \
    X(S64, "s64")                                                                                  \
    X(STATIC, "static")                                                                            \
    X(STREAM, "stream")                                                                            \
    X(STRING, "string")                                                                            \
    X(TUPLE, "tuple")                                                                              \
    X(TYPE, "type")                                                                                \
    X(U8, "u8")                                                                                    \
    X(U16, "u16")                                                                                  \
    X(U32, "u32")                                                                                  \
    X(U64, "u64")                                                                                  \
    X(USE, "use")                                                                                  \
    X(VARIANT, "variant")                                                                          \
    X(WITH, "with")                                                                                \
    X(WORLD, "world")

typedef enum {
    WIT_KW_NONE,
#define WIT__KW_ENUM(name, text) WIT_KW_##name,
    WIT_KEYWORDS(WIT__KW_ENUM)
#undef WIT__KW_ENUM
} wit_kw_t;

typedef struct {
    wit_tok_kind_t kind;
    wit_kw_t kw;      /* WIT_T_ID not written with `%` and spelling a keyword */
    const char *text; /* raw text in the source */
    size_t len;
    wit_pos_t pos;
    bool escaped;     /* `%name` */
    bool valid;       /* WIT_T_ID: the name (without `%`) is kebab-case */
    const char *docs; /* `///` lines right before the token, or NULL */
} wit_tok_t;

typedef struct {
    wit_doc_t *doc;
    const char *src;
    size_t len, off;
    wit_pos_t pos;
    char *docbuf; /* malloc'ed; the `///` lines seen since the last token */
    size_t doclen, doccap;
    bool has_docs;
} wit_lexer_t;

void wit__lex_init(wit_lexer_t *lx, wit_doc_t *d, const char *src, size_t len);
void wit__lex_done(wit_lexer_t *lx);
int wit__lex_next(wit_lexer_t *lx, wit_tok_t *tok);
/* Lexes a semantic version right after an `@` token. */
int wit__lex_version(wit_lexer_t *lx, wit_tok_t *tok);
/* "end of file" or the token's text quoted (shortened, escaped). */
void wit__tok_desc(const wit_tok_t *tok, char *buf, size_t n);
const char *wit__kw_text(wit_kw_t kw);
/* Whether a name must be written `%name` in WIT. */
bool wit__is_keyword(const char *name);

/* ---- passes ---- */

int wit__parse_doc(wit_doc_t *d, const char *src, size_t len); /* wit_parse.c */
int wit__resolve(wit_doc_t *d);                                /* wit_resolve.c */

#endif
