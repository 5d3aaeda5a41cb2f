/*
 * The WIT parser: a document using every supported construct gives the
 * expected tree, the real plugin contract parses, malformed documents are
 * rejected with the right "file:line:col: message", printing is exact.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv_wit.h"

#define FIXTURE(name) HV_SOURCE_DIR "/tests/wit/" name

static hv_wit_doc_t *parse_ok(const char *src)
{
    hv_wit_doc_t *doc = NULL;
    char err[512];
    int rc = hv_wit_parse(src, strlen(src), "ok.wit", &doc, err, sizeof err);
    if (rc != HV_OK)
        print_error("unexpected error: %s\n", err);
    assert_int_equal(rc, HV_OK);
    return doc;
}

static const char *tstr(const hv_wit_type_t *t)
{
    static char buf[256];
    hv_wit_type_str(t, buf, sizeof buf);
    return buf;
}

static const hv_wit_type_t *iface_type(const hv_wit_interface_t *i, const char *name)
{
    for (size_t k = 0; k < i->ntypes; k++)
        if (i->types[k]->name && strcmp(i->types[k]->name, name) == 0)
            return i->types[k];
    fail_msg("type %s not in interface %s", name, i->name);
    return NULL;
}

static const hv_wit_field_t *field(const hv_wit_type_t *t, const char *name)
{
    for (size_t k = 0; k < t->nfields; k++)
        if (t->fields[k].name && strcmp(t->fields[k].name, name) == 0)
            return &t->fields[k];
    fail_msg("field %s not in %s", name, t->name);
    return NULL;
}

static void assert_names(const hv_wit_interface_t *const *list, size_t n, const char *const *want)
{
    size_t k = 0;
    for (; want[k] != NULL; k++) {
        assert_true(k < n);
        assert_string_equal(list[k]->name, want[k]);
    }
    assert_int_equal(n, k);
}

/* ---- the comprehensive document ---- */

