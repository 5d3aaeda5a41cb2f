/*
 * WASI preview1: context, args/environ, clocks, random, poll (real sleep on
 * the calling thread only), proc_exit, stdio capture and descriptor calls.
 * Path calls are in wasi_path.c.
 */
#define _GNU_SOURCE
#include "wasi_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>

#include "hv_error.h"

#define MAX_IOVS 1024
#define MAX_SUBSCRIPTIONS 1024

uint32_t wasi__errno(int e)
{
    switch (e) {
    case 0:
        return WASI_ESUCCESS;
    case EACCES:
        return WASI_EACCES;
    case EAGAIN:
        return WASI_EAGAIN;
    case EBADF:
        return WASI_EBADF;
    case EEXIST:
        return WASI_EEXIST;
    case EFAULT:
        return WASI_EFAULT;
    case EINTR:
        return WASI_EINTR;
    case EINVAL:
        return WASI_EINVAL;
    case EISDIR:
        return WASI_EISDIR;
    case ELOOP:
        return WASI_ELOOP;
    case EMFILE:
    case ENFILE:
        return WASI_EMFILE;
    case ENAMETOOLONG:
        return WASI_ENAMETOOLONG;
    case ENOENT:
        return WASI_ENOENT;
    case ENOMEM:
        return WASI_ENOMEM;
    case ENOSYS:
        return WASI_ENOSYS;
    case ENOTDIR:
        return WASI_ENOTDIR;
    case ENOTEMPTY:
        return WASI_ENOTEMPTY;
    case EPERM:
        return WASI_EPERM;
    case EROFS:
        return WASI_EROFS;
    case ESPIPE:
        return WASI_ESPIPE;
    case EXDEV: /* RESOLVE_BENEATH refused an escape */
        return WASI_ENOTCAPABLE;
    default:
        return WASI_EIO;
    }
}

hv_wasi_fd_t *wasi__fd(hv_wasi_t *w, uint32_t fd)
{
    if (fd >= HV_WASI_MAX_FDS || w->fds[fd].kind == FD_FREE)
        return NULL;
    return &w->fds[fd];
}

int wasi__alloc_fd(hv_wasi_t *w)
{
    for (int i = 3; i < HV_WASI_MAX_FDS; i++)
        if (w->fds[i].kind == FD_FREE)
            return i;
    return -1;
}

void wasi__put_filestat(hv_wasi_t *w, uint32_t p, const struct stat *st)
{
    uint8_t type = S_ISDIR(st->st_mode)   ? WASI_FILETYPE_DIR
                   : S_ISREG(st->st_mode) ? WASI_FILETYPE_FILE
                   : S_ISLNK(st->st_mode) ? WASI_FILETYPE_SYMLINK
                   : S_ISCHR(st->st_mode) ? WASI_FILETYPE_CHAR
                                          : WASI_FILETYPE_UNKNOWN;
    memset(w->mem->data + p, 0, 64);
    wasi__put_u64(w, p + 0, (uint64_t)st->st_dev);
    wasi__put_u64(w, p + 8, (uint64_t)st->st_ino);
    w->mem->data[p + 16] = type;
    wasi__put_u64(w, p + 24, (uint64_t)st->st_nlink);
    wasi__put_u64(w, p + 32, (uint64_t)st->st_size);
    wasi__put_u64(w, p + 40, (uint64_t)st->st_atim.tv_sec * 1000000000ULL + st->st_atim.tv_nsec);
    wasi__put_u64(w, p + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000ULL + st->st_mtim.tv_nsec);
    wasi__put_u64(w, p + 56, (uint64_t)st->st_ctim.tv_sec * 1000000000ULL + st->st_ctim.tv_nsec);
}

/* ---- lifecycle -------------------------------------------------------- */

static char **copy_strv(const char *const *v, uint32_t *ret_n, size_t *ret_bytes)
{
    uint32_t n = 0;
    size_t bytes = 0;
    while (v && v[n]) {
        bytes += strlen(v[n]) + 1;
        n++;
    }
    char **out = calloc(n + 1, sizeof *out);
    if (out == NULL)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        out[i] = strdup(v[i]);
        if (out[i] == NULL) {
            while (i > 0)
                free(out[--i]);
            free(out);
            return NULL;
        }
    }
    *ret_n = n;
    *ret_bytes = bytes;
    return out;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

