/*
 * WIT lexer: bytes -> tokens, one at a time on the parser's demand.
 *
 * Comments are skipped here, but `///` lines are collected and handed to
 * the next token, which is how doc comments reach the item they precede.
 * Names are lexed greedily as runs of [A-Za-z0-9_-] so that `foo_bar` or
 * `1a` come out as one (invalid) name the parser can point at, instead of
 * a confusing sequence of pieces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wit_impl.h"

static const char *const keywords[] = {NULL,
#define WIT__KW_TEXT(name, text) text,
                                       WIT_KEYWORDS(WIT__KW_TEXT)
#undef WIT__KW_TEXT
};

const char *wit__kw_text(wit_kw_t kw)
{
    return keywords[kw];
}

static wit_kw_t keyword(const char *s, size_t n)
{
    for (size_t k = 1; k < sizeof keywords / sizeof keywords[0]; k++)
        if (strlen(keywords[k]) == n && memcmp(keywords[k], s, n) == 0)
            return (wit_kw_t)k;
    return WIT_KW_NONE;
}

bool wit__is_keyword(const char *name)
{
    return keyword(name, strlen(name)) != WIT_KW_NONE;
}

void wit__lex_init(wit_lexer_t *lx, wit_doc_t *d, const char *src, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->doc = d;
    lx->src = src;
    lx->len = len;
    lx->pos.line = 1;
    lx->pos.col = 1;
    /* editors on some systems start UTF-8 files with a byte order mark */
    if (len >= 3 && memcmp(src, "\xef\xbb\xbf", 3) == 0)
        lx->off = 3;
}

void wit__lex_done(wit_lexer_t *lx)
{
    free(lx->docbuf);
    lx->docbuf = NULL;
}

static int peek(const wit_lexer_t *lx, size_t ahead)
{
    return lx->off + ahead < lx->len ? (unsigned char)lx->src[lx->off + ahead] : -1;
}

static void bump(wit_lexer_t *lx)
{
    if (lx->src[lx->off++] == '\n') {
        lx->pos.line++;
        lx->pos.col = 1;
    } else {
        lx->pos.col++;
    }
}

static bool is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}
static bool is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}
static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}
static bool is_alnum(int c)
{
    return is_lower(c) || is_upper(c) || is_digit(c);
}
static bool is_name_char(int c)
{
    return is_alnum(c) || c == '-' || c == '_';
}

/* kebab-case: words joined by single '-'; a word starts with a letter and
 * is all lowercase or all uppercase (acronyms), digits allowed after. */
static bool valid_kebab(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0)
        return false;
    while (i < n) {
        bool upper = is_upper(s[i]);
        if (!upper && !is_lower(s[i]))
            return false;
        for (i++; i < n && s[i] != '-'; i++)
            if (!is_digit(s[i]) && !(upper ? is_upper(s[i]) : is_lower(s[i])))
                return false;
        if (i < n && ++i == n)
            return false; /* trailing '-' */
    }
    return true;
}

/* Appends one `///` line (text after the slashes) to the pending docs. */
static int add_doc(wit_lexer_t *lx, const char *s, size_t n)
{
    if (n > 0 && s[0] == ' ')
        s++, n--;
    if (n > 0 && s[n - 1] == '\r')
        n--;
    size_t need = lx->doclen + n + 2;
    if (need > lx->doccap) {
        size_t cap = lx->doccap ? lx->doccap : 128;
        while (cap < need)
            cap *= 2;
        char *b = realloc(lx->docbuf, cap);
        if (b == NULL)
            return wit__oom(lx->doc);
        lx->docbuf = b;
        lx->doccap = cap;
    }
    if (lx->has_docs)
        lx->docbuf[lx->doclen++] = '\n';
    memcpy(lx->docbuf + lx->doclen, s, n);
    lx->doclen += n;
    lx->has_docs = true;
    return 0;
}