static void check_types_iface(const hv_wit_doc_t *doc)
{
    const hv_wit_interface_t *ti = hv_wit_interface(doc, "types");
    assert_non_null(ti);
    assert_string_equal(ti->docs, "Basic types.\nSecond doc line.");
    /* alias-of-reading names reading's node, so it is listed once */
    static const char *const names[] = {"reading",  "sample", "bytes",   "celsius",
                                        "readings", "level",  "command", "caps"};
    assert_int_equal(ti->ntypes, 8);
    for (size_t k = 0; k < 8; k++) {
        assert_string_equal(ti->types[k]->name, names[k]);
        assert_string_equal(ti->types[k]->interface, "types");
    }

    const hv_wit_type_t *reading = iface_type(ti, "reading");
    const hv_wit_type_t *sample = iface_type(ti, "sample");
    assert_int_equal(reading->kind, HV_WIT_RECORD);
    assert_string_equal(reading->docs, "A reading.");
    assert_int_equal(reading->nfields, 18);
    static const hv_wit_kind_t kinds[] = {
        HV_WIT_F32, HV_WIT_F32,  HV_WIT_F64,    HV_WIT_F64,    HV_WIT_BOOL, HV_WIT_S8,
        HV_WIT_U8,  HV_WIT_S16,  HV_WIT_U16,    HV_WIT_S32,    HV_WIT_U32,  HV_WIT_S64,
        HV_WIT_U64, HV_WIT_CHAR, HV_WIT_STRING, HV_WIT_OPTION, HV_WIT_LIST, HV_WIT_TUPLE,
    };
    for (size_t k = 0; k < 18; k++) {
        assert_int_equal(reading->fields[k].type->kind, kinds[k]);
        if (k < 15)
            assert_null(reading->fields[k].type->name);
    }
    assert_string_equal(reading->fields[0].name, "temperature");
    assert_string_equal(reading->fields[0].docs, "Degrees.");
    assert_null(reading->fields[1].docs);
    assert_string_equal(tstr(field(reading, "type")->type), "option<string>");
    assert_ptr_equal(field(reading, "samples")->type->elem, sample);
    assert_string_equal(tstr(field(reading, "samples")->type), "list<sample>");
    assert_string_equal(tstr(field(reading, "pair")->type), "tuple<u8, string>");
    assert_int_equal(field(reading, "pair")->type->nfields, 2);
    assert_null(field(reading, "pair")->type->fields[0].name);
    assert_int_equal(sample->nfields, 2);
    assert_int_equal(field(sample, "t")->type->kind, HV_WIT_U64);

    const hv_wit_type_t *bytes = iface_type(ti, "bytes");
    assert_int_equal(bytes->kind, HV_WIT_LIST);
    assert_int_equal(bytes->elem->kind, HV_WIT_U8);
    assert_string_equal(tstr(bytes), "bytes");
    assert_int_equal(iface_type(ti, "celsius")->kind, HV_WIT_F32);
    assert_ptr_equal(iface_type(ti, "readings")->elem, reading);

    const hv_wit_type_t *level = iface_type(ti, "level");
    assert_int_equal(level->kind, HV_WIT_ENUM);
    assert_int_equal(level->nfields, 2);
    assert_string_equal(level->fields[1].name, "high");
    assert_null(level->fields[1].type);

    const hv_wit_type_t *cmd = iface_type(ti, "command");
    assert_int_equal(cmd->kind, HV_WIT_VARIANT);
    assert_int_equal(cmd->nfields, 4);
    assert_null(field(cmd, "stop")->type);
    assert_string_equal(field(cmd, "stop")->docs, "Stop everything.");
    assert_int_equal(field(cmd, "set")->type->kind, HV_WIT_U32);
    assert_ptr_equal(field(cmd, "blob")->type, bytes);

    const hv_wit_type_t *caps = iface_type(ti, "caps");
    assert_int_equal(caps->kind, HV_WIT_FLAGS);
    assert_int_equal(caps->nfields, 40);
    for (size_t k = 0; k < 40; k++) {
        char want[8];
        snprintf(want, sizeof want, "f%zu", k);
        assert_string_equal(caps->fields[k].name, want);
        assert_null(caps->fields[k].type);
    }

    assert_int_equal(ti->nfuncs, 8);
    assert_string_equal(tstr(hv_wit_func(ti, "r1")->result), "result");
    assert_null(hv_wit_func(ti, "r1")->result->elem);
    assert_null(hv_wit_func(ti, "r1")->result->err);
    assert_string_equal(tstr(hv_wit_func(ti, "r2")->result), "result<u32>");
    assert_null(hv_wit_func(ti, "r2")->result->err);
    assert_string_equal(tstr(hv_wit_func(ti, "r3")->result), "result<_, string>");
    assert_null(hv_wit_func(ti, "r3")->result->elem);
    assert_string_equal(tstr(hv_wit_func(ti, "r4")->result), "result<list<reading>, string>");
    const hv_wit_func_t *by_alias = hv_wit_func(ti, "by-alias");
    assert_ptr_equal(by_alias->params[0].type, reading);
    assert_string_equal(tstr(by_alias->result), "readings");
    const hv_wit_func_t *noop = hv_wit_func(ti, "noop");
    assert_string_equal(noop->docs, "Does nothing.");
    assert_int_equal(noop->nparams, 0);
    assert_null(noop->result);
    const hv_wit_func_t *use = hv_wit_func(ti, "use");
    assert_non_null(use);
    assert_int_equal(use->nparams, 2);
    assert_string_equal(tstr(use->params[1].type), "celsius");
    assert_string_equal(tstr(use->result), "tuple<celsius, bytes>");
    const hv_wit_func_t *c = hv_wit_func(ti, "cmd");
    assert_ptr_equal(c->params[2].type, caps);
    assert_string_equal(tstr(c->result), "option<option<u8>>");
    assert_null(hv_wit_func(ti, "nope"));
}