int hv_wasi_init(hv_wasi_t *w, const hv_wasi_config_t *cfg)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < HV_WASI_MAX_FDS; i++)
        w->fds[i].host_fd = -1;
    w->fds[0].kind = FD_STDIN;
    w->fds[1].kind = FD_STDOUT;
    w->fds[2].kind = FD_STDERR;
    w->stdin_fd = cfg->stdin_fd;
    w->output = cfg->output;
    w->output_ud = cfg->output_ud;
    w->argv = copy_strv(cfg->argv, &w->argc, &w->argv_bytes);
    w->envp = copy_strv(cfg->envp, &w->envc, &w->envp_bytes);
    if (w->argv == NULL || w->envp == NULL) {
        hv_wasi_destroy(w);
        return HV_ENOMEM;
    }
    if (cfg->nmounts < 0 || cfg->nmounts > HV_WASI_MAX_MOUNTS) {
        hv_wasi_destroy(w);
        return HV_EINVAL;
    }
    for (int i = 0; i < cfg->nmounts; i++) {
        hv_wasi_fd_t *e = &w->fds[3 + i];
        e->host_fd = open(cfg->mounts[i].host, O_PATH | O_DIRECTORY | O_CLOEXEC);
        e->mount_path = strdup(cfg->mounts[i].guest);
        e->kind = FD_DIR;
        if (e->host_fd < 0 || e->mount_path == NULL) {
            int rc = e->host_fd < 0 ? HV_ENOENT : HV_ENOMEM;
            hv_wasi_destroy(w);
            return rc;
        }
    }
    return HV_OK;
}

void hv_wasi_set_memory(hv_wasi_t *w, wasm_rt_memory_t *mem) { w->mem = mem; }

int hv_wasi_extra_fds(const hv_wasi_t *w)
{
    int n = 0;
    for (int i = 3; i < HV_WASI_MAX_FDS; i++)
        if (w->fds[i].kind != FD_FREE && w->fds[i].mount_path == NULL)
            n++;
    return n;
}

static void emit(hv_wasi_t *w, int which)
{
    w->output(w->output_ud, which + 1, w->line[which], w->line_len[which]);
    w->line_len[which] = 0;
}

void hv_wasi_flush(hv_wasi_t *w)
{
    for (int i = 0; i < 2; i++)
        if (w->output && w->line_len[i] > 0)
            emit(w, i);
}

void hv_wasi_destroy(hv_wasi_t *w)
{
    hv_wasi_flush(w);
    for (int i = 0; i < HV_WASI_MAX_FDS; i++) {
        if (w->fds[i].host_fd >= 0)
            close(w->fds[i].host_fd);
        free(w->fds[i].mount_path);
        w->fds[i] = (hv_wasi_fd_t){FD_FREE, -1, NULL};
    }
    free_strv(w->argv);
    free_strv(w->envp);
    w->argv = w->envp = NULL;
}

/* ---- args, environ ---------------------------------------------------- */

static uint32_t put_strv(hv_wasi_t *w, char **v, uint32_t n, size_t bytes, uint32_t ptrs,
                         uint32_t buf)
{
    if (!wasi__mem_ok(w, ptrs, (uint64_t)n * 4) || !wasi__mem_ok(w, buf, bytes))
        return WASI_EFAULT;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        wasi__put_u32(w, ptrs + 4 * i, buf);
        memcpy(w->mem->data + buf, v[i], len);
        buf += (uint32_t)len;
    }
    return WASI_ESUCCESS;
}

static uint32_t put_sizes(hv_wasi_t *w, uint32_t n, size_t bytes, uint32_t pn, uint32_t pb)
{
    if (!wasi__mem_ok(w, pn, 4) || !wasi__mem_ok(w, pb, 4))
        return WASI_EFAULT;
    wasi__put_u32(w, pn, n);
    wasi__put_u32(w, pb, (uint32_t)bytes);
    return WASI_ESUCCESS;
}

