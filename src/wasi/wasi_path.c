/*
 * WASI path calls. Every lookup goes through openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS) relative to a mount's directory descriptor: "..",
 * absolute paths and symlinks that leave the mount fail in the kernel, not
 * in a string check we could get wrong. Nothing here creates or modifies.
 */
#define _GNU_SOURCE
#include "wasi_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PATH_MAX_LEN 4096
#define MAX_DIR_ENTRIES 65536

enum { OFLAG_CREAT = 1, OFLAG_DIRECTORY = 2, OFLAG_EXCL = 4, OFLAG_TRUNC = 8 };
enum { LOOKUP_FOLLOW = 1 };
enum { FDFLAG_APPEND = 1 };

/* Copies a guest path into buf (NUL-terminated); WASI errno on failure. */
static uint32_t get_path(hv_wasi_t *w, uint32_t ptr, uint32_t len, char *buf)
{
    if (len >= PATH_MAX_LEN)
        return WASI_ENAMETOOLONG;
    if (!wasi__mem_ok(w, ptr, len))
        return WASI_EFAULT;
    memcpy(buf, w->mem->data + ptr, len);
    buf[len] = '\0';
    if (strlen(buf) != len)
        return WASI_EINVAL; /* embedded NUL */
    return WASI_ESUCCESS;
}

/* Opens path beneath the directory fd dirfd; returns the host fd or -errno. */
static int open_beneath(int dirfd, const char *path, uint64_t flags)
{
    struct open_how how = {0};
    how.flags = flags | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd;
    do
        fd = syscall(SYS_openat2, dirfd, path[0] ? path : ".", &how, sizeof how);
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : (int)fd;
}

static hv_wasi_fd_t *dir_fd(hv_wasi_t *w, uint32_t fd, uint32_t *ret_err)
{
    hv_wasi_fd_t *e = wasi__fd(w, fd);
    *ret_err = e == NULL ? WASI_EBADF : e->kind != FD_DIR ? WASI_ENOTDIR : WASI_ESUCCESS;
    return *ret_err == WASI_ESUCCESS ? e : NULL;
}

static uint32_t wasi_path_open(hv_wasi_t *w, uint32_t fd, uint32_t dirflags, uint32_t path,
                               uint32_t path_len, uint32_t oflags, uint64_t rights,
                               uint64_t inherit, uint32_t fdflags, uint32_t ret)
{
    (void)inherit;
    char buf[PATH_MAX_LEN];
    uint32_t err;
    hv_wasi_fd_t *d = dir_fd(w, fd, &err);
    if (d == NULL)
        return err;
    if ((err = get_path(w, path, path_len, buf)) != WASI_ESUCCESS)
        return err;
    if (!wasi__mem_ok(w, ret, 4))
        return WASI_EFAULT;
    if ((oflags & (OFLAG_CREAT | OFLAG_TRUNC | OFLAG_EXCL)) || (fdflags & FDFLAG_APPEND) ||
        (rights & (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE | WASI_RIGHT_FD_FILESTAT_SET_SIZE)))
        return WASI_EROFS;
    int slot = wasi__alloc_fd(w);
    if (slot < 0)
        return WASI_EMFILE;
    uint64_t flags = O_RDONLY | O_NOCTTY;
    if (oflags & OFLAG_DIRECTORY)
        flags |= O_DIRECTORY;
    if (!(dirflags & LOOKUP_FOLLOW))
        flags |= O_NOFOLLOW;
    int hfd = open_beneath(d->host_fd, buf, flags);
    if (hfd < 0)
        return wasi__errno(-hfd);
    struct stat st;
    if (fstat(hfd, &st) != 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
        close(hfd); /* devices, fifos, sockets: nothing a plugin needs */
        return WASI_EACCES;
    }
    w->fds[slot] = (hv_wasi_fd_t){S_ISDIR(st.st_mode) ? FD_DIR : FD_FILE, hfd, NULL};
    wasi__put_u32(w, ret, (uint32_t)slot);
    return WASI_ESUCCESS;
}