static void check_users(const hv_wit_doc_t *doc)
{
    const hv_wit_interface_t *ti = hv_wit_interface(doc, "types");
    const hv_wit_interface_t *host = hv_wit_interface(doc, "host");
    assert_non_null(host);
    assert_int_equal(host->ntypes, 3); /* used types are listed too */
    assert_ptr_equal(host->types[0], iface_type(ti, "reading"));
    assert_ptr_equal(host->types[1], iface_type(ti, "level"));
    assert_string_equal(host->types[1]->interface, "types");
    assert_ptr_equal(hv_wit_func(host, "log")->params[0].type, iface_type(ti, "level"));
    assert_string_equal(hv_wit_func(host, "log")->params[0].name, "level");
    assert_ptr_equal(hv_wit_func(host, "raw")->result, iface_type(ti, "bytes"));

    const hv_wit_interface_t *late = hv_wit_interface(doc, "late-user");
    const hv_wit_type_t *thing = hv_wit_func(late, "get")->result;
    assert_int_equal(thing->kind, HV_WIT_RECORD);
    assert_string_equal(thing->name, "thing");
    assert_string_equal(thing->interface, "later");
    assert_ptr_equal(thing, hv_wit_interface(doc, "later")->types[0]);
}

static void check_worlds(const hv_wit_doc_t *doc)
{
    assert_int_equal(doc->nworlds, 3);
    const hv_wit_world_t *base = hv_wit_world(doc, "base");
    assert_string_equal(base->docs, "The base world.");
    assert_names(base->imports, base->nimports, (const char *const[]){"host", NULL});
    assert_names(base->exports, base->nexports, (const char *const[]){"run", NULL});
    const hv_wit_interface_t *run = base->exports[0];
    assert_int_equal(run->nfuncs, 1);
    assert_string_equal(run->funcs[0].name, "run");
    assert_string_equal(tstr(run->funcs[0].params[0].type), "list<string>");
    assert_string_equal(tstr(run->funcs[0].result), "result<_, string>");

    const hv_wit_world_t *full = hv_wit_world(doc, "full");
    assert_names(full->imports, full->nimports,
                 (const char *const[]){"host", "types", "later", "clock", NULL});
    assert_names(full->exports, full->nexports,
                 (const char *const[]){"run", "late-user", "handle", NULL});
    assert_ptr_equal(full->imports[0], hv_wit_interface(doc, "host"));
    assert_ptr_equal(full->exports[0], run); /* merged, not copied */
    const hv_wit_interface_t *clock = full->imports[3];
    assert_string_equal(clock->docs, "Inline clock.");
    assert_int_equal(clock->nfuncs, 1);
    assert_int_equal(hv_wit_func(clock, "now")->result->kind, HV_WIT_U64);
    assert_null(hv_wit_interface(doc, "clock")); /* inline: not a document interface */
    const hv_wit_func_t *handle = hv_wit_func(full->exports[2], "handle");
    assert_ptr_equal(handle->params[0].type, iface_type(hv_wit_interface(doc, "types"), "reading"));
    assert_int_equal(handle->params[1].type->kind, HV_WIT_U32);
    assert_string_equal(handle->params[1].type->name, "local");
    assert_string_equal(handle->params[1].type->interface, "full");
    assert_int_equal(handle->result->kind, HV_WIT_BOOL);

    const hv_wit_world_t *empty = hv_wit_world(doc, "empty");
    assert_int_equal(empty->nimports, 0);
    assert_int_equal(empty->nexports, 0);
    assert_null(hv_wit_world(doc, "nope"));
}

