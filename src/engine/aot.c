/*
 * .wasm -> wasm2c -> split C -> cc -> shared object, cached by content hash.
 *
 * wasm2c 1.0.32 writes one C file (58 MB for CPython). One gcc on that takes
 * 3 min and 3.5 GB; split into parts it compiles in parallel at < 700 MB
 * each. The split turns the module's static functions into hidden ones so
 * every part can call every other.
 */
#define _GNU_SOURCE
#include "aot.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv_error.h"

extern char **environ;

/* Bump when the split, flags or glue change so stale objects are rebuilt. */
#define AOT_FORMAT 5
#define AOT_MAX_PARTS 64

/* LTO recovers the cross-part inlining the split loses: measured 10% faster
 * Python (bench/cpu.py 1.20 s -> 1.09 s) for 92 s instead of 47 s, once. */
static const char *cc_flags[] = {"-O2",    "-flto=auto", "-ffat-lto-objects", "-fPIC",
                                 "-fvisibility=hidden", "-fno-strict-aliasing", "-w", NULL};

void hv_aot_hash_hex(const void *data, size_t len, uint64_t salt, char out[33])
{
    /* Two independent 64-bit FNV-1a lanes: a cache key, not a MAC. */
    const unsigned char *p = data;
    uint64_t a = 0xcbf29ce484222325ULL ^ salt, b = 0x84222325cbf29ce4ULL ^ (salt * 31 + 7);
    for (size_t i = 0; i < len; i++) {
        a = (a ^ p[i]) * 0x100000001b3ULL;
        b = (b ^ p[i] ^ (uint8_t)(i >> 8)) * 0x100000001b3ULL;
    }
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

static int read_file(const char *path, char **ret_buf, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return errno == ENOENT ? HV_ENOENT : HV_EIO;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            char *nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return HV_ENOMEM;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return HV_EIO;
    }
    buf[len] = '\0';
    *ret_buf = buf;
    *ret_len = len;
    return HV_OK;
}

/* ---- splitting ------------------------------------------------------- */

typedef struct {
    const char *s;
    size_t n; /* without the newline */
} line_t;

static int starts(const line_t *l, const char *p)
{
    size_t k = strlen(p);
    return l->n >= k && memcmp(l->s, p, k) == 0;
}

static int ends(const line_t *l, const char *p)
{
    size_t k = strlen(p);
    return l->n >= k && memcmp(l->s + l->n - k, p, k) == 0;
}

static int contains(const line_t *l, const char *p)
{
    return memmem(l->s, l->n, p, strlen(p)) != NULL;
}

/* Definitions may wrap their parameter list over several lines. */
static int is_fn_def(const line_t *l)
{
    return starts(l, "static ") && contains(l, " w2c_") && contains(l, "(") && !ends(l, ";");
}

static int is_fn_decl(const line_t *l)
{
    return starts(l, "static ") && contains(l, " w2c_") && ends(l, ");");
}

typedef struct {
    size_t first, last; /* line range, inclusive */
    size_t bytes;
    int part;
} fn_t;

static void put_line(FILE *f, const line_t *l, size_t skip)
{
    fwrite(l->s + skip, 1, l->n - skip, f);
    fputc('\n', f);
}

static int cmp_fn_size(const void *a, const void *b)
{
    const fn_t *x = *(fn_t *const *)a, *y = *(fn_t *const *)b;
    return (x->bytes < y->bytes) - (x->bytes > y->bytes);
}