static uint32_t wasi_args_get(hv_wasi_t *w, uint32_t argv, uint32_t buf)
{
    return put_strv(w, w->argv, w->argc, w->argv_bytes, argv, buf);
}

static uint32_t wasi_args_sizes_get(hv_wasi_t *w, uint32_t pn, uint32_t pb)
{
    return put_sizes(w, w->argc, w->argv_bytes, pn, pb);
}

static uint32_t wasi_environ_get(hv_wasi_t *w, uint32_t envp, uint32_t buf)
{
    return put_strv(w, w->envp, w->envc, w->envp_bytes, envp, buf);
}

static uint32_t wasi_environ_sizes_get(hv_wasi_t *w, uint32_t pn, uint32_t pb)
{
    return put_sizes(w, w->envc, w->envp_bytes, pn, pb);
}

WASI_EXPORT(args_get, (hv_wasi_t * w, uint32_t a, uint32_t b), (w, a, b))
WASI_EXPORT(args_sizes_get, (hv_wasi_t * w, uint32_t a, uint32_t b), (w, a, b))
WASI_EXPORT(environ_get, (hv_wasi_t * w, uint32_t a, uint32_t b), (w, a, b))
WASI_EXPORT(environ_sizes_get, (hv_wasi_t * w, uint32_t a, uint32_t b), (w, a, b))

/* ---- clocks, random, sched, exit ---------------------------------------- */

static int host_clock(uint32_t id, clockid_t *ret)
{
    static const clockid_t map[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID,
                                    CLOCK_THREAD_CPUTIME_ID};
    if (id >= sizeof map / sizeof map[0])
        return -1;
    *ret = map[id]; /* an instance lives on one thread: its CPU time is the thread's */
    return 0;
}