static void test_full_document(void **state)
{
    (void)state;
    hv_wit_doc_t *doc = NULL;
    char err[512] = "";
    int rc = hv_wit_parse_file(FIXTURE("full.wit"), &doc, err, sizeof err);
    if (rc != HV_OK)
        print_error("%s\n", err);
    assert_int_equal(rc, HV_OK);
    assert_string_equal(doc->filename, FIXTURE("full.wit"));
    assert_string_equal(doc->package_ns, "test");
    assert_string_equal(doc->package_name, "full");
    assert_string_equal(doc->package_version, "1.2.3-rc.1+build.5");
    assert_names(doc->interfaces, doc->ninterfaces,
                 (const char *const[]){"types", "host", "late-user", "later", NULL});
    check_types_iface(doc);
    check_users(doc);
    check_worlds(doc);
    FILE *null = fopen("/dev/null", "w");
    assert_int_equal(hv_wit_print(null, doc), 0);
    fclose(null);
    hv_wit_free(doc);
}

static void test_no_package_and_empty(void **state)
{
    (void)state;
    hv_wit_doc_t *doc = parse_ok("interface i { f: func(); }");
    assert_null(doc->package_ns);
    assert_null(doc->package_name);
    assert_null(doc->package_version);
    assert_int_equal(doc->ninterfaces, 1);
    hv_wit_free(doc);
    doc = parse_ok("package a:b; // only a comment\n");
    assert_string_equal(doc->package_name, "b");
    assert_null(doc->package_version);
    assert_int_equal(doc->ninterfaces + doc->nworlds, 0);
    hv_wit_free(doc);
    doc = parse_ok("");
    hv_wit_free(doc);
    hv_wit_free(NULL);
}

static void test_lexical_details(void **state)
{
    (void)state;
    /* byte order mark, CRLF, empty doc lines, `////` is a plain comment */
    hv_wit_doc_t *doc = parse_ok("\xef\xbb\xbfinterface i {\r\n"
                                 "  //// not documentation\r\n"
                                 "  /// Doc\r\n"
                                 "  ///\r\n"
                                 "  ///more\r\n"
                                 "  f: func();\r\n"
                                 "  /// dropped: nothing follows\r\n"
                                 "}\r\n");
    assert_string_equal(doc->interfaces[0]->funcs[0].docs, "Doc\n\nmore");
    assert_null(doc->interfaces[0]->docs);
    hv_wit_free(doc);

    char err[256];
    assert_int_equal(
        hv_wit_parse("interface i {\r\n  f: nope;\r\n}", 28, "crlf.wit", &doc, err, sizeof err),
        HV_EINVAL);
    assert_string_equal(err, "crlf.wit:2:6: expected 'func', found 'nope'");
}

/* ---- the real contract ---- */

static void test_plugin_contract(void **state)
{
    (void)state;
    hv_wit_doc_t *doc = NULL;
    char err[512] = "";
    int rc = hv_wit_parse_file(HV_SOURCE_DIR "/wit/plugin.wit", &doc, err, sizeof err);
    if (rc != HV_OK)
        print_error("%s\n", err);
    assert_int_equal(rc, HV_OK);
    assert_string_equal(doc->package_ns, "harvester");
    assert_string_equal(doc->package_name, "plugin");
    static const char *const worlds[] = {"dht22-plugin",     "bme680-plugin", "pi-monitor-plugin",
                                         "dashboard-plugin", "oled-plugin",   "sensor-plugin"};
    for (size_t k = 0; k < sizeof worlds / sizeof worlds[0]; k++) {
        const hv_wit_world_t *w = hv_wit_world(doc, worlds[k]);
        if (w == NULL)
            fail_msg("world %s missing", worlds[k]);
        assert_true(w->nexports >= 1);
    }
    assert_int_equal(hv_wit_world(doc, "dashboard-plugin")->nimports, 0);
    FILE *null = fopen("/dev/null", "w");
    assert_int_equal(hv_wit_print(null, doc), 0);
    fclose(null);
    hv_wit_free(doc);
}

/* ---- malformed documents ---- */

typedef struct {
    const char *src;
    const char *where; /* "line:col" */
    const char *phrase;
} bad_t;