static uint32_t wasi_path_filestat_get(hv_wasi_t *w, uint32_t fd, uint32_t flags, uint32_t path,
                                       uint32_t path_len, uint32_t ret)
{
    char buf[PATH_MAX_LEN];
    uint32_t err;
    hv_wasi_fd_t *d = dir_fd(w, fd, &err);
    if (d == NULL)
        return err;
    if ((err = get_path(w, path, path_len, buf)) != WASI_ESUCCESS)
        return err;
    if (!wasi__mem_ok(w, ret, 64))
        return WASI_EFAULT;
    int hfd = open_beneath(d->host_fd, buf, O_PATH | ((flags & LOOKUP_FOLLOW) ? 0 : O_NOFOLLOW));
    if (hfd < 0)
        return wasi__errno(-hfd);
    struct stat st;
    int rc = fstat(hfd, &st);
    int e = errno;
    close(hfd);
    if (rc != 0)
        return wasi__errno(e);
    wasi__put_filestat(w, ret, &st);
    return WASI_ESUCCESS;
}

static uint32_t wasi_path_readlink(hv_wasi_t *w, uint32_t fd, uint32_t path, uint32_t path_len,
                                   uint32_t out, uint32_t out_len, uint32_t ret)
{
    char buf[PATH_MAX_LEN];
    uint32_t err;
    hv_wasi_fd_t *d = dir_fd(w, fd, &err);
    if (d == NULL)
        return err;
    if ((err = get_path(w, path, path_len, buf)) != WASI_ESUCCESS)
        return err;
    if (!wasi__mem_ok(w, out, out_len) || !wasi__mem_ok(w, ret, 4))
        return WASI_EFAULT;
    int hfd = open_beneath(d->host_fd, buf, O_PATH | O_NOFOLLOW);
    if (hfd < 0)
        return wasi__errno(-hfd);
    ssize_t n = readlinkat(hfd, "", (char *)w->mem->data + out, out_len);
    int e = errno;
    close(hfd);
    if (n < 0)
        return wasi__errno(e == ENOENT ? EINVAL : e);
    wasi__put_u32(w, ret, (uint32_t)n);
    return WASI_ESUCCESS;
}

static uint8_t dirent_type(unsigned char t)
{
    switch (t) {
    case DT_DIR:
        return WASI_FILETYPE_DIR;
    case DT_REG:
        return WASI_FILETYPE_FILE;
    case DT_LNK:
        return WASI_FILETYPE_SYMLINK;
    case DT_CHR:
        return WASI_FILETYPE_CHAR;
    default:
        return WASI_FILETYPE_UNKNOWN;
    }
}

/* The cookie is an entry index; each call re-reads from the start, which is
 * simple and fine for the small directories a plugin lists. */
static uint32_t wasi_fd_readdir(hv_wasi_t *w, uint32_t fd, uint32_t buf, uint32_t len,
                                uint64_t cookie, uint32_t ret)
{
    uint32_t err;
    hv_wasi_fd_t *d = dir_fd(w, fd, &err);
    if (d == NULL)
        return err;
    if (!wasi__mem_ok(w, buf, len) || !wasi__mem_ok(w, ret, 4))
        return WASI_EFAULT;
    int dfd = open_beneath(d->host_fd, ".", O_RDONLY | O_DIRECTORY);
    if (dfd < 0)
        return wasi__errno(-dfd);
    DIR *dir = fdopendir(dfd);
    if (dir == NULL) {
        close(dfd);
        return WASI_ENOMEM;
    }
    uint32_t used = 0;
    uint64_t index = 0;
    struct dirent *de;
    while (used < len && index < MAX_DIR_ENTRIES && (de = readdir(dir)) != NULL) {
        if (index++ < cookie)
            continue;
        uint8_t hdr[24] = {0};
        uint64_t next = index, ino = de->d_ino;
        uint32_t namelen = (uint32_t)strlen(de->d_name);
        memcpy(hdr, &next, 8);
        memcpy(hdr + 8, &ino, 8);
        memcpy(hdr + 16, &namelen, 4);
        hdr[20] = dirent_type(de->d_type);
        /* Truncated entries are allowed: the caller sees a full buffer and
         * retries with a larger one. */
        uint32_t n = len - used < 24 ? len - used : 24;
        memcpy(w->mem->data + buf + used, hdr, n);
        used += n;
        n = len - used < namelen ? len - used : namelen;
        memcpy(w->mem->data + buf + used, de->d_name, n);
        used += n;
    }
    closedir(dir);
    wasi__put_u32(w, ret, used);
    return WASI_ESUCCESS;
}

WASI_EXPORT(path_open,
            (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint64_t f,
             uint64_t g, uint32_t h, uint32_t i),
            (w, a, b, c, d, e, f, g, h, i))
WASI_EXPORT(path_filestat_get, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e),
            (w, a, b, c, d, e))
WASI_EXPORT(path_readlink,
            (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f),
            (w, a, b, c, d, e, f))