int hv_aot_split(const char *c_path, const char *out_prefix, int nparts)
{
    char *buf;
    size_t len;
    int rc = read_file(c_path, &buf, &len);
    if (rc != HV_OK)
        return rc;
    if (nparts < 1 || nparts > AOT_MAX_PARTS) {
        free(buf);
        return HV_EINVAL;
    }
    size_t nlines = 0, cap = 1 << 16;
    line_t *lines = malloc(cap * sizeof *lines);
    fn_t *fns = NULL;
    fn_t **order = NULL;
    FILE *out[AOT_MAX_PARTS] = {0};
    if (lines == NULL) {
        rc = HV_ENOMEM;
        goto out_free;
    }
    for (char *p = buf; p < buf + len;) {
        char *nl = memchr(p, '\n', (size_t)(buf + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
        if (nlines == cap) {
            line_t *nb = realloc(lines, (cap *= 2) * sizeof *lines);
            if (nb == NULL) {
                rc = HV_ENOMEM;
                goto out_free;
            }
            lines = nb;
        }
        lines[nlines++] = (line_t){p, n};
        p += n + 1;
    }

    /* preamble [0, cut) | data and init [cut, first) | functions + tail */
    size_t first = 0, cut = 0;
    while (first < nlines && !is_fn_def(&lines[first]))
        first++;
    for (size_t i = 0; i < first; i++)
        if (is_fn_decl(&lines[i]))
            cut = i + 1;
    if (first == nlines || cut == 0) {
        rc = HV_EINVAL;
        goto out_free;
    }

    size_t nfns = 0;
    fns = calloc(nlines - first, sizeof *fns);
    if (fns == NULL) {
        rc = HV_ENOMEM;
        goto out_free;
    }
    for (size_t i = first; i < nlines; i++) {
        if (!is_fn_def(&lines[i]))
            continue;
        size_t j = i;
        while (j < nlines && !(lines[j].n == 1 && lines[j].s[0] == '}'))
            j++;
        if (j == nlines) {
            rc = HV_EINVAL;
            goto out_free;
        }
        fns[nfns] = (fn_t){i, j, (size_t)(lines[j].s - lines[i].s), 0};
        nfns++;
        i = j;
    }

    /* Largest first onto the lightest part: parts end up within a few %. */
    order = malloc(nfns * sizeof *order);
    if (order == NULL) {
        rc = HV_ENOMEM;
        goto out_free;
    }
    for (size_t i = 0; i < nfns; i++)
        order[i] = &fns[i];
    qsort(order, nfns, sizeof *order, cmp_fn_size);
    size_t load[AOT_MAX_PARTS] = {0};
    load[0] = (size_t)(lines[first].s - lines[cut].s); /* data goes to part 0 */
    for (size_t i = 0; i < nfns; i++) {
        int best = 0;
        for (int k = 1; k < nparts; k++)
            if (load[k] < load[best])
                best = k;
        order[i]->part = best;
        load[best] += order[i]->bytes;
    }

    for (int k = 0; k < nparts; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%d.c", out_prefix, k);
        out[k] = fopen(path, "w");
        if (out[k] == NULL) {
            rc = HV_EIO;
            goto out_free;
        }
        for (size_t i = 0; i < cut; i++) {
            const line_t *l = &lines[i];
            if (starts(l, "static u32 func_types[")) {
                fputs(k == 0 ? "" : "extern ", out[k]);
                put_line(out[k], l, 7);
            } else {
                put_line(out[k], l, is_fn_decl(l) ? 7 : 0);
            }
        }
        if (k == 0)
            for (size_t i = cut; i < first; i++)
                put_line(out[k], &lines[i], 0);
    }
    size_t f = 0;
    for (size_t i = first; i < nlines; i++) {
        if (f < nfns && fns[f].first == i) {
            FILE *o = out[fns[f].part];
            put_line(o, &lines[i], 7);
            for (size_t j = i + 1; j <= fns[f].last; j++)
                put_line(o, &lines[j], 0);
            i = fns[f].last;
            f++;
        } else {
            put_line(out[0], &lines[i], 0);
        }
    }
    for (int k = 0; k < nparts; k++) {
        if (fclose(out[k]) != 0)
            rc = HV_EIO;
        out[k] = NULL;
    }

out_free:
    for (int k = 0; k < nparts && k < AOT_MAX_PARTS; k++)
        if (out[k] != NULL)
            fclose(out[k]);
    free(order);
    free(fns);
    free(lines);
    free(buf);
    return rc;
}

/* ---- compiling ------------------------------------------------------- */

/* Starts argv with stdout+stderr appended to log; returns the pid or -1. */
static pid_t spawn_logged(char *const argv[], const char *log)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

static int wait_ok(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* First non-empty line of a log file, for one-line error messages. */
static void first_line(const char *log, const char *skip_prefix, char *out, size_t outlen)
{
    char *buf;
    size_t len;
    out[0] = '\0';
    if (read_file(log, &buf, &len) != HV_OK)
        return;
    for (char *p = buf; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n > 0) {
            if (skip_prefix && strncmp(p, skip_prefix, strlen(skip_prefix)) == 0) {
                p += strlen(skip_prefix);
                n -= strlen(skip_prefix);
            }
            snprintf(out, outlen, "%.*s", (int)n, p);
            break;
        }
        p = nl ? nl + 1 : p + n;
    }
    free(buf);
}

static int mkdir_p(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static void default_cache_dir(char *out, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(out, len, "%s/harvester/aot", xdg);
    else
        snprintf(out, len, "%s/.cache/harvester/aot", home && *home ? home : "/tmp");
}

/* Checks the binary header so junk gets a precise reason before wasm2c. */
static int check_header(const char *path, const char *buf, size_t len, char *err, size_t errlen)
{
    static const unsigned char magic[4] = {0, 'a', 's', 'm'};
    if (len < 8) {
        snprintf(err, errlen, "%s: not a WebAssembly module: file is %zu bytes (truncated?)", path,
                 len);
        return HV_EBADWASM;
    }
    if (memcmp(buf, magic, 4) != 0) {
        snprintf(err, errlen, "%s: not a WebAssembly module: bad magic number", path);
        return HV_EBADWASM;
    }
    if (buf[4] != 1 || buf[5] || buf[6] || buf[7]) {
        snprintf(err, errlen,
                 "%s: unsupported WebAssembly binary version %u (components are built by "
                 "`harvester build`, not loaded directly)",
                 path, (unsigned)(unsigned char)buf[4]);
        return HV_EBADWASM;
    }
    return HV_OK;
}

static int compile_all(const char *dir, int nparts, int jobs, const char *inc, const char *glue,
                       const char *log, int verbose)
{
    char srcs[AOT_MAX_PARTS + 1][4200], objs[AOT_MAX_PARTS + 1][4200];
    int n = nparts + 1;
    for (int k = 0; k < nparts; k++) {
        snprintf(srcs[k], sizeof srcs[k], "%s/part%d.c", dir, k);
        snprintf(objs[k], sizeof objs[k], "%s/part%d.o", dir, k);
    }
    snprintf(srcs[nparts], sizeof srcs[nparts], "%s", glue);
    snprintf(objs[nparts], sizeof objs[nparts], "%s/glue.o", dir);

    pid_t running[AOT_MAX_PARTS + 1];
    int nrun = 0, next = 0, ok = 1;
    char incflag[4200], dirflag[4200];
    snprintf(incflag, sizeof incflag, "-I%s", inc);
    snprintf(dirflag, sizeof dirflag, "-I%s", dir);
    while (next < n || nrun > 0) {
        while (ok && next < n && nrun < jobs) {
            char *argv[24];
            int a = 0;
            argv[a++] = "cc";
            for (int i = 0; cc_flags[i]; i++)
                argv[a++] = (char *)cc_flags[i];
            argv[a++] = incflag;
            argv[a++] = dirflag;
            argv[a++] = "-c";
            argv[a++] = srcs[next];
            argv[a++] = "-o";
            argv[a++] = objs[next];
            argv[a] = NULL;
            if (verbose)
                fprintf(stderr, "harvester: aot: cc %s\n", srcs[next]);
            pid_t pid = spawn_logged(argv, log);
            if (pid < 0) {
                ok = 0;
                break;
            }
            running[nrun++] = pid;
            next++;
        }
        if (nrun == 0)
            break;
        int st;
        pid_t done = wait(&st);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        for (int i = 0; i < nrun; i++)
            if (running[i] == done) {
                running[i] = running[--nrun];
                break;
            }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            ok = 0;
    }
    if (!ok)
        return 0;
    char so_tmp[4200];
    snprintf(so_tmp, sizeof so_tmp, "%s/module.so", dir);
    char *argv[AOT_MAX_PARTS + 8];
    int a = 0;
    argv[a++] = "cc";
    argv[a++] = "-shared";
    argv[a++] = "-O2";
    argv[a++] = "-flto=auto";
    argv[a++] = "-o";
    argv[a++] = so_tmp;
    for (int k = 0; k < n; k++)
        argv[a++] = objs[k];
    argv[a++] = "-lm";
    argv[a] = NULL;
    return wait_ok(spawn_logged(argv, log));
}

/* The glue and the runtime headers are compiled into module.so too: a change
 * to either must miss the cache just like a new .wasm. */
static uint64_t inputs_salt(const char *data_dir)
{
    static const char *files[] = {"src/engine/guest_glue.c", "include/wasm-rt.h",
                                  "include/hv_guest.h"};
    uint64_t salt = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4200], hex[33];
        char *buf;
        size_t len;
        snprintf(path, sizeof path, "%s/%s", data_dir, files[i]);
        if (read_file(path, &buf, &len) != HV_OK)
            continue; /* compile_all reports the missing file */
        hv_aot_hash_hex(buf, len, i, hex);
        free(buf);
        salt = salt * 31 + strtoull(hex + 16, NULL, 16);
    }
    return salt;
}

int hv_aot_compile(const char *wasm_path, const hv_aot_opts_t *opts, char *ret_so_path,
                   size_t so_len, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    int rc = read_file(wasm_path, &buf, &len);
    if (rc != HV_OK) {
        snprintf(err, errlen, "%s: %s", wasm_path, hv_strerror(rc));
        return rc;
    }
    rc = check_header(wasm_path, buf, len, err, errlen);
    const char *data = opts && opts->data_dir ? opts->data_dir : ".";
    char hash[33];
    hv_aot_hash_hex(buf, len, AOT_FORMAT ^ inputs_salt(data), hash);
    free(buf);
    if (rc != HV_OK)
        return rc;

    char cache[4096], dir[4200], so[4300];
    if (opts && opts->cache_dir)
        snprintf(cache, sizeof cache, "%s", opts->cache_dir);
    else
        default_cache_dir(cache, sizeof cache);
    snprintf(dir, sizeof dir, "%s/%s", cache, hash);
    snprintf(so, sizeof so, "%s/module.so", dir);
    if (access(so, R_OK) == 0) {
        snprintf(ret_so_path, so_len, "%s", so);
        return HV_OK;
    }

    /* Build in a private directory, then rename: concurrent builders and
     * interrupted builds never leave a half-written module.so in place. */
    char work[4300], c_path[4400], log[4400], prefix[4400];
    snprintf(work, sizeof work, "%s/.build-%s-%ld", cache, hash, (long)getpid());
    if (mkdir_p(work) != 0) {
        snprintf(err, errlen, "%s: cannot create cache directory %s: %s", wasm_path, work,
                 strerror(errno));
        return HV_EIO;
    }
    snprintf(c_path, sizeof c_path, "%s/pyrt.c", work);
    snprintf(log, sizeof log, "%s/build.log", work);
    char *w2c_argv[] = {"wasm2c", "-n", "pyrt", (char *)wasm_path, "-o", c_path, NULL};
    if (opts && opts->verbose)
        fprintf(stderr, "harvester: aot: wasm2c %s\n", wasm_path);
    if (!wait_ok(spawn_logged(w2c_argv, log))) {
        char why[512];
        first_line(log, NULL, why, sizeof why);
        /* wasm2c says "file.wasm:000012: error: ..." */
        const char *msg = strstr(why, "error: ");
        snprintf(err, errlen, "%s: invalid WebAssembly module: %s", wasm_path,
                 msg ? msg + 7 : (why[0] ? why : "wasm2c failed"));
        rc = HV_EBADWASM;
        goto out_clean;
    }
    int nparts = opts && opts->parts > 0 ? opts->parts : 16;
    snprintf(prefix, sizeof prefix, "%s/part", work);
    rc = hv_aot_split(c_path, prefix, nparts);
    if (rc != HV_OK) {
        snprintf(err, errlen, "%s: cannot split wasm2c output: %s", wasm_path, hv_strerror(rc));
        goto out_clean;
    }
    unlink(c_path);
    char inc[4200], glue[4200];
    snprintf(inc, sizeof inc, "%s/include", data);
    snprintf(glue, sizeof glue, "%s/src/engine/guest_glue.c", data);
    int jobs = opts && opts->jobs > 0 ? opts->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1)
        jobs = 1;
    if (!compile_all(work, nparts, jobs, inc, glue, log, opts && opts->verbose)) {
        char why[512];
        first_line(log, NULL, why, sizeof why);
        snprintf(err, errlen, "%s: C compilation failed (see %s): %s", wasm_path, log, why);
        return HV_EAOT; /* keep the work dir for the log */
    }
    char built[4400];
    snprintf(built, sizeof built, "%s/module.so", work);
    if (mkdir_p(dir) != 0 || rename(built, so) != 0) {
        snprintf(err, errlen, "%s: cannot store %s: %s", wasm_path, so, strerror(errno));
        rc = HV_EIO;
        goto out_clean;
    }
    snprintf(ret_so_path, so_len, "%s", so);
    rc = HV_OK;
out_clean : {
    char *rm_argv[] = {"rm", "-rf", work, NULL};
    wait_ok(spawn_logged(rm_argv, "/dev/null"));
}
    return rc;
}