static const bad_t bad[] = {
    /* syntax */
    {"interface i {\n  f: func()\n}\n", "3:1", "expected ';', found '}'"},
    {"interface i {\n  f: func(x: list<u8);\n}", "2:21", "expected '>', found ')'"},
    {"interface i { $ }", "1:15", "unexpected character '$'"},
    {"interface i {}\n/* open /* nested */\n", "2:1", "unterminated block comment"},
    {"interface i {\n  record r { a: u8,", "2:20", "expected a name, found end of file"},
    {"interface i {", "1:14", "found end of file"},
    {"interface i { \"abc }", "1:15", "unterminated string"},
    {"foo", "1:1", "expected 'package', 'interface' or 'world', found 'foo'"},
    {"interface i { f: func() -> result<_>; }", "1:36", "expected ',', found '>'"},
    {"interface i { f: func() -> tuple<>; }", "1:34", "expected a type, found '>'"},
    {"interface i { f: func(type: u8); }", "1:23", "found keyword 'type'"},
    {"package a:b@1.0;", "1:13", "expected a version (e.g. 1.0.0), found '1.0'"},
    {"interface i { record r { a: u8 b: u8 } }", "1:32", "expected ',' or '}', found 'b'"},
    {"interface i { f: func() -> u8 }", "1:31", "expected ';', found '}'"},
    {"interface i {\n\x01}", "2:1", "unexpected byte 0x01"},
    /* names */
    {"interface Foo {}", "1:11", "'Foo' is not a valid name"},
    {"interface i { a--b: func(); }", "1:15", "'a--b' is not a valid name"},
    {"interface i { record r { -a: u8 } }", "1:26", "'-a' is not a valid name"},
    {"interface i { f: func(1a: u8); }", "1:23", "'1a' is not a valid name"},
    {"interface i { a_b: func(); }", "1:15", "'a_b' is not a valid name"},
    /* semantics */
    {"interface i {\n  f: func(x: nope);\n}", "2:14", "unknown type 'nope'"},
    {"interface i { record r { a: u8, a: u16 } }", "1:33", "duplicate field 'a'"},
    {"interface i { f: func();\n f: func(); }", "2:2",
     "duplicate function 'f' (first defined at 1:15)"},
    {"interface i { type t = u8; record t { a: u8 } }", "1:35", "duplicate type 't'"},
    {"interface i { variant v { a, b(u8), a } }", "1:37", "duplicate case 'a'"},
    {"interface i { enum e { a, a } }", "1:27", "duplicate case 'a'"},
    {"interface i { flags f { a, a } }", "1:28", "duplicate flag 'a'"},
    {"interface i { f: func(a: u8, a: u8); }", "1:30", "duplicate parameter 'a'"},
    {"interface i { f: func(); type f = u8; }", "1:31", "duplicate type 'f'"},
    {"interface i {}\nworld i {}", "2:7", "duplicate world 'i' (first defined at 1:11)"},
    {"interface i {}\ninterface i {}", "2:11", "duplicate interface 'i'"},
    {"interface i { record a { b: b }\n record b { a: list<a> } }", "1:22",
     "type 'a' is recursive"},
    {"interface i { type a = b; type b = a; }", "1:24", "type 'b' is recursive"},
    {"interface i { type a = option<a>; }", "1:20", "type 'a' is recursive"},
    {"interface i { resource r; }", "1:15", "resources are not supported"},
    {"interface i { f: func(x: own<r>); }", "1:26", "resources are not supported"},
    {"interface i { f: func(x: borrow<r>); }", "1:26", "resources are not supported"},
    {"interface i { constructor(); }", "1:15", "resources are not supported"},
    {"interface i { f: func() -> future<u8>; }", "1:28",
     "future and stream types are not supported"},
    {"interface i { f: async func(); }", "1:18", "async functions are not supported"},
    {"interface i { f: func() -> (a: u32); }", "1:28", "named function results are not supported"},
    {"package a:b;\ninterface i { use wasi:io/streams.{s}; }", "2:19",
     "foreign package 'wasi:io' is not supported"},
    {"package a:b@1.0.0;\nworld w { import a:b/i@2.0.0; }\ninterface i {}", "2:18",
     "foreign package 'a:b@2.0.0' is not supported"},
    {"world w { import a:b/i; }\ninterface i {}", "1:18", "foreign package 'a:b'"},
    {"world w {\n  import nope;\n}", "2:10", "unknown interface 'nope'"},
    {"world w { export nope; }\nworld nope {}", "1:18", "unknown interface 'nope'"},
    {"world w { include nope; }", "1:19", "unknown world 'nope'"},
    {"world a { include b; }\nworld b { include a; }", "2:19", "world 'a' includes itself"},
    {"interface i {}\nworld w { import i; import i; }", "2:28",
     "duplicate import 'i' in world 'w'"},
    {"interface i { enum e {} }", "1:23", "enum 'e' is empty"},
    {"interface i { record r {} }", "1:25", "record 'r' is empty"},
    {"interface i { flags f {\n} }", "2:1", "flags 'f' is empty"},
    {"interface i { variant v { } }", "1:27", "variant 'v' is empty"},
    {"package a:b;\npackage c:d;", "2:1", "duplicate package declaration"},
    {"interface i {}\npackage c:d;", "2:1", "must come before any interface or world"},
    {"interface i {\n\0}", "2:1", "unexpected NUL byte"},
    {"interface i { use other.{x}; }", "1:19", "unknown interface 'other'"},
    {"interface o { type y = u8; }\ninterface i { use o.{x}; }", "2:22",
     "interface 'o' has no type 'x'"},
    {"interface i { f: func(); g: func(x: f); }", "1:37", "'f' is a function, not a type"},
    {"interface i { use i.{t}; }", "1:22", "type 't' is recursive"},
    {"interface i { type t = u8; use i.{t}; }", "1:35", "duplicate type 't'"},
    {"interface i { f: func(x: string); }\nworld w { import i: func(); include v; }\n"
     "world v { import i; }",
     "2:37", "two different imports named 'i'"},
};