WASI_EXPORT(fd_readdir, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint64_t d, uint32_t e),
            (w, a, b, c, d, e))

/* ---- refused: the sandbox is read-only and has no sockets ---------------- */

static uint32_t read_only(hv_wasi_t *w, uint32_t fd)
{
    hv_wasi_fd_t *e = wasi__fd(w, fd);
    return e == NULL ? WASI_EBADF : WASI_EROFS;
}

static uint32_t wasi_path_create_directory(hv_wasi_t *w, uint32_t fd, uint32_t p, uint32_t l)
{
    (void)p, (void)l;
    return read_only(w, fd);
}

static uint32_t wasi_path_remove_directory(hv_wasi_t *w, uint32_t fd, uint32_t p, uint32_t l)
{
    (void)p, (void)l;
    return read_only(w, fd);
}

static uint32_t wasi_path_unlink_file(hv_wasi_t *w, uint32_t fd, uint32_t p, uint32_t l)
{
    (void)p, (void)l;
    return read_only(w, fd);
}

static uint32_t wasi_path_filestat_set_times(hv_wasi_t *w, uint32_t fd, uint32_t fl, uint32_t p,
                                             uint32_t l, uint64_t a, uint64_t m, uint32_t f)
{
    (void)fl, (void)p, (void)l, (void)a, (void)m, (void)f;
    return read_only(w, fd);
}

static uint32_t wasi_path_link(hv_wasi_t *w, uint32_t fd, uint32_t fl, uint32_t p, uint32_t l,
                               uint32_t fd2, uint32_t p2, uint32_t l2)
{
    (void)fl, (void)p, (void)l, (void)fd2, (void)p2, (void)l2;
    return read_only(w, fd);
}

static uint32_t wasi_path_rename(hv_wasi_t *w, uint32_t fd, uint32_t p, uint32_t l, uint32_t fd2,
                                 uint32_t p2, uint32_t l2)
{
    (void)p, (void)l, (void)fd2, (void)p2, (void)l2;
    return read_only(w, fd);
}

static uint32_t wasi_path_symlink(hv_wasi_t *w, uint32_t p, uint32_t l, uint32_t fd, uint32_t p2,
                                  uint32_t l2)
{
    (void)p, (void)l, (void)p2, (void)l2;
    return read_only(w, fd);
}

static uint32_t wasi_sock_accept(hv_wasi_t *w, uint32_t fd, uint32_t flags, uint32_t ret)
{
    (void)w, (void)fd, (void)flags, (void)ret;
    return WASI_ENOTSUP;
}

static uint32_t wasi_sock_recv(hv_wasi_t *w, uint32_t fd, uint32_t a, uint32_t b, uint32_t c,
                               uint32_t d, uint32_t e)
{
    (void)w, (void)fd, (void)a, (void)b, (void)c, (void)d, (void)e;
    return WASI_ENOTSUP;
}

static uint32_t wasi_sock_send(hv_wasi_t *w, uint32_t fd, uint32_t a, uint32_t b, uint32_t c,
                               uint32_t d)
{
    (void)w, (void)fd, (void)a, (void)b, (void)c, (void)d;
    return WASI_ENOTSUP;
}

static uint32_t wasi_sock_shutdown(hv_wasi_t *w, uint32_t fd, uint32_t how)
{
    (void)w, (void)fd, (void)how;
    return WASI_ENOTSUP;
}

WASI_EXPORT(path_create_directory, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c), (w, a, b, c))
WASI_EXPORT(path_remove_directory, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c), (w, a, b, c))
WASI_EXPORT(path_unlink_file, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c), (w, a, b, c))
WASI_EXPORT(path_filestat_set_times,
            (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint64_t e, uint64_t f,
             uint32_t g),
            (w, a, b, c, d, e, f, g))
WASI_EXPORT(path_link,
            (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f,
             uint32_t g),
            (w, a, b, c, d, e, f, g))
WASI_EXPORT(path_rename,
            (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f),
            (w, a, b, c, d, e, f))
WASI_EXPORT(path_symlink, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e),
            (w, a, b, c, d, e))
WASI_EXPORT(sock_accept, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c), (w, a, b, c))
WASI_EXPORT(sock_recv,
            (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f),
            (w, a, b, c, d, e, f))
WASI_EXPORT(sock_send, (hv_wasi_t * w, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e),
            (w, a, b, c, d, e))
WASI_EXPORT(sock_shutdown, (hv_wasi_t * w, uint32_t a, uint32_t b), (w, a, b))