static uint32_t wasi_clock_res_get(hv_wasi_t *w, uint32_t id, uint32_t ret)
{
    clockid_t c;
    struct timespec ts;
    if (host_clock(id, &c) != 0)
        return WASI_EINVAL;
    if (!wasi__mem_ok(w, ret, 8))
        return WASI_EFAULT;
    clock_getres(c, &ts);
    wasi__put_u64(w, ret, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
    return WASI_ESUCCESS;
}

static uint32_t wasi_clock_time_get(hv_wasi_t *w, uint32_t id, uint64_t precision, uint32_t ret)
{
    (void)precision;
    clockid_t c;
    struct timespec ts;
    if (host_clock(id, &c) != 0)
        return WASI_EINVAL;
    if (!wasi__mem_ok(w, ret, 8))
        return WASI_EFAULT;
    clock_gettime(c, &ts);
    wasi__put_u64(w, ret, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
    return WASI_ESUCCESS;
}

static uint32_t wasi_random_get(hv_wasi_t *w, uint32_t buf, uint32_t len)
{
    if (!wasi__mem_ok(w, buf, len))
        return WASI_EFAULT;
    for (uint32_t done = 0; done < len;) {
        ssize_t n = getrandom(w->mem->data + buf + done, len - done, 0);
        if (n < 0 && errno != EINTR)
            return WASI_EIO;
        if (n > 0)
            done += (uint32_t)n;
    }
    return WASI_ESUCCESS;
}

static uint32_t wasi_sched_yield(hv_wasi_t *w)
{
    (void)w;
    sched_yield();
    return WASI_ESUCCESS;
}

WASI_EXPORT(clock_res_get, (hv_wasi_t * w, uint32_t a, uint32_t b), (w, a, b))
WASI_EXPORT(clock_time_get, (hv_wasi_t * w, uint32_t a, uint64_t b, uint32_t c), (w, a, b, c))
WASI_EXPORT(random_get, (hv_wasi_t * w, uint32_t a, uint32_t b), (w, a, b))
WASI_EXPORT(sched_yield, (hv_wasi_t * w), (w))

void Z_wasi_snapshot_preview1Z_proc_exit(hv_wasi_t *w, uint32_t code);
void Z_wasi_snapshot_preview1Z_proc_exit(hv_wasi_t *w, uint32_t code)
{
    hv_wasi_flush(w);
    hv_rt_exit((int)code);
}

/* ---- poll_oneoff: clock subscriptions really sleep ------------------------ */

static uint64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sleeps until the monotonic time `until`; returns early when this thread's
 * deadline expires (the caller's hv_rt_host_leave then traps). */
static void sleep_until(uint64_t until)
{
    struct timespec ts = {(time_t)(until / 1000000000ULL), (long)(until % 1000000000ULL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        if (hv_rt_deadline_expired())
            return;
}

static uint32_t wasi_poll_oneoff(hv_wasi_t *w, uint32_t in, uint32_t out, uint32_t nsubs,
                                 uint32_t ret_n)
{
    if (nsubs == 0 || nsubs > MAX_SUBSCRIPTIONS)
        return WASI_EINVAL;
    if (!wasi__mem_ok(w, in, (uint64_t)nsubs * 48) || !wasi__mem_ok(w, out, (uint64_t)nsubs * 32) ||
        !wasi__mem_ok(w, ret_n, 4))
        return WASI_EFAULT;
    const uint8_t *m = w->mem->data;
    uint64_t start = now_ns(CLOCK_MONOTONIC), wake = UINT64_MAX;
    int have_fd = 0;
    for (uint32_t i = 0; i < nsubs; i++) {
        const uint8_t *s = m + in + 48 * i;
        if (s[8] != 0) {
            have_fd = 1; /* stdio and files are always ready */
            continue;
        }
        uint64_t timeout;
        uint16_t flags;
        memcpy(&timeout, s + 24, 8);
        memcpy(&flags, s + 40, 2);
        uint64_t when = start + timeout;
        if (flags & 1) { /* absolute: convert to the monotonic clock */
            clockid_t c;
            uint32_t id;
            memcpy(&id, s + 16, 4);
            if (host_clock(id, &c) != 0)
                return WASI_EINVAL;
            uint64_t now = now_ns(c);
            when = timeout > now ? start + (timeout - now) : start;
        }
        if (when < wake)
            wake = when;
    }
    if (!have_fd && wake != UINT64_MAX)
        sleep_until(wake);
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    uint32_t nev = 0;
    for (uint32_t i = 0; i < nsubs; i++) {
        const uint8_t *s = m + in + 48 * i;
        uint8_t *e = w->mem->data + out + 32 * nev;
        int ready = s[8] != 0 || (!have_fd && now >= wake);
        if (!ready)
            continue;
        memset(e, 0, 32);
        memcpy(e, s, 8); /* userdata */
        e[10] = s[8];    /* type */
        nev++;
    }
    wasi__put_u32(w, ret_n, nev);
    return WASI_ESUCCESS;
}

WASI_EXPORT(poll_oneoff, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint32_t d),
            (w, a, b, c, d))

/* ---- read/write --------------------------------------------------------- */

static void capture(hv_wasi_t *w, int which, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            emit(w, which);
            continue;
        }
        w->line[which][w->line_len[which]++] = (char)p[i];
        if (w->line_len[which] == HV_WASI_LINE_MAX)
            emit(w, which); /* overlong lines are split, not buffered unbounded */
    }
}

/* Resolves an iovec array in guest memory into host iovecs. */
static uint32_t get_iovs(hv_wasi_t *w, uint32_t iovs, uint32_t n, struct iovec *out)
{
    if (n > MAX_IOVS)
        return WASI_EINVAL;
    if (!wasi__mem_ok(w, iovs, (uint64_t)n * 8))
        return WASI_EFAULT;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = wasi__get_u32(w, iovs + 8 * i), len = wasi__get_u32(w, iovs + 8 * i + 4);
        if (!wasi__mem_ok(w, p, len))
            return WASI_EFAULT;
        out[i].iov_base = w->mem->data + p;
        out[i].iov_len = len;
    }
    return WASI_ESUCCESS;
}

static uint32_t wasi_fd_write(hv_wasi_t *w, uint32_t fd, uint32_t iovs, uint32_t n, uint32_t ret)
{
    hv_wasi_fd_t *e = wasi__fd(w, fd);
    struct iovec iov[MAX_IOVS];
    if (e == NULL)
        return WASI_EBADF;
    if (e->kind != FD_STDOUT && e->kind != FD_STDERR)
        return WASI_EBADF; /* files are opened read-only */
    uint32_t r = get_iovs(w, iovs, n, iov);
    if (r != WASI_ESUCCESS)
        return r;
    if (!wasi__mem_ok(w, ret, 4))
        return WASI_EFAULT;
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (w->output) {
            capture(w, e->kind == FD_STDOUT ? 0 : 1, iov[i].iov_base, iov[i].iov_len);
        } else {
            const char *p = iov[i].iov_base;
            for (size_t left = iov[i].iov_len; left > 0;) {
                ssize_t k = write(e->kind == FD_STDOUT ? 1 : 2, p, left);
                if (k < 0 && errno == EINTR)
                    continue;
                if (k <= 0)
                    return wasi__errno(errno);
                p += k;
                left -= (size_t)k;
            }
        }
        total += iov[i].iov_len;
    }
    wasi__put_u32(w, ret, (uint32_t)total);
    return WASI_ESUCCESS;
}