static void test_bad_documents(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const bad_t *b = &bad[k];
        /* one case has an embedded NUL: its length runs to the last '}' */
        size_t len = strlen(b->src);
        if (strstr(b->phrase, "NUL") != NULL)
            len = sizeof "interface i {\n\0}" - 1;
        hv_wit_doc_t *doc = (hv_wit_doc_t *)0x1;
        char err[512] = "";
        int rc = hv_wit_parse(b->src, len, "bad.wit", &doc, err, sizeof err);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "bad.wit:%s: ", b->where);
        if (rc != HV_EINVAL || strncmp(err, prefix, strlen(prefix)) != 0 ||
            strstr(err, b->phrase) == NULL)
            fail_msg("case %zu: rc %d, got \"%s\", want \"%s...%s\"", k, rc, err, prefix,
                     b->phrase);
        assert_ptr_equal(doc, (hv_wit_doc_t *)0x1); /* untouched */
    }
}

static void test_limits(void **state)
{
    (void)state;
    /* nesting deeper than the limit */
    char src[8192];
    size_t n = (size_t)snprintf(src, sizeof src, "interface i { type t = ");
    for (int k = 0; k < 150; k++)
        n += (size_t)snprintf(src + n, sizeof src - n, "list<");
    n += (size_t)snprintf(src + n, sizeof src - n, "u8");
    for (int k = 0; k < 150; k++)
        src[n++] = '>';
    n += (size_t)snprintf(src + n, sizeof src - n, "; }");
    hv_wit_doc_t *doc = NULL;
    char err[256];
    assert_int_equal(hv_wit_parse(src, n, "deep.wit", &doc, err, sizeof err), HV_EINVAL);
    assert_non_null(strstr(err, "type nesting is too deep"));
    assert_null(doc);

    /* nesting through named types is bounded too */
    n = (size_t)snprintf(src, sizeof src, "interface i { type t0 = list<u8>;");
    for (int k = 1; k <= 120; k++)
        n += (size_t)snprintf(src + n, sizeof src - n, " type t%d = list<t%d>;", k, k - 1);
    n += (size_t)snprintf(src + n, sizeof src - n, " }");
    assert_int_equal(hv_wit_parse(src, n, "deep.wit", &doc, err, sizeof err), HV_EINVAL);
    assert_non_null(strstr(err, "type nesting is too deep"));

    /* size cap */
    size_t big = HV_WIT_MAX_SOURCE + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    assert_int_equal(hv_wit_parse(huge, big, "big.wit", &doc, err, sizeof err), HV_ETOOBIG);
    assert_non_null(strstr(err, "big.wit:1:1: source is too large"));
    assert_int_equal(hv_wit_parse(huge, big - 1, "big.wit", &doc, err, sizeof err), HV_OK);
    hv_wit_free(doc);
    free(huge);

    /* no error buffer at all */
    assert_int_equal(hv_wit_parse("x", 1, NULL, &doc, NULL, 0), HV_EINVAL);
}

