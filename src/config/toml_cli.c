/*
 * `harvester toml2json`: the toml-test decoder interface. TOML on stdin,
 * tagged JSON on stdout; invalid input gives the error on stderr and exit
 * status 1.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hv_toml.h"

/* All of stdin, up to one byte past the size limit so hv_toml_parse can
 * refuse it with its own message. NULL when out of memory. */
static char *read_stdin(size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n == cap) {
            char *grown = realloc(buf, cap * 2);
            if (grown == NULL)
                break;
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0 || n > HV_TOML_MAX_SOURCE) {
            *len = n;
            return buf;
        }
    }
    free(buf);
    return NULL;
}

int hv_toml_cli_toml2json(void)
{
    size_t len = 0;
    char *text = read_stdin(&len);
    if (text == NULL || ferror(stdin)) {
        fprintf(stderr, "toml2json: %s\n", text ? "cannot read stdin" : "out of memory");
        free(text);
        return 1;
    }
    hv_toml_doc_t *doc = NULL;
    char err[512];
    int rc = hv_toml_parse(text, len, "<stdin>", &doc, err, sizeof err);
    free(text);
    if (rc != HV_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    rc = hv_toml_write_tagged_json(stdout, hv_toml_root(doc));
    hv_toml_free(doc);
    if (rc < 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "toml2json: cannot write stdout\n");
        return 1;
    }
    return 0;
}