static uint32_t do_read(hv_wasi_t *w, uint32_t fd, uint32_t iovs, uint32_t n, int64_t off,
                        uint32_t ret)
{
    hv_wasi_fd_t *e = wasi__fd(w, fd);
    struct iovec iov[MAX_IOVS];
    if (e == NULL)
        return WASI_EBADF;
    uint32_t r = get_iovs(w, iovs, n, iov);
    if (r != WASI_ESUCCESS)
        return r;
    if (!wasi__mem_ok(w, ret, 4))
        return WASI_EFAULT;
    int hfd = e->kind == FD_STDIN ? w->stdin_fd : e->kind == FD_FILE ? e->host_fd : -2;
    if (hfd == -2)
        return e->kind == FD_DIR ? WASI_EISDIR : WASI_EBADF;
    ssize_t k = 0;
    if (hfd >= 0) {
        do
            k = off >= 0 ? preadv(hfd, iov, (int)n, off) : readv(hfd, iov, (int)n);
        while (k < 0 && errno == EINTR && !hv_rt_deadline_expired());
        if (k < 0)
            return wasi__errno(errno);
    }
    wasi__put_u32(w, ret, (uint32_t)k);
    return WASI_ESUCCESS;
}

static uint32_t wasi_fd_read(hv_wasi_t *w, uint32_t fd, uint32_t iovs, uint32_t n, uint32_t ret)
{
    return do_read(w, fd, iovs, n, -1, ret);
}

static uint32_t wasi_fd_pread(hv_wasi_t *w, uint32_t fd, uint32_t iovs, uint32_t n, uint64_t off,
                              uint32_t ret)
{
    if (off > INT64_MAX)
        return WASI_EINVAL;
    return do_read(w, fd, iovs, n, (int64_t)off, ret);
}

static uint32_t wasi_fd_pwrite(hv_wasi_t *w, uint32_t fd, uint32_t iovs, uint32_t n, uint64_t off,
                               uint32_t ret)
{
    (void)w, (void)fd, (void)iovs, (void)n, (void)off, (void)ret;
    return WASI_EBADF; /* no descriptor is writable except stdout/stderr */
}

WASI_EXPORT(fd_write, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint32_t d),
            (w, a, b, c, d))
WASI_EXPORT(fd_read, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint32_t d),
            (w, a, b, c, d))
WASI_EXPORT(fd_pread, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint64_t d, uint32_t e),
            (w, a, b, c, d, e))
WASI_EXPORT(fd_pwrite, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint64_t d, uint32_t e),
            (w, a, b, c, d, e))

/* ---- descriptor state ----------------------------------------------------- */

static uint32_t wasi_fd_close(hv_wasi_t *w, uint32_t fd)
{
    hv_wasi_fd_t *e = wasi__fd(w, fd);
    if (e == NULL)
        return WASI_EBADF;
    if (e->host_fd >= 0)
        close(e->host_fd);
    free(e->mount_path);
    *e = (hv_wasi_fd_t){FD_FREE, -1, NULL};
    return WASI_ESUCCESS;
}