static int skip_block_comment(wit_lexer_t *lx)
{
    wit_pos_t start = lx->pos;
    int depth = 0;
    do {
        if (lx->off >= lx->len)
            return wit__err(lx->doc, start, "unterminated block comment");
        if (peek(lx, 0) == '/' && peek(lx, 1) == '*') {
            bump(lx);
            depth++;
        } else if (peek(lx, 0) == '*' && peek(lx, 1) == '/') {
            bump(lx);
            depth--;
        }
        bump(lx);
    } while (depth > 0);
    return 0;
}

static int skip_space(wit_lexer_t *lx)
{
    for (;;) {
        int c = peek(lx, 0);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            bump(lx);
        } else if (c == '/' && peek(lx, 1) == '/') {
            /* `///` is documentation, `////...` a plain comment as in Rust */
            bool doc = peek(lx, 2) == '/' && peek(lx, 3) != '/';
            size_t start = lx->off + 3;
            while (lx->off < lx->len && lx->src[lx->off] != '\n')
                bump(lx);
            if (doc)
                WIT_TRY(add_doc(lx, lx->src + start, lx->off - start));
        } else if (c == '/' && peek(lx, 1) == '*') {
            WIT_TRY(skip_block_comment(lx));
        } else {
            return 0;
        }
    }
}

static int take_docs(wit_lexer_t *lx, wit_tok_t *tok)
{
    tok->docs = NULL;
    if (!lx->has_docs)
        return 0;
    char *docs = wit__strndup(&lx->doc->arena, lx->docbuf ? lx->docbuf : "", lx->doclen);
    if (docs == NULL)
        return wit__oom(lx->doc);
    tok->docs = docs;
    lx->doclen = 0;
    lx->has_docs = false;
    return 0;
}

static void lex_name(wit_lexer_t *lx, wit_tok_t *tok)
{
    if (peek(lx, 0) == '%') {
        tok->escaped = true;
        bump(lx);
    }
    /* stop before `->` so `x->` never swallows the arrow */
    while (is_name_char(peek(lx, 0)) && !(peek(lx, 0) == '-' && peek(lx, 1) == '>'))
        bump(lx);
    tok->len = (size_t)(lx->src + lx->off - tok->text);
    const char *name = tok->text + tok->escaped;
    size_t n = tok->len - tok->escaped;
    if (!tok->escaped && n == 1 && name[0] == '_') {
        tok->kind = WIT_T_UNDERSCORE;
        return;
    }
    tok->kind = WIT_T_ID;
    tok->valid = valid_kebab(name, n);
    tok->kw = tok->escaped ? WIT_KW_NONE : keyword(name, n);
}

static int lex_string(wit_lexer_t *lx, wit_tok_t *tok)
{
    bump(lx);
    for (;;) {
        int c = peek(lx, 0);
        if (c < 0 || c == '\n')
            return wit__err(lx->doc, tok->pos, "unterminated string");
        bump(lx);
        if (c == '\\' && peek(lx, 0) >= 0 && peek(lx, 0) != '\n')
            bump(lx);
        else if (c == '"')
            break;
    }
    tok->kind = WIT_T_STRING;
    tok->len = (size_t)(lx->src + lx->off - tok->text);
    return 0;
}

/* Single-character tokens. */
static const char punct_chars[] = "{}()<>,;:.=@/";
static const wit_tok_kind_t punct_kinds[] = {
    WIT_T_LBRACE, WIT_T_RBRACE, WIT_T_LPAREN, WIT_T_RPAREN, WIT_T_LT, WIT_T_GT,    WIT_T_COMMA,
    WIT_T_SEMI,   WIT_T_COLON,  WIT_T_DOT,    WIT_T_EQ,     WIT_T_AT, WIT_T_SLASH,
};