static void test_missing_file(void **state)
{
    (void)state;
    hv_wit_doc_t *doc = NULL;
    char err[256] = "";
    assert_int_equal(hv_wit_parse_file("/nonexistent/dir/plugin.wit", &doc, err, sizeof err),
                     HV_ENOENT);
    assert_null(doc);
    assert_non_null(strstr(err, "/nonexistent/dir/plugin.wit: "));
    assert_non_null(strstr(err, "No such file"));
}

/* ---- output ---- */

static void test_type_str(void **state)
{
    (void)state;
    hv_wit_doc_t *doc = parse_ok("interface i { f: func() -> result<tuple<f32, f32>, string>; }");
    const hv_wit_type_t *t = doc->interfaces[0]->funcs[0].result;
    char buf[8];
    assert_int_equal(hv_wit_type_str(t, buf, sizeof buf),
                     strlen("result<tuple<f32, f32>, string>"));
    assert_string_equal(buf, "result<");
    assert_int_equal(hv_wit_type_str(t, NULL, 0), 31);
    hv_wit_free(doc);
}

static void test_print(void **state)
{
    (void)state;
    hv_wit_doc_t *doc = parse_ok("package t:p;\n"
                                 "interface host {\n"
                                 "  enum level { debug, info }\n"
                                 "  record entry { level: level, text: string, tags: list<tag> }\n"
                                 "  type tag = string;\n"
                                 "  variant mode { all, some(u32) }\n"
                                 "  log: func(e: entry) -> result<_, string>;\n"
                                 "  flush: func(m: mode, n: option<tag>);\n"
                                 "  now: func() -> u64;\n"
                                 "}\n"
                                 "world small {\n"
                                 "  import host;\n"
                                 "  export run: func(args: list<string>) -> option<u32>;\n"
                                 "}\n"
                                 "world none {}\n");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(hv_wit_print(out, doc), 0);
    fclose(out);
    assert_string_equal(text, "world small\n"
                              "  import host\n"
                              "    log: func(e: entry) -> result<_, string>\n"
                              "    flush: func(m: mode, n: option<tag>)\n"
                              "    now: func() -> u64\n"
                              "    record entry {\n"
                              "      level: level,\n"
                              "      text: string,\n"
                              "      tags: list<tag>,\n"
                              "    }\n"
                              "    enum level {\n"
                              "      debug,\n"
                              "      info,\n"
                              "    }\n"
                              "    type tag = string\n"
                              "    variant mode {\n"
                              "      all,\n"
                              "      some(u32),\n"
                              "    }\n"
                              "  export run\n"
                              "    run: func(args: list<string>) -> option<u32>\n"
                              "\n"
                              "world none\n");
    free(text);
    hv_wit_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_document),   cmocka_unit_test(test_no_package_and_empty),
        cmocka_unit_test(test_lexical_details), cmocka_unit_test(test_plugin_contract),
        cmocka_unit_test(test_bad_documents),   cmocka_unit_test(test_limits),
        cmocka_unit_test(test_missing_file),    cmocka_unit_test(test_type_str),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