static uint32_t wasi_fd_seek(hv_wasi_t *w, uint32_t fd, uint64_t off, uint32_t whence, uint32_t ret)
{
    hv_wasi_fd_t *e = wasi__fd(w, fd);
    if (e == NULL)
        return WASI_EBADF;
    if (e->kind != FD_FILE)
        return e->kind == FD_DIR ? WASI_EBADF : WASI_ESPIPE;
    if (whence > 2)
        return WASI_EINVAL;
    if (!wasi__mem_ok(w, ret, 8))
        return WASI_EFAULT;
    static const int map[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    off_t r = lseek(e->host_fd, (off_t)(int64_t)off, map[whence]);
    if (r < 0)
        return wasi__errno(errno);
    wasi__put_u64(w, ret, (uint64_t)r);
    return WASI_ESUCCESS;
}

static uint32_t wasi_fd_tell(hv_wasi_t *w, uint32_t fd, uint32_t ret)
{
    return wasi_fd_seek(w, fd, 0, 1, ret);
}

static uint32_t wasi_fd_fdstat_get(hv_wasi_t *w, uint32_t fd, uint32_t ret)
{
    hv_wasi_fd_t *e = wasi__fd(w, fd);
    if (e == NULL)
        return WASI_EBADF;
    if (!wasi__mem_ok(w, ret, 24))
        return WASI_EFAULT;
    uint8_t type = WASI_FILETYPE_CHAR;
    uint64_t rights = WASI_RIGHTS_ALL, inherit = 0;
    if (e->kind == FD_DIR) {
        type = WASI_FILETYPE_DIR;
        inherit = WASI_RIGHTS_ALL; /* path_open itself refuses anything writable */
    } else if (e->kind == FD_FILE) {
        type = WASI_FILETYPE_FILE;
    } else {
        /* wasi-libc's isatty(): a char device without seek/tell rights. */
        int hfd = e->kind == FD_STDIN ? w->stdin_fd : e->kind == FD_STDOUT ? 1 : 2;
        int captured = w->output != NULL && e->kind != FD_STDIN;
        if (!captured && hfd >= 0 && isatty(hfd))
            rights &= ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL);
    }
    memset(w->mem->data + ret, 0, 24);
    w->mem->data[ret] = type;
    wasi__put_u64(w, ret + 8, rights);
    wasi__put_u64(w, ret + 16, inherit);
    return WASI_ESUCCESS;
}

static uint32_t wasi_fd_filestat_get(hv_wasi_t *w, uint32_t fd, uint32_t ret)
{
    hv_wasi_fd_t *e = wasi__fd(w, fd);
    struct stat st;
    if (e == NULL)
        return WASI_EBADF;
    if (!wasi__mem_ok(w, ret, 64))
        return WASI_EFAULT;
    if (e->host_fd >= 0) {
        if (fstat(e->host_fd, &st) != 0)
            return wasi__errno(errno);
    } else {
        memset(&st, 0, sizeof st);
        st.st_mode = S_IFCHR;
    }
    wasi__put_filestat(w, ret, &st);
    return WASI_ESUCCESS;
}

static uint32_t wasi_fd_prestat_get(hv_wasi_t *w, uint32_t fd, uint32_t ret)
{
    hv_wasi_fd_t *e = wasi__fd(w, fd);
    if (e == NULL || e->mount_path == NULL)
        return WASI_EBADF;
    if (!wasi__mem_ok(w, ret, 8))
        return WASI_EFAULT;
    wasi__put_u32(w, ret, 0);
    wasi__put_u32(w, ret + 4, (uint32_t)strlen(e->mount_path));
    return WASI_ESUCCESS;
}