int wit__lex_next(wit_lexer_t *lx, wit_tok_t *tok)
{
    WIT_TRY(skip_space(lx));
    memset(tok, 0, sizeof *tok);
    WIT_TRY(take_docs(lx, tok));
    tok->pos = lx->pos;
    tok->text = lx->src + lx->off;
    tok->len = 1;
    int c = peek(lx, 0);
    const char *punct = c > 0 ? strchr(punct_chars, c) : NULL;
    if (c < 0) {
        tok->kind = WIT_T_EOF;
        tok->len = 0;
    } else if (punct != NULL) {
        tok->kind = punct_kinds[punct - punct_chars];
        bump(lx);
    } else if (c == '-' && peek(lx, 1) == '>') {
        tok->kind = WIT_T_ARROW;
        tok->len = 2;
        bump(lx);
        bump(lx);
    } else if (c == '"') {
        return lex_string(lx, tok);
    } else if (is_name_char(c) || c == '%') {
        lex_name(lx, tok);
    } else if (c >= 0x20 && c < 0x7f) {
        return wit__err(lx->doc, tok->pos, "unexpected character '%c'", c);
    } else {
        return wit__err(lx->doc, tok->pos, "unexpected byte 0x%02x", (unsigned)c);
    }
    return 0;
}

/* Scans [0-9A-Za-z-]+ and returns its length (a semver identifier). */
static size_t ident_len(const wit_lexer_t *lx, size_t at)
{
    size_t n = 0;
    while (at + n < lx->len && (is_alnum((unsigned char)lx->src[at + n]) || lx->src[at + n] == '-'))
        n++;
    return n;
}

static size_t digits_len(const wit_lexer_t *lx, size_t at)
{
    size_t n = 0;
    while (at + n < lx->len && is_digit((unsigned char)lx->src[at + n]))
        n++;
    return n;
}

/* Length of a semver at lx->off (MAJOR.MINOR.PATCH[-pre][+build]); 0 if
 * there is none. A '.' not followed by an identifier is left alone, so
 * `iface@1.0.0.{a}` works. */
static size_t semver_len(const wit_lexer_t *lx)
{
    size_t at = lx->off, n;
    for (int part = 0; part < 3; part++) {
        if (part > 0) {
            if (at >= lx->len || lx->src[at] != '.')
                return 0;
            at++;
        }
        if ((n = digits_len(lx, at)) == 0)
            return 0;
        at += n;
    }
    for (int sep = 0; sep < 2; sep++) {
        if (at >= lx->len || lx->src[at] != (sep == 0 ? '-' : '+'))
            continue;
        if ((n = ident_len(lx, at + 1)) == 0)
            return 0;
        at += 1 + n;
        while (at < lx->len && lx->src[at] == '.' && (n = ident_len(lx, at + 1)) > 0)
            at += 1 + n;
    }
    return at - lx->off;
}

int wit__lex_version(wit_lexer_t *lx, wit_tok_t *tok)
{
    size_t n = semver_len(lx);
    memset(tok, 0, sizeof *tok);
    tok->pos = lx->pos;
    tok->text = lx->src + lx->off;
    if (n == 0) {
        size_t bad = 0;
        while (lx->off + bad < lx->len && bad < 32 &&
               (is_name_char((unsigned char)lx->src[lx->off + bad]) ||
                lx->src[lx->off + bad] == '.' || lx->src[lx->off + bad] == '+'))
            bad++;
        if (bad == 0) {
            wit_tok_t next;
            WIT_TRY(wit__lex_next(lx, &next));
            char found[64];
            wit__tok_desc(&next, found, sizeof found);
            return wit__err(lx->doc, next.pos,
                            "expected a version (e.g. 1.0.0) after '@', found %s", found);
        }
        return wit__err(lx->doc, tok->pos, "expected a version (e.g. 1.0.0), found '%.*s'",
                        (int)bad, tok->text);
    }
    for (size_t i = 0; i < n; i++)
        bump(lx);
    tok->kind = WIT_T_VERSION;
    tok->len = n;
    return 0;
}

void wit__tok_desc(const wit_tok_t *tok, char *buf, size_t n)
{
    if (tok->kind == WIT_T_EOF) {
        snprintf(buf, n, "end of file");
        return;
    }
    size_t o = 0, i;
    buf[o++] = '\'';
    for (i = 0; i < tok->len && o + 8 < n; i++) {
        unsigned char c = (unsigned char)tok->text[i];
        if (c >= 0x20 && c < 0x7f)
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
    }
    if (i < tok->len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '\'';
    buf[o] = '\0';
}