static uint32_t wasi_fd_prestat_dir_name(hv_wasi_t *w, uint32_t fd, uint32_t buf, uint32_t len)
{
    hv_wasi_fd_t *e = wasi__fd(w, fd);
    if (e == NULL || e->mount_path == NULL)
        return WASI_EBADF;
    size_t n = strlen(e->mount_path);
    if (len < n)
        return WASI_ENAMETOOLONG;
    if (!wasi__mem_ok(w, buf, n))
        return WASI_EFAULT;
    memcpy(w->mem->data + buf, e->mount_path, n);
    return WASI_ESUCCESS;
}

/* Accepted and ignored: advice and syncs change nothing on read-only files. */
static uint32_t wasi_fd_advise(hv_wasi_t *w, uint32_t fd, uint64_t off, uint64_t len, uint32_t adv)
{
    (void)off, (void)len, (void)adv;
    return wasi__fd(w, fd) ? WASI_ESUCCESS : WASI_EBADF;
}

static uint32_t wasi_fd_sync(hv_wasi_t *w, uint32_t fd)
{
    return wasi__fd(w, fd) ? WASI_ESUCCESS : WASI_EBADF;
}

static uint32_t wasi_fd_datasync(hv_wasi_t *w, uint32_t fd) { return wasi_fd_sync(w, fd); }

static uint32_t wasi_fd_fdstat_set_flags(hv_wasi_t *w, uint32_t fd, uint32_t flags)
{
    (void)flags;
    return wasi__fd(w, fd) ? WASI_ENOTSUP : WASI_EBADF;
}

/* Everything that would modify a file: the sandbox has none writable. */
static uint32_t wasi_fd_allocate(hv_wasi_t *w, uint32_t fd, uint64_t off, uint64_t len)
{
    (void)w, (void)fd, (void)off, (void)len;
    return WASI_EBADF;
}

static uint32_t wasi_fd_filestat_set_size(hv_wasi_t *w, uint32_t fd, uint64_t size)
{
    (void)size;
    return wasi__fd(w, fd) ? WASI_EROFS : WASI_EBADF;
}

static uint32_t wasi_fd_filestat_set_times(hv_wasi_t *w, uint32_t fd, uint64_t a, uint64_t m,
                                           uint32_t flags)
{
    (void)a, (void)m, (void)flags;
    return wasi__fd(w, fd) ? WASI_EROFS : WASI_EBADF;
}

WASI_EXPORT(fd_close, (hv_wasi_t * w, uint32_t a), (w, a))
WASI_EXPORT(fd_seek, (hv_wasi_t * w, uint32_t a, uint64_t b, uint32_t c, uint32_t d),
            (w, a, b, c, d))
WASI_EXPORT(fd_tell, (hv_wasi_t * w, uint32_t a, uint32_t b), (w, a, b))
WASI_EXPORT(fd_fdstat_get, (hv_wasi_t * w, uint32_t a, uint32_t b), (w, a, b))
WASI_EXPORT(fd_filestat_get, (hv_wasi_t * w, uint32_t a, uint32_t b), (w, a, b))
WASI_EXPORT(fd_prestat_get, (hv_wasi_t * w, uint32_t a, uint32_t b), (w, a, b))
WASI_EXPORT(fd_prestat_dir_name, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c), (w, a, b, c))
WASI_EXPORT(fd_advise, (hv_wasi_t * w, uint32_t a, uint64_t b, uint64_t c, uint32_t d),
            (w, a, b, c, d))
WASI_EXPORT(fd_sync, (hv_wasi_t * w, uint32_t a), (w, a))
WASI_EXPORT(fd_datasync, (hv_wasi_t * w, uint32_t a), (w, a))
WASI_EXPORT(fd_fdstat_set_flags, (hv_wasi_t * w, uint32_t a, uint32_t b), (w, a, b))
WASI_EXPORT(fd_allocate, (hv_wasi_t * w, uint32_t a, uint64_t b, uint64_t c), (w, a, b, c))
WASI_EXPORT(fd_filestat_set_size, (hv_wasi_t * w, uint32_t a, uint64_t b), (w, a, b))
WASI_EXPORT(fd_filestat_set_times, (hv_wasi_t * w, uint32_t a, uint64_t b, uint64_t c, uint32_t d),
            (w, a, b, c, d))
